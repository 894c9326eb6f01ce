/**
 * Fetching the record behind one identifier: doi.org content negotiation (CSL-JSON from whichever
 * agency registered the DOI), the arXiv API for arXiv ids, the landing page's meta tags for a
 * publisher URL, and OpenAlex when the agency cannot be reached.
 */
import { extractDoi } from '../doi';
import { errorCode, errorMessage, isAbortError, ScholarError } from '../errors';
import type { ScholarHttp } from '../net/http';
import * as arxiv from '../sources/arxiv';
import * as doiOrg from '../sources/doi';
import * as openalex from '../sources/openalex';
import { titleSimilarity } from '../match/score';
import { doiFromLandingPage, titleFromLandingPage, type IdInput } from './ids';
import { recordFromCsl, recordFromWork, type BibRecord } from './record';

export type FetchOutcome =
  | { ok: true; record: BibRecord; /** A landing page's DOI, when the input was a URL. */ doi?: string }
  | { ok: false; outcome: 'not_found' | 'invalid' | 'failed' | 'mismatch'; message: string; code?: string };

async function byDoi(http: ScholarHttp, doi: string, signal?: AbortSignal): Promise<FetchOutcome> {
  let cnError: unknown;
  try {
    const csl = await doiOrg.cslJson(http, doi, signal);
    if (csl === null) return { ok: false, outcome: 'not_found', message: `doi.org does not know ${doi}` };
    const rec = recordFromCsl(csl);
    if (rec.title) return { ok: true, record: { ...rec, doi: rec.doi ?? doi } };
    cnError = new ScholarError('E_NO_TITLE', 'the registry record has no title');
  } catch (err) {
    if (isAbortError(err) || signal?.aborted) throw err;
    // doi.org answers 400 for a DOI that cannot exist.
    if (errorCode(err) === 'E_HTTP_STATUS' && /\b400\b/.test(errorMessage(err))) return { ok: false, outcome: 'invalid', message: `doi.org refuses ${doi} as malformed` };
    cnError = err;
  }
  // The agency was not reachable (or answered nonsense): OpenAlex knows most Crossref and DataCite DOIs.
  try {
    const w = await openalex.workByDoi(http, doi, signal);
    if (w?.title) return { ok: true, record: { ...recordFromWork(w), doi } };
  } catch (err) {
    if (isAbortError(err) || signal?.aborted) throw err;
  }
  return { ok: false, outcome: 'failed', message: `could not read ${doi}: ${errorMessage(cnError)}`, code: errorCode(cnError) };
}

async function byArxiv(http: ScholarHttp, id: string, signal?: AbortSignal): Promise<FetchOutcome> {
  try {
    const recs = await arxiv.byIds(http, [id], signal);
    const w = recs.find((r) => r.arxivId?.toLowerCase() === id.toLowerCase()) ?? recs[0];
    if (!w) return { ok: false, outcome: 'not_found', message: `arXiv does not know ${id}` };
    return { ok: true, record: recordFromWork({ ...w, arxivId: w.arxivId ?? id }) };
  } catch (err) {
    if (isAbortError(err) || signal?.aborted) throw err;
    if (errorCode(err) === 'E_HTTP_STATUS' && /\b400\b/.test(errorMessage(err))) return { ok: false, outcome: 'invalid', message: `arXiv refuses ${id} as malformed` };
    return { ok: false, outcome: 'failed', message: `could not read arXiv ${id}: ${errorMessage(err)}`, code: errorCode(err) };
  }
}

async function byUrl(http: ScholarHttp, url: string, signal?: AbortSignal): Promise<FetchOutcome> {
  let doi: string | undefined;
  let pageTitle: string | undefined;
  let why = '';
  try {
    // Publisher hosts get the per-host PDF lane's politeness (2 req/s per host).
    const res = await http.request('pdf', url, { kind: 'html', signal, allowStatus: [404, 410] });
    if (res.status === 404 || res.status === 410) why = `the page answered ${res.status}`;
    else {
      doi = doiFromLandingPage(res.text());
      pageTitle = titleFromLandingPage(res.text());
    }
    if (!doi && !why) why = 'the page names no DOI (no citation_doi or dc.identifier meta tag)';
  } catch (err) {
    if (isAbortError(err) || signal?.aborted) throw err;
    why = `the page could not be read: ${errorMessage(err)}`;
  }
  // Many publisher URLs carry the DOI in their path: the page being unreachable need not stop us.
  doi ??= extractDoi(url);
  if (!doi) return { ok: false, outcome: 'not_found', message: `${url}: ${why}` };
  const r = await byDoi(http, doi, signal);
  if (!r.ok) return r;
  // A page naming a DOI whose record is another work (a typo in the page's metadata) adds nothing.
  if (pageTitle && titleSimilarity(pageTitle, { title: r.record.title }) < 0.75) {
    return { ok: false, outcome: 'mismatch', message: `${url} is titled "${pageTitle}" but its DOI ${doi} names "${r.record.title}"` };
  }
  return { ...r, doi };
}

export async function fetchRecord(http: ScholarHttp, id: IdInput, signal?: AbortSignal): Promise<FetchOutcome> {
  switch (id.kind) {
    case 'invalid':
      return { ok: false, outcome: 'invalid', message: `${id.input}: ${id.reason}` };
    case 'doi':
      return byDoi(http, id.doi, signal);
    case 'arxiv':
      return byArxiv(http, id.arxivId, signal);
    case 'url':
      return byUrl(http, id.url, signal);
  }
}
