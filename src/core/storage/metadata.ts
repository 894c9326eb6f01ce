/**
 * metadata.json, schema v1: the source of truth for one library entry (the index is a cache).
 */
import { ScholarError } from '../errors';

export const METADATA_SCHEMA_VERSION = 1 as const;

/** `doi_unknown` / `doi_mismatch`: the entry's own DOI was checked and found wrong (awaits the user). */
export type MatchOutcome = 'accepted' | 'review' | 'not_found' | 'manual' | 'no_doi' | 'doi_unknown' | 'doi_mismatch';
/** `manual`: the file names neither the DOI nor the title, and the user chose to keep it. */
export type PdfVerification = 'doi' | 'title' | 'unverified' | 'mismatch' | 'manual';
export type NoticeType = 'retraction' | 'correction' | 'expression_of_concern' | 'withdrawal' | 'other';

export interface Author {
  family: string;
  given?: string;
}

export interface Identifiers {
  arxiv?: string;
  pmid?: string;
  openalex?: string;
  s2?: string;
}

export interface MatchCandidate {
  doi?: string;
  title?: string;
  year?: number;
  score: number;
  source?: string;
}

export interface MatchInfo {
  score: number;
  outcome: MatchOutcome;
  source?: string;
  candidates?: MatchCandidate[];
  /** doi_unknown / doi_mismatch: the DOI text the entry carried when it was found wrong. */
  replaces?: string;
  /** doi_unknown / doi_mismatch: the confident replacement, when the search found one. */
  replacement?: string;
  /** What was wrong with the DOI, in words. */
  why?: string;
}

export interface PdfInfo {
  sourceUrl: string;
  source: string;
  license?: string;
  version?: string;
  sha256: string;
  size: number;
  pages?: number;
  retrievedAt: string;
  verified: PdfVerification;
}

export interface Notice {
  type: NoticeType;
  doi?: string;
  date?: string;
  source: string;
}

/**
 * A published version found for a cited preprint (Upgrade Preprints), kept so that its diagnostic
 * survives a reload without asking the services again. Void once the entry's text changes.
 */
export interface UpgradeInfo {
  outcome: 'upgraded' | 'review';
  /** sha256 (hex) of the entry's text (from `@` to its closing delimiter) when proposed. */
  entryHash: string;
  at: string;
  from: { doi?: string; arxivId?: string };
  to: { doi: string; title: string; type?: string; venue?: string; year?: number; volume?: string; issue?: string; pages?: string; publisher?: string };
  /** Evidence kinds, strongest first (core/upgrade/evidence.ts EvidenceKind). */
  evidence: string[];
  why: string;
}

export interface Metadata {
  schemaVersion: 1;
  key: string;
  originalKey?: string;
  doi?: string;
  identifiers: Identifiers;
  title?: string;
  authors?: Author[];
  year?: number;
  venue?: string;
  type?: string;
  abstract?: string;
  /** field name -> source that supplied it (crossref, openalex, bib, user, …) */
  provenance: Record<string, string>;
  match?: MatchInfo;
  /** The DOI the entry carries, last checked (it exists and names this work) at `at`. */
  doiCheck?: { doi: string; at: string };
  pdf?: PdfInfo;
  notices?: Notice[];
  tags?: string[];
  upgrade?: UpgradeInfo;
  updatedAt: string;
}

/**
 * A change to apply. `identifiers` and `provenance` are merged key by key; every other field is
 * replaced. `null` removes an optional field (or an identifier/provenance entry); `undefined`
 * leaves it alone. `key` and `schemaVersion` cannot be patched.
 */
export type MetadataPatch = {
  [K in Exclude<keyof Metadata, 'key' | 'schemaVersion' | 'identifiers' | 'provenance'>]?: Metadata[K] | null;
} & {
  identifiers?: { [K in keyof Identifiers]?: string | null };
  provenance?: Record<string, string | null>;
};

const MATCH_OUTCOMES: readonly string[] = ['accepted', 'review', 'not_found', 'manual', 'no_doi', 'doi_unknown', 'doi_mismatch'];
const VERIFICATIONS: readonly string[] = ['doi', 'title', 'unverified', 'mismatch', 'manual'];
const NOTICE_TYPES: readonly string[] = ['retraction', 'correction', 'expression_of_concern', 'withdrawal', 'other'];
const IDENTIFIER_KINDS = ['arxiv', 'pmid', 'openalex', 's2'] as const;

