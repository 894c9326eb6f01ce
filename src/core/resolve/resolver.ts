/**
 * Finding the DOI of one .bib entry: identifiers already in the entry first, then Crossref's
 * bibliographic search, then OpenAlex and Semantic Scholar when Crossref has no confident hit, and
 * arXiv for preprints. Every candidate goes through the same scoring function (match/score.ts).
 */
import type { BibEntry, BibFile } from '../bib/parse';
import { entryArxivId, extractDoi, isValidDoi, normalizeDoi } from '../doi';
import { hasOptOut } from '../bib/edit';
import type { ScholarHttp } from '../net/http';
import * as crossref from '../sources/crossref';
import * as openalex from '../sources/openalex';
import * as s2 from '../sources/semanticScholar';
import * as arxiv from '../sources/arxiv';
import { singleLookups, type IdLookups } from './lookups';
import type { WorkRecord } from '../sources/types';
import { entryFacts } from '../match/facts';
import { describeVersion, isPreprintDoi, workForm, type CitedVersion, type WorkVersion } from '../match/version';
import * as doiOrg from '../sources/doi';
import { decide, describeReasons, scoreCandidate, THRESHOLDS, type Decision, type EntryFacts, type ScoredCandidate } from '../match/score';
import { tryService } from '../errors';
import { shouldAsk, type FallbackRule } from './plausible';

export type ResolveOutcome =
  /** A confident DOI was found and can be written. */
  | 'accept'
  /** Candidates exist but a human must choose. */
  | 'review'
  | 'not_found'
  /** The entry already has a DOI (checked, when asked to, and found right). */
  | 'has_doi'
  /** The entry's DOI does not exist (Crossref and doi.org both say so) or is malformed. */
  | 'doi_unknown'
  /** The entry's DOI names another work (title and authors disagree). */
  | 'doi_mismatch'
  /** The entry opted out (`scholar = {skip}`) or has nothing to search with. */
  | 'skipped'
  | 'failed';

export interface CandidateSummary {
  doi: string;
  title: string;
  year?: number;
  venue?: string;
  authors: string;
  source: string;
  score: number;
  reasons: string;
  /** preprint / published / unknown, as the candidate's record states it. */
  version: WorkVersion;
  /** false: another version than the one the entry cites (shown for review, never accepted). */
  versionOk: boolean | null;
}

/** A published version known for a cited preprint: what the upgrade step can offer. */
export interface PublishedVersion {
  doi: string;
  title?: string;
  venue?: string;
  year?: number;
  /** Where the link comes from, strongest first: `arxiv-doi`, `arxiv-journal-ref`, `crossref-relation`; `title-search` for a report's, thesis's or conference paper's later form found by its title and authors alone. */
  evidence: string[];
}

export interface ResolveResult {
  key: string;
  outcome: ResolveOutcome;
  /** accept: the DOI to write. has_doi / doi_unknown / doi_mismatch: the entry's own DOI. */
  doi?: string;
  score?: number;
  /** Where the accepted DOI came from: `entry-url`, `crossref`, `openalex`, `semanticScholar`, `arxiv`. */
  source?: string;
  why: string;
  /** Best candidates, best first (at most 5). */
  candidates: CandidateSummary[];
  /** The work record behind the chosen DOI, for metadata.json. */
  work?: WorkRecord;
  arxivId?: string;
  /** The version the entry cites. */
  cited?: CitedVersion;
  /** For entries that already carry a DOI: what checking it found. */
  existing?: { doi: string; status: 'ok' | 'malformed' | 'unknown' | 'mismatch'; score?: number; title?: string; /** A lookup was made (not just read from the entry). */ checked?: boolean };
  /** doi_unknown / doi_mismatch: the DOI the normal search found with confidence, if any. */
  replacement?: { doi: string; score: number; source: string; title: string; work?: WorkRecord };
  /** A cited preprint's published version when a source links them, or (review) the later journal or conference form of a cited report, thesis or conference paper; never written by resolve. */
  published?: PublishedVersion;
  /** Transient services that failed on the way (the result may improve on retry). */
  errors?: { service: string; code: string; message: string }[];
}

