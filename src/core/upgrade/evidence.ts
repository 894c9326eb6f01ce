/**
 * Upgrade: proposing the published version of a cited preprint, graded by its evidence.
 *
 * Resolve never swaps versions (match/version.ts). Upgrading is a separate proposal, because
 * changing what an entry cites is a bigger step than filling in its DOI: a wrong upgrade silently
 * changes the cited year, venue and content. So every link from a preprint to a published DOI is
 * kept as a piece of evidence with its source, and a proposal is automatic only when
 *  - the preprint's own record links it (arXiv's `<arxiv:doi>`, or the preprint's Crossref
 *    `relation.is-preprint-of`), or two independent sources (arXiv, the Crossref relation, OpenAlex,
 *    Semantic Scholar, a Crossref search) name the same DOI; and
 *  - the scorer confirms, on the published record itself, that it has this entry's title and authors.
 * Anything weaker is `review`, with the evidence listed. A journal reference without a DOI (NeurIPS,
 * OpenReview …) is reported as such and never guessed.
 */
import type { BibEntry, BibFile } from '../bib/parse';
import { entryArxivId, extractDoi, normalizeDoi } from '../doi';
import { hasOptOut } from '../bib/edit';
import type { ScholarHttp } from '../net/http';
import * as arxiv from '../sources/arxiv';
import * as crossref from '../sources/crossref';
import * as openalex from '../sources/openalex';
import * as s2 from '../sources/semanticScholar';
import type { WorkRecord } from '../sources/types';
import { entryFacts } from '../match/facts';
import { describeReasons, scoreCandidate, THRESHOLDS, type EntryFacts, type ScoreReasons } from '../match/score';
import { isPreprintDoi, workVersion } from '../match/version';
import { tryService } from '../errors';

export type UpgradeOutcome = 'upgraded' | 'review' | 'none';

/** Where a link from the preprint to a published DOI comes from. */
export type EvidenceKind = 'arxiv-doi' | 'arxiv-journal-ref' | 'crossref-relation' | 'openalex-versions' | 's2-external-ids' | 'search';

/** The service behind each kind: arXiv's DOI and journal_ref are one source, not two. */
const SOURCE_OF: Record<EvidenceKind, string> = {
  'arxiv-doi': 'arxiv',
  'arxiv-journal-ref': 'arxiv',
  'crossref-relation': 'crossref-relation',
  'openalex-versions': 'openalex',
  's2-external-ids': 'semanticScholar',
  search: 'search',
};

/** Evidence from the preprint's own record: enough alone. */
const PRIMARY: ReadonlySet<EvidenceKind> = new Set(['arxiv-doi', 'crossref-relation']);

const EVIDENCE_TEXT: Record<EvidenceKind, string> = {
  'arxiv-doi': 'arXiv DOI link',
  'arxiv-journal-ref': 'arXiv journal_ref',
  'crossref-relation': 'Crossref relation',
  'openalex-versions': 'OpenAlex versions',
  's2-external-ids': 'Semantic Scholar',
  search: 'title and author search',
};

export function describeEvidence(kinds: readonly EvidenceKind[]): string {
  return kinds.map((k) => EVIDENCE_TEXT[k]).join(' + ');
}

/** The published version proposed, with what a rewrite of the entry needs. */
export interface UpgradeTarget {
  doi: string;
  title: string;
  /** Crossref type: journal-article, proceedings-article, book-chapter. */
  type?: string;
  venue?: string;
  year?: number;
  volume?: string;
  issue?: string;
  pages?: string;
  publisher?: string;
}

export interface UpgradeCandidate {
  doi: string;
  evidence: EvidenceKind[];
  title?: string;
  venue?: string;
  year?: number;
  /** The scorer's verdict on the published record against the entry (absent: the record could not be read). */
  confirmed?: boolean;
  score?: number;
  reasons?: string;
}

export interface UpgradeProposal {
  key: string;
  outcome: UpgradeOutcome;
  /** What the entry cites now: its preprint DOI and/or arXiv id. */
  from: { doi?: string; arxivId?: string };
  /** upgraded, and review when one candidate stands out: the published version. */
  to?: UpgradeTarget;
  /** Evidence for `to`, strongest first. */
  evidence: EvidenceKind[];
  why: string;
  /** Every published DOI some source named, with its evidence. */
  candidates: UpgradeCandidate[];
  /** A journal reference without a DOI (e.g. a NeurIPS paper): reported, never guessed. */
  journalRef?: string;
  errors?: { service: string; code: string; message: string }[];
}