class Checker {
  constructor(private readonly where: string) {}
  fail(field: string, expected: string, got: unknown): never {
    const shown = got === undefined ? 'undefined' : JSON.stringify(got)?.slice(0, 80);
    throw new ScholarError('E_BAD_METADATA', `${this.where}: ${field} must be ${expected}, got ${shown}`, { field });
  }
  obj(v: unknown, field: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, 'an object', v);
    return v as Record<string, unknown>;
  }
  str(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, 'a string', v);
    return v;
  }
  optStr(v: unknown, field: string): string | undefined {
    return v === undefined ? undefined : this.str(v, field);
  }
  num(v: unknown, field: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'a finite number', v);
    return v;
  }
  optNum(v: unknown, field: string): number | undefined {
    return v === undefined ? undefined : this.num(v, field);
  }
  oneOf<T extends string>(v: unknown, allowed: readonly string[], field: string): T {
    if (typeof v !== 'string' || !allowed.includes(v)) this.fail(field, `one of ${allowed.join('|')}`, v);
    return v as T;
  }
  arr(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'an array', v);
    return v;
  }
}

function stripUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Checks an untrusted value (parsed JSON) and returns a clean copy; throws E_BAD_METADATA. */
export function validateMetadata(input: unknown, where = 'metadata'): Metadata {
  const c = new Checker(where);
  const o = c.obj(input, '(root)');
  if (o.schemaVersion !== METADATA_SCHEMA_VERSION) c.fail('schemaVersion', String(METADATA_SCHEMA_VERSION), o.schemaVersion);
  const key = c.str(o.key, 'key');
  if (key.length === 0) c.fail('key', 'a non-empty string', key);

  const idsIn = o.identifiers === undefined ? {} : c.obj(o.identifiers, 'identifiers');
  const identifiers: Identifiers = {};
  for (const k of IDENTIFIER_KINDS) {
    const v = c.optStr(idsIn[k], `identifiers.${k}`);
    if (v !== undefined) identifiers[k] = v;
  }

  const provIn = o.provenance === undefined ? {} : c.obj(o.provenance, 'provenance');
  const provenance: Record<string, string> = {};
  for (const [k, v] of Object.entries(provIn)) provenance[k] = c.str(v, `provenance.${k}`);

  let authors: Author[] | undefined;
  if (o.authors !== undefined) {
    authors = c.arr(o.authors, 'authors').map((a, i) => {
      const ao = c.obj(a, `authors[${i}]`);
      return stripUndefined({ family: c.str(ao.family, `authors[${i}].family`), given: c.optStr(ao.given, `authors[${i}].given`) });
    });
  }

  let match: MatchInfo | undefined;
  if (o.match !== undefined) {
    const m = c.obj(o.match, 'match');
    match = stripUndefined({
      score: c.num(m.score, 'match.score'),
      outcome: c.oneOf<MatchOutcome>(m.outcome, MATCH_OUTCOMES, 'match.outcome'),
      source: c.optStr(m.source, 'match.source'),
      replaces: c.optStr(m.replaces, 'match.replaces'),
      replacement: c.optStr(m.replacement, 'match.replacement'),
      why: c.optStr(m.why, 'match.why'),
      candidates:
        m.candidates === undefined
          ? undefined
          : c.arr(m.candidates, 'match.candidates').map((x, i) => {
              const f = `match.candidates[${i}]`;
              const co = c.obj(x, f);
              return stripUndefined({
                doi: c.optStr(co.doi, `${f}.doi`),
                title: c.optStr(co.title, `${f}.title`),
                year: c.optNum(co.year, `${f}.year`),
                score: c.num(co.score, `${f}.score`),
                source: c.optStr(co.source, `${f}.source`),
              });
            }),
    });
  }

  let pdf: PdfInfo | undefined;
  if (o.pdf !== undefined) {
    const p = c.obj(o.pdf, 'pdf');
    const sha256 = c.str(p.sha256, 'pdf.sha256');
    if (!/^[0-9a-f]{64}$/.test(sha256)) c.fail('pdf.sha256', '64 lowercase hex digits', sha256);
    const size = c.num(p.size, 'pdf.size');
    if (!Number.isInteger(size) || size < 0) c.fail('pdf.size', 'a non-negative integer', size);
    pdf = stripUndefined({
      sourceUrl: c.str(p.sourceUrl, 'pdf.sourceUrl'),
      source: c.str(p.source, 'pdf.source'),
      license: c.optStr(p.license, 'pdf.license'),
      version: c.optStr(p.version, 'pdf.version'),
      sha256,
      size,
      pages: c.optNum(p.pages, 'pdf.pages'),
      retrievedAt: c.str(p.retrievedAt, 'pdf.retrievedAt'),
      verified: c.oneOf<PdfVerification>(p.verified, VERIFICATIONS, 'pdf.verified'),
    });
  }

  let doiCheck: Metadata['doiCheck'];
  if (o.doiCheck !== undefined) {
    const d = c.obj(o.doiCheck, 'doiCheck');
    doiCheck = { doi: c.str(d.doi, 'doiCheck.doi'), at: c.str(d.at, 'doiCheck.at') };
  }

  let notices: Notice[] | undefined;
  if (o.notices !== undefined) {
    notices = c.arr(o.notices, 'notices').map((x, i) => {
      const no = c.obj(x, `notices[${i}]`);
      return stripUndefined({
        type: c.oneOf<NoticeType>(no.type, NOTICE_TYPES, `notices[${i}].type`),
        doi: c.optStr(no.doi, `notices[${i}].doi`),
        date: c.optStr(no.date, `notices[${i}].date`),
        source: c.str(no.source, `notices[${i}].source`),
      });
    });
  }

  let upgrade: UpgradeInfo | undefined;
  if (o.upgrade !== undefined) {
    const u = c.obj(o.upgrade, 'upgrade');
    const t = c.obj(u.to, 'upgrade.to');
    const f = u.from === undefined ? {} : c.obj(u.from, 'upgrade.from');
    const entryHash = c.str(u.entryHash, 'upgrade.entryHash');
    if (!/^[0-9a-f]{64}$/.test(entryHash)) c.fail('upgrade.entryHash', '64 lowercase hex digits', entryHash);
    upgrade = {
      outcome: c.oneOf<UpgradeInfo['outcome']>(u.outcome, ['upgraded', 'review'], 'upgrade.outcome'),
      entryHash,
      at: c.str(u.at, 'upgrade.at'),
      from: stripUndefined({ doi: c.optStr(f.doi, 'upgrade.from.doi'), arxivId: c.optStr(f.arxivId, 'upgrade.from.arxivId') }),
      to: stripUndefined({
        doi: c.str(t.doi, 'upgrade.to.doi'),
        title: c.str(t.title, 'upgrade.to.title'),
        type: c.optStr(t.type, 'upgrade.to.type'),
        venue: c.optStr(t.venue, 'upgrade.to.venue'),
        year: c.optNum(t.year, 'upgrade.to.year'),
        volume: c.optStr(t.volume, 'upgrade.to.volume'),
        issue: c.optStr(t.issue, 'upgrade.to.issue'),
        pages: c.optStr(t.pages, 'upgrade.to.pages'),
        publisher: c.optStr(t.publisher, 'upgrade.to.publisher'),
      }),
      evidence: c.arr(u.evidence, 'upgrade.evidence').map((x, i) => c.str(x, `upgrade.evidence[${i}]`)),
      why: c.str(u.why, 'upgrade.why'),
    };
  }

  let tags: string[] | undefined;
  if (o.tags !== undefined) tags = c.arr(o.tags, 'tags').map((t, i) => c.str(t, `tags[${i}]`));

  const year = c.optNum(o.year, 'year');
  if (year !== undefined && !Number.isInteger(year)) c.fail('year', 'an integer', year);

  return stripUndefined({
    schemaVersion: METADATA_SCHEMA_VERSION,
    key,
    originalKey: c.optStr(o.originalKey, 'originalKey'),
    doi: c.optStr(o.doi, 'doi'),
    identifiers,
    title: c.optStr(o.title, 'title'),
    authors,
    year,
    venue: c.optStr(o.venue, 'venue'),
    type: c.optStr(o.type, 'type'),
    abstract: c.optStr(o.abstract, 'abstract'),
    provenance,
    match,
    doiCheck,
    pdf,
    notices,
    tags,
    upgrade,
    updatedAt: c.str(o.updatedAt, 'updatedAt'),
  });
}

/** A fresh, empty entry for `key`. */
export function emptyMetadata(key: string, updatedAt = new Date().toISOString()): Metadata {
  return { schemaVersion: METADATA_SCHEMA_VERSION, key, identifiers: {}, provenance: {}, updatedAt };
}

function mergeRecord(base: Record<string, string>, patch: Record<string, string | null | undefined>): Record<string, string> {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * Applies `patch` to `a` (neither is mutated). Patching is associative in the way the writer
 * needs: merge(merge(a, p1), p2) equals what p1 then p2 mean, so coalesced patches apply in order.
 */
export function mergeMetadata(a: Metadata, patch: MetadataPatch): Metadata {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'key' || k === 'schemaVersion' || v === undefined) continue;
    if (k === 'identifiers') {
      out.identifiers = mergeRecord(a.identifiers as Record<string, string>, v as Record<string, string | null>);
    } else if (k === 'provenance') {
      out.provenance = mergeRecord(a.provenance, v as Record<string, string | null>);
    } else if (k === 'updatedAt') {
      if (v !== null) out.updatedAt = v;
    } else if (v === null) {
      delete out[k];
    } else {
      out[k] = v;
    }
  }
  return out as unknown as Metadata;
}