export interface ResolveOptions {
  /** Also check entries that already have a DOI: it exists, and it is still the same work. */
  checkExisting?: boolean;
  /** Sources used after Crossref (default all). */
  fallbacks?: ('openalex' | 'semanticScholar' | 'arxiv')[];
  /** Which entries the fallbacks after Crossref are asked for (default `plausible`, resolve/plausible.ts). */
  fallbackRule?: FallbackRule;
  signal?: AbortSignal;
  /** How arXiv ids and DOIs are looked up (a job batches them); default one request each. */
  lookups?: IdLookups;
}

function summarize(s: ScoredCandidate<WorkRecord>): CandidateSummary {
  const c = s.candidate;
  return {
    doi: c.doi!,
    title: c.title,
    year: c.year,
    venue: c.venue,
    authors: c.authors
      .slice(0, 3)
      .map((a) => a.family)
      .join(', ') + (c.authors.length > 3 ? ' et al.' : ''),
    source: c.source,
    score: Math.round(s.score * 1000) / 1000,
    reasons: describeReasons(s.reasons),
    version: s.reasons.version,
    versionOk: s.reasons.versionOk,
  };
}

function searchText(f: EntryFacts): { bibliographic: string; author?: string } {
  // Crossref's bibliographic query wants the whole reference; the title dominates its ranking.
  const parts = [f.title, f.authors.slice(0, 3).join(' '), f.year ? String(f.year) : '', f.isPreprint ? '' : (f.venue ?? '')];
  return { bibliographic: parts.filter(Boolean).join(' ').slice(0, 500), author: f.authors[0] };
}

const attempt = <T>(service: string, errors: NonNullable<ResolveResult['errors']>, fn: () => Promise<T>, signal?: AbortSignal) => tryService(service, errors, fn, signal);

/**
 * A report, thesis or conference paper whose only match is a later journal article (or a conference
 * paper, or a chapter) of its title and authors: what it may have become, for the user to cite
 * instead. Reported with the review, never written: that the report "was published as" the article
 * is a change of what is cited, the Upgrade step's kind of decision, not a DOI to fill in.
 */
function laterForm(d: Decision<WorkRecord>): PublishedVersion | undefined {
  const b = d.outcome === 'review' ? d.best : undefined;
  const f = b?.reasons.otherForm;
  if (!b || !f || !b.candidate.doi || !['report', 'thesis', 'conference'].includes(f.cited) || !['article', 'conference', 'chapter', 'paper'].includes(f.work)) return undefined;
  if (b.reasons.title < THRESHOLDS.acceptTitle || b.reasons.firstAuthor === false || (b.reasons.yearDelta ?? 0) < 0) return undefined;
  return { doi: b.candidate.doi, title: b.candidate.title, venue: b.candidate.venue, year: b.candidate.year, evidence: ['title-search'] };
}

function fromDecision(key: string, d: Decision<WorkRecord>, extra: Partial<ResolveResult> = {}): ResolveResult {
  const candidates = d.ranked.slice(0, 5).map(summarize);
  if (d.outcome === 'not_found' || !d.best) return { key, outcome: 'not_found', why: d.why, candidates, ...extra };
  const later = laterForm(d);
  if (later && !extra.published) extra = { ...extra, published: later };
  return {
    key,
    outcome: d.outcome,
    doi: d.outcome === 'accept' ? d.best.candidate.doi : undefined,
    score: d.best.score,
    source: d.best.candidate.source,
    why: d.why,
    candidates,
    work: d.best.candidate,
    ...extra,
  };
}

const ARXIV_DOI = /^10\.48550\/arxiv\.(.+)$/i;
const arxivDoi = (id: string) => `10.48550/arxiv.${id}`.toLowerCase();

