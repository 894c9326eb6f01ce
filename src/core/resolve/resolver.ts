/**
 * Finding the DOI of one .bib entry: identifiers already in the entry first, then Crossref's
 * bibliographic search, then OpenAlex and Semantic Scholar when Crossref has no confident hit, and
 * arXiv for preprints. Every candidate goes through the same scoring function (match/score.ts).
 */
import type { BibEntry, BibFile } from '../bib/parse';
import { entryArxivId, extractDoi, isValidDoi, normalizeDoi } from '../bib/check';
import { hasOptOut } from '../bib/edit';
import type { ScholarHttp } from '../net/http';
import * as crossref from '../sources/crossref';
import * as openalex from '../sources/openalex';
import * as s2 from '../sources/semanticScholar';
import * as arxiv from '../sources/arxiv';
import type { WorkRecord } from '../sources/types';
import { entryFacts } from '../match/facts';
import { decide, describeReasons, scoreCandidate, THRESHOLDS, type Decision, type EntryFacts, type ScoredCandidate } from '../match/score';
import { errorCode, errorMessage, isAbortError } from '../errors';

export type ResolveOutcome =
  /** A confident DOI was found and can be written. */
  | 'accept'
  /** Candidates exist but a human must choose. */
  | 'review'
  | 'not_found'
  /** The entry already has a DOI (checked when asked to). */
  | 'has_doi'
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
}

export interface ResolveResult {
  key: string;
  outcome: ResolveOutcome;
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
  /** For entries that already carry a DOI: what checking it found. */
  existing?: { doi: string; status: 'ok' | 'malformed' | 'unknown' | 'mismatch'; score?: number; title?: string };
  /** Transient services that failed on the way (the result may improve on retry). */
  errors?: { service: string; code: string; message: string }[];
}

export interface ResolveOptions {
  /** Also check entries that already have a DOI: it exists, and it is still the same work. */
  checkExisting?: boolean;
  /** Sources used after Crossref (default all). */
  fallbacks?: ('openalex' | 'semanticScholar' | 'arxiv')[];
  signal?: AbortSignal;
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
  };
}

function searchText(f: EntryFacts): { bibliographic: string; author?: string } {
  // Crossref's bibliographic query wants the whole reference; the title dominates its ranking.
  const parts = [f.title, f.authors.slice(0, 3).join(' '), f.year ? String(f.year) : '', f.isPreprint ? '' : (f.venue ?? '')];
  return { bibliographic: parts.filter(Boolean).join(' ').slice(0, 500), author: f.authors[0] };
}

async function attempt<T>(service: string, errors: NonNullable<ResolveResult['errors']>, fn: () => Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (isAbortError(err) || signal?.aborted) throw err;
    errors.push({ service, code: errorCode(err), message: errorMessage(err) });
    return undefined;
  }
}