export interface UpgradeOptions {
  signal?: AbortSignal;
  /** Sources after the preprint's own record (default all). */
  sources?: ('openalex' | 'semanticScholar' | 'search')[];
}

/** Crossref types an entry can be rewritten into (entry type and venue field). */
export const UPGRADABLE_TYPES: ReadonlySet<string> = new Set(['journal-article', 'proceedings-article', 'book-chapter']);

const ARXIV_DOI = /^10\.48550\/arxiv\.(.+)$/i;

interface Cand {
  doi: string;
  kinds: Set<EvidenceKind>;
  record?: WorkRecord | null;
  reasons?: ScoreReasons;
  score?: number;
  confirmed?: boolean;
}

/**
 * The scorer's view of a published record against a preprint citation. The citation's venue is the
 * server's and its year may be a year or more before publication, so the entry is scored as a preprint
 * (venue ignored, years within 3); the checks that decide are on title and authors.
 */
export function confirmPublished(facts: EntryFacts, rec: WorkRecord): { ok: boolean; score: number; reasons: ScoreReasons; why?: string } {
  const s = scoreCandidate({ ...facts, cited: 'unknown', isPreprint: true, preprintServer: undefined }, rec);
  const r = s.reasons;
  let why: string | undefined;
  if (workVersion(rec) !== 'published' || isPreprintDoi(rec.doi)) why = 'the linked record is not a published version';
  else if (r.penalty) why = `the linked record is a ${r.penalty}`;
  else if (r.title < THRESHOLDS.acceptTitle) why = `its title differs (${r.title.toFixed(2)})`;
  else if (r.firstAuthor !== true) why = r.firstAuthor === false ? 'its first author differs' : 'no authors to compare';
  else if ((r.authorOverlap ?? 0) < 0.5) why = 'most authors differ';
  else if (r.yearDelta !== null && (r.yearDelta < -1 || r.yearDelta > 5)) why = `its year is ${r.yearDelta > 0 ? '+' : ''}${r.yearDelta} from the preprint's`;
  else if (s.score < THRESHOLDS.review + 0.2) why = `score ${s.score.toFixed(2)}`;
  return { ok: !why, score: s.score, reasons: r, why };
}

/** The preprint an entry cites: its DOI (the doi field, or one in url/note/howpublished) and arXiv id. */
export function citedPreprint(entry: BibEntry): { doi?: string; arxivId?: string } {
  const arxivId = entryArxivId(entry)?.replace(/v\d+$/, '');
  let doi: string | undefined;
  const field = entry.fields.get('doi')?.value.trim();
  if (field && isPreprintDoi(normalizeDoi(field))) doi = normalizeDoi(field);
  if (!doi) {
    for (const n of ['url', 'note', 'howpublished']) {
      const d = extractDoi(entry.fields.get(n)?.value ?? '');
      if (d && isPreprintDoi(d)) {
        doi = d;
        break;
      }
    }
  }
  const ax = doi ? ARXIV_DOI.exec(doi)?.[1] : undefined;
  return { doi, arxivId: arxivId ?? ax };
}

function targetOf(rec: WorkRecord): UpgradeTarget {
  const t: UpgradeTarget = { doi: rec.doi!, title: rec.title, type: rec.type, venue: rec.venue, year: rec.year, volume: rec.volume, issue: rec.issue, pages: rec.pages, publisher: rec.publisher };
  return Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as unknown as UpgradeTarget;
}

function order(kinds: Iterable<EvidenceKind>): EvidenceKind[] {
  const rank: EvidenceKind[] = ['arxiv-doi', 'arxiv-journal-ref', 'crossref-relation', 'openalex-versions', 's2-external-ids', 'search'];
  return [...kinds].sort((a, b) => rank.indexOf(a) - rank.indexOf(b));
}

const sourcesOf = (c: Cand) => new Set([...c.kinds].map((k) => SOURCE_OF[k]));
const strongEnough = (c: Cand) => [...c.kinds].some((k) => PRIMARY.has(k)) || sourcesOf(c).size >= 2;