/** The arXiv record as the arXiv-DOI work it is (the feed's `doi` is the published version's). */
function asArxivWork(r: WorkRecord, id: string): WorkRecord {
  const published = r.doi && !ARXIV_DOI.test(r.doi) ? r.doi : undefined;
  return {
    ...r,
    doi: arxivDoi(r.arxivId ?? id),
    type: 'posted-content',
    version: 'preprint',
    venue: 'arXiv',
    relations: published ? [{ type: 'is-preprint-of', id: published }] : undefined,
  };
}

function publishedFromArxiv(r: WorkRecord): PublishedVersion | undefined {
  if (!r.doi || ARXIV_DOI.test(r.doi)) return undefined;
  return { doi: r.doi, venue: r.venue, evidence: r.venue ? ['arxiv-doi', 'arxiv-journal-ref'] : ['arxiv-doi'] };
}

function publishedFromRelations(w: WorkRecord | undefined): PublishedVersion | undefined {
  const rel = w?.relations?.find((r) => r.type === 'is-preprint-of' && /^10\./.test(r.id) && !isPreprintDoi(r.id));
  return rel ? { doi: rel.id, evidence: ['crossref-relation'] } : undefined;
}

/**
 * Whether a DOI's record names the entry's work. A different title, or clearly different authors,
 * means the DOI belongs to another work (a typo that hit another DOI, or a copy-paste from the wrong entry).
 */
function namesAnotherWork(s: ScoredCandidate<WorkRecord>): boolean {
  const r = s.reasons;
  return r.title < 0.75 || (r.firstAuthor === false && (r.authorOverlap ?? 0) < 0.5) || (r.firstAuthor === false && r.title < 0.9);
}

type Existing = NonNullable<ResolveResult['existing']>;

/**
 * Checks the DOI an entry carries with one singleton lookup: arXiv DOIs at arXiv, the rest at Crossref,
 * and a DOI Crossref does not know at doi.org (DataCite, mEDRA … register DOIs too). Only "both say it
 * does not exist" makes a DOI unknown; a failed lookup is a failure, retried later, never a verdict.
 */
async function checkExistingDoi(
  http: ScholarHttp,
  look: IdLookups,
  facts: EntryFacts,
  doi: string,
  errors: NonNullable<ResolveResult['errors']>,
  signal?: AbortSignal,
): Promise<{ existing: Existing; work?: WorkRecord; scored?: ScoredCandidate<WorkRecord>; why: string } | undefined> {
  const ax = ARXIV_DOI.exec(doi)?.[1];
  let work: WorkRecord | null | undefined;
  if (ax) {
    const recs = await attempt('arxiv', errors, () => look.arxivById(ax, signal), signal);
    if (recs === undefined) return undefined;
    const r = recs.find((x) => x.arxivId?.toLowerCase() === ax.toLowerCase()) ?? recs[0];
    work = r ? asArxivWork(r, ax) : null;
  } else {
    work = await attempt('crossref', errors, () => look.crossrefByDoi(doi, signal), signal);
    if (work === undefined) return undefined;
  }
  if (work === null) {
    if (ax) return { existing: { doi, status: 'unknown' }, why: 'arXiv has no paper with this id' };
    const h = await attempt('doi', errors, () => doiOrg.handle(http, doi, signal), signal);
    if (h === undefined) return undefined;
    if (h.exists) return { existing: { doi, status: 'ok', checked: true }, why: 'registered outside Crossref (doi.org knows it); not compared' };
    return { existing: { doi, status: 'unknown' }, why: 'neither Crossref nor doi.org knows this DOI' };
  }
  const s = scoreCandidate(facts, work);
  // The other version of the cited work (a preprint DOI on a journal citation, or the other way
  // round) is as wrong a DOI as another paper's: it changes what is cited.
  // A form the entry does not cite (a journal DOI on an @inproceedings) is not a verdict on a DOI the
  // user wrote: journals publish conference papers (ACM TOG for SIGGRAPH), and only a search is kept from it.
  const otherVersion = !namesAnotherWork(s) && s.reasons.version !== 'unknown' && s.reasons.versionOk === false && !s.reasons.otherForm;
  const mismatch = namesAnotherWork(s) || otherVersion;
  const why = otherVersion
    ? s.reasons.otherServer
      ? `the DOI names a copy on ${s.reasons.otherServer}, another preprint server than the entry cites`
      : `the DOI names the ${describeVersion(s.reasons.version)} of this work; the entry cites the ${describeVersion(facts.cited ?? 'unknown')}`
    : mismatch
      ? `the DOI names another work: "${work.title}"`
      : 'the DOI matches the entry';
  return {
    existing: { doi, status: mismatch ? 'mismatch' : 'ok', score: s.score, title: work.title, checked: true },
    work,
    scored: s,
    why,
  };
}