function fromDecision(key: string, d: Decision<WorkRecord>, extra: Partial<ResolveResult> = {}): ResolveResult {
  const candidates = d.ranked.slice(0, 5).map(summarize);
  if (d.outcome === 'not_found' || !d.best) return { key, outcome: 'not_found', why: d.why, candidates, ...extra };
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

/** Resolves one entry. Never throws for a service failure: it reports `failed` with the reasons. */
export async function resolveEntry(http: ScholarHttp, file: BibFile, entry: BibEntry, opts: ResolveOptions = {}): Promise<ResolveResult> {
  const { signal } = opts;
  const key = entry.key;
  if (hasOptOut(entry)) return { key, outcome: 'skipped', why: 'the entry opts out (scholar = {skip})', candidates: [] };
  const facts = entryFacts(file, entry);
  const errors: NonNullable<ResolveResult['errors']> = [];
  const arxivId = entryArxivId(entry);

  const doiField = entry.fields.get('doi')?.value.trim();
  if (doiField) {
    const doi = normalizeDoi(doiField);
    if (!isValidDoi(doi)) return { key, outcome: 'has_doi', why: 'the doi field is malformed', candidates: [], existing: { doi: doiField, status: 'malformed' } };
    if (!opts.checkExisting) return { key, outcome: 'has_doi', doi, why: 'already has a DOI', candidates: [], existing: { doi, status: 'ok' } };
    const work = await attempt('crossref', errors, () => crossref.workByDoi(http, doi, signal), signal);
    if (work === undefined) return { key, outcome: 'failed', why: 'could not check the DOI', candidates: [], errors };
    if (work === null) return { key, outcome: 'has_doi', doi, why: 'Crossref does not know this DOI', candidates: [], existing: { doi, status: 'unknown' } };
    const s = scoreCandidate(facts, work);
    const mismatch = s.reasons.title < 0.75 || (s.reasons.firstAuthor === false && s.reasons.title < 0.9);
    return {
      key,
      outcome: 'has_doi',
      doi,
      score: s.score,
      why: mismatch ? `the DOI points to another work: "${work.title}"` : 'the DOI matches the entry',
      candidates: [summarize(s)],
      work,
      existing: { doi, status: mismatch ? 'mismatch' : 'ok', score: s.score, title: work.title },
    };
  }

  // 1. A DOI hidden in url / note / howpublished: verify it names this work, then take it.
  for (const name of ['url', 'note', 'howpublished']) {
    const v = entry.fields.get(name)?.value;
    const found = v ? extractDoi(v) : undefined;
    if (!found) continue;
    const work = await attempt('crossref', errors, () => crossref.workByDoi(http, found, signal), signal);
    if (work) {
      const s = scoreCandidate(facts, work);
      if (s.reasons.title >= 0.8 && !s.reasons.penalty) {
        return { key, outcome: 'accept', doi: work.doi ?? found, score: s.score, source: `entry-${name}`, why: `DOI found in the ${name} field`, candidates: [summarize(s)], work, arxivId };
      }
    }
  }

  if (!facts.title) return { key, outcome: 'skipped', why: 'the entry has no title to search with', candidates: [], errors: errors.length ? errors : undefined };

  const pool: WorkRecord[] = [];
  // 2. An arXiv id: the published version's DOI if arXiv knows one, else the arXiv DOI.
  if (arxivId && (!opts.fallbacks || opts.fallbacks.includes('arxiv'))) {
    const recs = await attempt('arxiv', errors, () => arxiv.byIds(http, [arxivId], signal), signal);
    for (const r of recs ?? []) {
      if (r.doi && !/^10\.48550\//i.test(r.doi)) {
        const published = await attempt('crossref', errors, () => crossref.workByDoi(http, r.doi!, signal), signal);
        pool.push(published ?? r);
      }
      pool.push({ ...r, doi: r.doi && /^10\.48550\//i.test(r.doi) ? r.doi : `10.48550/arxiv.${r.arxivId ?? arxivId}`.toLowerCase() });
    }
  }

  // 3. Crossref bibliographic search.
  const q = searchText(facts);
  const cr = await attempt('crossref', errors, () => crossref.searchBibliographic(http, { ...q, rows: 5 }, signal), signal);
  pool.push(...(cr ?? []));
  let d = decide(facts, pool);
  if (d.outcome === 'accept') return fromDecision(key, d, { arxivId, errors: errors.length ? errors : undefined });

  // 4. OpenAlex and Semantic Scholar when Crossref has nothing confident.
  const fallbacks = opts.fallbacks ?? ['openalex', 'semanticScholar', 'arxiv'];
  if (fallbacks.includes('openalex')) pool.push(...((await attempt('openalex', errors, () => openalex.searchByTitle(http, facts.title, { rows: 5, signal }), signal)) ?? []));
  if (fallbacks.includes('semanticScholar')) {
    const m = await attempt('semanticScholar', errors, () => s2.searchMatch(http, facts.title, signal), signal);
    if (m) pool.push(m);
  }
  if (facts.isPreprint && !arxivId && fallbacks.includes('arxiv')) {
    const recs = await attempt('arxiv', errors, () => arxiv.searchTitle(http, facts.title, { rows: 3, signal }), signal);
    for (const r of recs ?? []) pool.push({ ...r, doi: r.doi ?? (r.arxivId ? `10.48550/arxiv.${r.arxivId}`.toLowerCase() : undefined) });
  }
  d = decide(facts, pool);
  const result = fromDecision(key, d, { arxivId, errors: errors.length ? errors : undefined });
  // Every service failed and nothing was found: a retry may succeed, so it is a failure, not "not found".
  if (result.outcome === 'not_found' && errors.length > 0 && pool.length === 0) {
    return { ...result, outcome: 'failed', why: `services failed: ${errors.map((e) => `${e.service} ${e.code}`).join(', ')}` };
  }
  return result;
}

export { THRESHOLDS };