/** Proposes the published version of the preprint an entry cites. Never throws for a service failure. */
export async function proposeUpgrade(http: ScholarHttp, file: BibFile, entry: BibEntry, opts: UpgradeOptions = {}): Promise<UpgradeProposal> {
  const { signal } = opts;
  const key = entry.key;
  const from = citedPreprint(entry);
  const none = (why: string, extra: Partial<UpgradeProposal> = {}): UpgradeProposal => ({ key, outcome: 'none', from, evidence: [], why, candidates: [], ...extra });
  if (hasOptOut(entry)) return none('the entry opts out (scholar = {skip})');
  const facts = entryFacts(file, entry);
  if (facts.cited !== 'preprint') return none(facts.cited === 'published' ? 'the entry cites a published version' : 'the entry does not say it cites a preprint');
  if (!facts.title) return none('the entry has no title');

  const errors: NonNullable<UpgradeProposal['errors']> = [];
  const attempt = <T>(service: string, fn: () => Promise<T>): Promise<T | undefined> => tryService(service, errors, fn, signal);
  const cands = new Map<string, Cand>();
  const own = new Set([from.doi?.toLowerCase(), from.arxivId ? `10.48550/arxiv.${from.arxivId.toLowerCase()}` : undefined].filter(Boolean) as string[]);
  const note = (doi: string | undefined, kind: EvidenceKind) => {
    const d = doi ? normalizeDoi(doi) : undefined;
    if (!d || own.has(d) || isPreprintDoi(d)) return;
    const c = cands.get(d) ?? { doi: d, kinds: new Set<EvidenceKind>() };
    c.kinds.add(kind);
    cands.set(d, c);
  };
  let journalRef: string | undefined;

  // 1. The preprint's own record.
  if (from.arxivId) {
    const recs = await attempt('arxiv', () => arxiv.byIds(http, [from.arxivId!], signal));
    const r = recs?.find((x) => x.arxivId?.toLowerCase() === from.arxivId!.toLowerCase());
    if (r) {
      const linked = r.doi && !ARXIV_DOI.test(r.doi) ? r.doi : undefined;
      if (linked) {
        note(linked, 'arxiv-doi');
        if (r.venue) note(linked, 'arxiv-journal-ref');
      } else if (r.venue) journalRef = r.venue;
    }
  }
  if (from.doi && !ARXIV_DOI.test(from.doi)) {
    const pre = await attempt('crossref', () => crossref.workByDoi(http, from.doi!, signal));
    for (const rel of pre?.relations ?? []) if (rel.type === 'is-preprint-of' && /^10\./.test(rel.id)) note(rel.id, 'crossref-relation');
  }

  /** Reads the Crossref record of every candidate once and lets the scorer judge it. */
  const confirmAll = async () => {
    for (const c of cands.values()) {
      if (c.record === undefined) {
        // null: Crossref does not know the DOI; undefined: it could not be asked (a failure, not a verdict).
        const r = await attempt('crossref', () => crossref.workByDoi(http, c.doi, signal));
        if (r !== undefined) c.record = r;
      }
      if (c.record && c.confirmed === undefined) {
        const v = confirmPublished(facts, c.record);
        c.confirmed = v.ok;
        c.score = v.score;
        c.reasons = v.reasons;
      }
    }
  };
  await confirmAll();
  const primaryOk = [...cands.values()].filter((c) => c.confirmed && [...c.kinds].some((k) => PRIMARY.has(k)));

  // 2–4. Other sources, asked only when the preprint's own record did not settle it (S2 allows one request a second).
  if (primaryOk.length !== 1) {
    const want = opts.sources ?? ['openalex', 'semanticScholar', 'search'];
    if (want.includes('semanticScholar')) {
      const p = from.arxivId
        ? await attempt('semanticScholar', () => s2.paperByArxiv(http, from.arxivId!, signal))
        : from.doi
          ? await attempt('semanticScholar', () => s2.paperByDoi(http, from.doi!, signal))
          : undefined;
      // S2 merges versions into one paper: its DOI is the published one only when S2 also calls it a journal or conference paper.
      if (p?.doi && p.type && UPGRADABLE_TYPES.has(p.type)) note(p.doi, 's2-external-ids');
    }
    if (want.includes('search')) {
      const q = { bibliographic: [facts.title, facts.authors.slice(0, 3).join(' ')].filter(Boolean).join(' ').slice(0, 500), author: facts.authors[0], rows: 5 };
      const hits = await attempt('crossref', () => crossref.searchBibliographic(http, q, signal));
      for (const h of hits ?? []) {
        if (!h.doi || !h.type || !UPGRADABLE_TYPES.has(h.type) || workVersion(h) !== 'published') continue;
        // Only a hit the scorer confirms counts as a search finding; the rest are other works.
        if (confirmPublished(facts, h).ok) note(h.doi, 'search');
      }
    }
    await confirmAll();
    if (want.includes('openalex')) {
      for (const c of cands.values()) {
        if (!c.confirmed) continue;
        const w = await attempt('openalex', () => openalex.workByDoi(http, c.doi, signal));
        if (!w) continue;
        // OpenAlex groups a work's versions as locations of one work: the preprint must be one of them.
        const locs = (w.oaLocations ?? []).map((l) => `${l.landingUrl ?? ''} ${l.pdfUrl ?? ''}`.toLowerCase());
        const hasArxiv = !!from.arxivId && w.arxivId?.toLowerCase() === from.arxivId.toLowerCase();
        const hasDoi = !!from.doi && locs.some((l) => l.includes(from.doi!.toLowerCase()));
        if (hasArxiv || hasDoi) c.kinds.add('openalex-versions');
      }
    }
  }

  const all = [...cands.values()];
  const list: UpgradeCandidate[] = all
    .map((c) => ({
      doi: c.doi,
      evidence: order(c.kinds),
      title: c.record?.title,
      venue: c.record?.venue,
      year: c.record?.year,
      confirmed: c.record ? !!c.confirmed : undefined,
      score: c.score !== undefined ? Math.round(c.score * 1000) / 1000 : undefined,
      reasons: c.reasons ? describeReasons(c.reasons) : undefined,
    }))
    .sort((a, b) => Number(b.confirmed ?? false) - Number(a.confirmed ?? false) || b.evidence.length - a.evidence.length);
  const errs = errors.length ? errors : undefined;
  const base = { key, from, candidates: list, journalRef, errors: errs };

  const accepted = all.filter((c) => c.confirmed && strongEnough(c));
  if (accepted.length === 1 && all.filter((c) => c.confirmed).length === 1) {
    const c = accepted[0];
    const rec = c.record!;
    if (!rec.type || !UPGRADABLE_TYPES.has(rec.type)) {
      return { ...base, outcome: 'review', to: targetOf(rec), evidence: order(c.kinds), why: `the published version is a ${rec.type ?? 'work of unknown type'}; choose how to cite it` };
    }
    return { ...base, outcome: 'upgraded', to: targetOf(rec), evidence: order(c.kinds), why: `published as "${rec.title}"${rec.venue ? `, ${rec.venue}` : ''}${rec.year ? ` ${rec.year}` : ''} (evidence: ${describeEvidence(order(c.kinds))})` };
  }
  if (accepted.length > 1 || all.filter((c) => c.confirmed).length > 1) {
    return { ...base, outcome: 'review', evidence: [], why: `sources name ${all.filter((c) => c.confirmed).length} different published versions` };
  }
  const confirmed = all.find((c) => c.confirmed);
  if (confirmed) {
    return { ...base, outcome: 'review', to: targetOf(confirmed.record!), evidence: order(confirmed.kinds), why: `only ${describeEvidence(order(confirmed.kinds))} links it; one source is not enough` };
  }
  const linked = all.find((c) => c.kinds.size > 0 && !(c.kinds.size === 1 && c.kinds.has('search')));
  if (linked) {
    const why = linked.record === null ? 'Crossref does not know the linked DOI, so its title and authors cannot be checked' : linked.record ? (confirmPublished(facts, linked.record).why ?? 'not confirmed') : 'the linked record could not be read';
    return { ...base, outcome: 'review', evidence: order(linked.kinds), why: `${describeEvidence(order(linked.kinds))} names ${linked.doi}, but ${why}` };
  }
  if (journalRef) return { ...base, outcome: 'none', evidence: ['arxiv-journal-ref'], why: `arXiv says it appeared in "${journalRef}" but gives no DOI; Scholar does not guess one` };
  if (errors.length) return { ...base, outcome: 'none', evidence: [], why: `no published version found; services failed: ${errors.map((e) => `${e.service} ${e.code}`).join(', ')}` };
  return { ...base, outcome: 'none', evidence: [], why: 'no published version found' };
}