/** Resolves one entry. Never throws for a service failure: it reports `failed` with the reasons. */
export async function resolveEntry(http: ScholarHttp, file: BibFile, entry: BibEntry, opts: ResolveOptions = {}): Promise<ResolveResult> {
  const { signal } = opts;
  const key = entry.key;
  if (hasOptOut(entry)) return { key, outcome: 'skipped', why: 'the entry opts out (scholar = {skip})', candidates: [] };
  const facts = entryFacts(file, entry);
  const cited = facts.cited;
  const errors: NonNullable<ResolveResult['errors']> = [];
  const arxivId = entryArxivId(entry);
  const errs = () => (errors.length ? errors : undefined);

  const doiField = entry.fields.get('doi')?.value.trim();
  let bad: { existing: Existing; why: string; candidate?: CandidateSummary } | undefined;
  if (doiField) {
    const doi = normalizeDoi(doiField);
    const malformed = !isValidDoi(doi);
    if (!opts.checkExisting) {
      if (malformed) return { key, outcome: 'has_doi', why: 'the doi field is malformed', candidates: [], cited, existing: { doi: doiField, status: 'malformed' } };
      return { key, outcome: 'has_doi', doi, why: 'already has a DOI', candidates: [], cited, existing: { doi, status: 'ok' } };
    }
    if (malformed) bad = { existing: { doi: doiField, status: 'malformed' }, why: 'the doi field is not a DOI' };
    else {
      const c = await checkExistingDoi(http, opts.lookups ?? singleLookups(http), facts, doi, errors, signal);
      if (!c) return { key, outcome: 'failed', why: 'could not check the DOI', candidates: [], cited, errors };
      if (c.existing.status === 'ok') {
        return { key, outcome: 'has_doi', doi, score: c.scored?.score, why: c.why, candidates: c.scored ? [summarize(c.scored)] : [], work: c.work, cited, existing: c.existing, arxivId };
      }
      bad = { existing: c.existing, why: c.why, candidate: c.scored ? summarize(c.scored) : undefined };
    }
    if (!facts.title) {
      return { key, outcome: bad.existing.status === 'mismatch' ? 'doi_mismatch' : 'doi_unknown', doi: bad.existing.doi, why: bad.why, candidates: bad.candidate ? [bad.candidate] : [], cited, existing: bad.existing, errors: errs() };
    }
    // A wrong DOI: look for the right one the normal way, and offer it as a replacement.
    const found = await searchEntry(http, entry, facts, arxivId, errors, opts, bad.existing.doi);
    const out: ResolveResult = {
      key,
      outcome: bad.existing.status === 'mismatch' ? 'doi_mismatch' : 'doi_unknown',
      doi: bad.existing.doi,
      why: bad.why,
      candidates: found.candidates,
      cited,
      existing: bad.existing,
      arxivId,
      published: found.published,
      errors: errs(),
    };
    if (found.outcome === 'accept' && found.doi && found.doi.toLowerCase() !== bad.existing.doi.toLowerCase()) {
      out.replacement = { doi: found.doi, score: found.score ?? 0, source: found.source ?? 'crossref', title: found.work?.title ?? '', work: found.work };
      out.why += `; the right DOI is ${found.doi}`;
    }
    return out;
  }
  return searchEntry(http, entry, facts, arxivId, errors, opts);
}

/** Finding a DOI for an entry that has none (or whose own DOI is wrong: `exclude`). */
async function searchEntry(
  http: ScholarHttp,
  entry: BibEntry,
  facts: EntryFacts,
  arxivId: string | undefined,
  errors: NonNullable<ResolveResult['errors']>,
  opts: ResolveOptions,
  exclude?: string,
): Promise<ResolveResult> {
  const { signal } = opts;
  const key = entry.key;
  const cited = facts.cited;
  const errs = () => (errors.length ? errors : undefined);
  const notExcluded = (w: WorkRecord) => !exclude || w.doi?.toLowerCase() !== exclude.toLowerCase();

  // 1. A DOI hidden in url / note / howpublished: verify it names this work, and this version, then take it.
  for (const name of ['url', 'note', 'howpublished']) {
    const v = entry.fields.get(name)?.value;
    const found = v ? extractDoi(v) : undefined;
    if (!found || (exclude && found.toLowerCase() === exclude.toLowerCase()) || ARXIV_DOI.test(found)) continue;
    const work = await attempt('crossref', errors, () => crossref.workByDoi(http, found, signal), signal);
    if (work) {
      const s = scoreCandidate(facts, work);
      // A DOI the user put in the entry is theirs to choose between forms (as in the doi field); not between preprint and published.
      if (s.reasons.title >= 0.8 && !s.reasons.penalty && (s.reasons.versionOk !== false || !!s.reasons.otherForm)) {
        return { key, outcome: 'accept', doi: work.doi ?? found, score: s.score, source: `entry-${name}`, why: `DOI found in the ${name} field`, candidates: [summarize(s)], work, arxivId, cited, errors: errs() };
      }
    }
  }

  if (!facts.title) return { key, outcome: 'skipped', why: 'the entry has no title to search with', candidates: [], cited, errors: errs() };

  const pool: WorkRecord[] = [];
  let published: PublishedVersion | undefined;
  // 2. An arXiv id. A citation of the preprint gets the arXiv DOI once arXiv confirms the id names
  //    this work; the published version arXiv links to is reported, not written. A citation of the
  //    journal version uses the id to reach the journal DOI.
  if (arxivId && (!opts.fallbacks || opts.fallbacks.includes('arxiv'))) {
    const look = opts.lookups ?? singleLookups(http);
    const recs = await attempt('arxiv', errors, () => look.arxivById(arxivId, signal), signal);
    if (recs === undefined && cited !== 'published') {
      // Without arXiv's word the id is unconfirmed, and the search below would only find other versions.
      return { key, outcome: 'failed', why: 'could not confirm the arXiv id', candidates: [], arxivId, cited, errors };
    }
    const r = (recs ?? []).find((x) => x.arxivId?.toLowerCase() === arxivId.toLowerCase()) ?? recs?.[0];
    if (r) {
      const preprint = asArxivWork(r, arxivId);
      published = publishedFromArxiv(r);
      if (cited !== 'published') {
        const s = scoreCandidate(facts, preprint);
        if (s.reasons.title >= THRESHOLDS.acceptTitle && s.reasons.firstAuthor !== false && !s.reasons.penalty && notExcluded(preprint)) {
          return {
            key,
            outcome: 'accept',
            doi: preprint.doi,
            score: s.score,
            source: 'arxiv',
            why: `the arXiv id ${arxivId} names this work (confirmed by the arXiv API)`,
            candidates: [summarize(s)],
            work: preprint,
            arxivId,
            cited,
            published,
            errors: errs(),
          };
        }
      }
      pool.push(preprint);
      if (published) {
        const pub = await attempt('crossref', errors, () => crossref.workByDoi(http, published!.doi, signal), signal);
        if (pub) {
          pool.push(pub);
          published = { ...published, title: pub.title, venue: pub.venue ?? published.venue, year: pub.year };
        }
      }
    }
  }

  // 3. Crossref bibliographic search.
  const q = searchText(facts);
  const cr = await attempt('crossref', errors, () => crossref.searchBibliographic(http, { ...q, rows: 5 }, signal), signal);
  pool.push(...(cr ?? []));
  let d = decide(facts, pool.filter(notExcluded));
  if (d.outcome === 'accept') return withPublished(fromDecision(key, d, { arxivId, cited, errors: errs() }), published);

  // 4. OpenAlex and Semantic Scholar when Crossref has nothing confident.
  const fallbacks = opts.fallbacks ?? ['openalex', 'semanticScholar', 'arxiv'];
  const rule = opts.fallbackRule ?? 'plausible';
  if (fallbacks.includes('openalex') && shouldAsk(rule, entry, facts, 'openalex')) pool.push(...((await attempt('openalex', errors, () => openalex.searchByTitle(http, facts.title, { rows: 5, signal }), signal)) ?? []));
  if (rule !== 'all') {
    // A confident OpenAlex match needs no slow request (`all` keeps the old order: one decision over every source).
    d = decide(facts, pool.filter(notExcluded));
    if (d.outcome === 'accept') return withPublished(fromDecision(key, d, { arxivId, cited, errors: errs() }), published);
  }
  if (fallbacks.includes('semanticScholar') && shouldAsk(rule, entry, facts, 'semanticScholar')) {
    const m = await attempt('semanticScholar', errors, () => s2.searchMatch(http, facts.title, signal), signal);
    if (m) pool.push(m);
  }
  // arXiv's title search can only find arXiv preprints: of no use to a citation of another server's.
  if (facts.isPreprint && !arxivId && (!facts.preprintServer || facts.preprintServer === 'arxiv') && fallbacks.includes('arxiv') && shouldAsk(rule, entry, facts, 'arxiv')) {
    const recs = await attempt('arxiv', errors, () => arxiv.searchTitle(http, facts.title, { rows: 3, signal }), signal);
    for (const r of recs ?? []) if (r.arxivId) pool.push(asArxivWork(r, r.arxivId));
  }
  d = decide(facts, pool.filter(notExcluded));
  // Semantic Scholar's match gives no type for reports and theses (and merges a work's versions): when
  // the form matters, the DOI's own Crossref record says which form it is before it is written.
  const b = d.outcome === 'accept' ? d.best?.candidate : undefined;
  if (b?.doi && facts.form && !workForm(b) && !ARXIV_DOI.test(b.doi)) {
    const rec = await attempt('crossref', errors, () => (opts.lookups ?? singleLookups(http)).crossrefByDoi(b.doi!, signal), signal);
    if (rec === undefined) return { key, outcome: 'failed', why: 'could not confirm the form of the matched work at Crossref', candidates: d.ranked.slice(0, 5).map(summarize), arxivId, cited, errors };
    if (rec?.type) d = decide(facts, pool.filter(notExcluded).map((w) => (w === b ? { ...w, type: rec.type, relations: rec.relations ?? w.relations } : w)));
  }
  const result = withPublished(fromDecision(key, d, { arxivId, cited, errors: errs() }), published);
  // Every service failed and nothing was found: a retry may succeed, so it is a failure, not "not found".
  if (result.outcome === 'not_found' && errors.length > 0 && pool.length === 0) {
    return { ...result, outcome: 'failed', why: `services failed: ${errors.map((e) => `${e.service} ${e.code}`).join(', ')}` };
  }
  return result;
}

/** A cited preprint's published version: from arXiv, or from the accepted preprint's own Crossref relation. */
function withPublished(r: ResolveResult, published: PublishedVersion | undefined): ResolveResult {
  if (r.cited !== 'preprint') return r;
  const p = published ?? (r.outcome === 'accept' ? publishedFromRelations(r.work) : undefined);
  return p ? { ...r, published: p } : r;
}

export { THRESHOLDS };
