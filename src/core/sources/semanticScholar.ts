// Semantic Scholar Graph API: https://api.semanticscholar.org/api-docs/graph
import type { ScholarHttp } from '../net/http';
import type { OaLocation, WorkRecord } from './types';
import { splitName, str } from './util';
import { doiPath, parseDoi } from '../doi';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const S2_FIELDS = 'title,authors,year,venue,journal,externalIds,publicationTypes,publicationDate,isOpenAccess,openAccessPdf';

const TYPE_MAP: Record<string, string> = {
  JournalArticle: 'journal-article',
  Conference: 'proceedings-article',
  Review: 'journal-article',
  Book: 'book',
  BookSection: 'book-chapter',
  Dataset: 'dataset',
};

export function parseS2Paper(p: Json): WorkRecord {
  const ext = p.externalIds ?? {};
  const oaUrl = str(p.openAccessPdf?.url);
  const oa: OaLocation[] = [];
  if (oaUrl) {
    const l: OaLocation = { pdfUrl: oaUrl, source: 'semanticScholar' };
    if (p.openAccessPdf?.license) l.license = String(p.openAccessPdf.license);
    if (p.openAccessPdf?.status) l.hostType = String(p.openAccessPdf.status).toLowerCase();
    oa.push(l);
  }
  const types: string[] = Array.isArray(p.publicationTypes) ? p.publicationTypes : [];
  const rec: WorkRecord = {
    source: 'semanticScholar',
    doi: parseDoi(ext.DOI),
    title: String(p.title ?? '').trim(),
    authors: (Array.isArray(p.authors) ? p.authors : []).map((a: Json) => splitName(String(a.name ?? ''))).filter((a: { family: string }) => a.family),
    year: typeof p.year === 'number' ? p.year : undefined,
    venue: str(p.journal?.name) ?? str(p.venue),
    type: types.map((t) => TYPE_MAP[t]).find(Boolean),
    volume: str(p.journal?.volume),
    pages: str(p.journal?.pages)?.replace(/\s*-\s*/, '-'),
    arxivId: str(ext.ArXiv),
    pmid: str(ext.PubMed),
    oaLocations: oa.length ? oa : undefined,
    license: str(p.openAccessPdf?.license),
    score: typeof p.matchScore === 'number' ? p.matchScore : undefined,
  };
  return Object.fromEntries(Object.entries(rec).filter(([, v]) => v !== undefined)) as unknown as WorkRecord;
}

function headers(http: ScholarHttp): Record<string, string> {
  const key = http.apiKey('semanticScholar');
  return key ? { 'x-api-key': key } : {};
}

/** Best title match; null when S2 answers 404 "Title match not found". */
export async function searchMatch(http: ScholarHttp, title: string, signal?: AbortSignal): Promise<WorkRecord | null> {
  const body = await http.getJson<{ data?: Json[] }>('semanticScholar', '/graph/v1/paper/search/match', {
    query: { query: title, fields: S2_FIELDS },
    headers: headers(http),
    nullOn: [404],
    bucket: 'search',
    signal,
  });
  const first = body?.data?.[0];
  return first ? parseS2Paper(first) : null;
}

export async function paperByDoi(http: ScholarHttp, doi: string, signal?: AbortSignal): Promise<WorkRecord | null> {
  const body = await http.getJson<Json>('semanticScholar', `/graph/v1/paper/DOI:${doiPath(doi)}`, {
    query: { fields: S2_FIELDS },
    headers: headers(http),
    nullOn: [404],
    signal,
  });
  return body ? parseS2Paper(body) : null;
}

/** The paper S2 knows under an arXiv id (`ARXIV:<id>`); its externalIds name the published DOI when S2 links the two. */
export async function paperByArxiv(http: ScholarHttp, arxivId: string, signal?: AbortSignal): Promise<WorkRecord | null> {
  const body = await http.getJson<Json>('semanticScholar', `/graph/v1/paper/ARXIV:${encodeURIComponent(arxivId).replace(/%2F/gi, '/')}`, {
    query: { fields: S2_FIELDS },
    headers: headers(http),
    nullOn: [404],
    signal,
  });
  return body ? parseS2Paper(body) : null;
}

/** The most ids Semantic Scholar takes in one batch request. */
export const S2_BATCH_MAX = 500;

/**
 * Many papers in one request: `POST /graph/v1/paper/batch` with `{"ids": ["DOI:…", "ARXIV:…"]}`.
 * Unlike the singleton form, the answer is a JSON array in the order of the ids, with `null` where
 * S2 knows no paper (no 404). Keys of the map are the ids as given (DOIs lower-cased by the caller).
 */
export async function papersByIds(http: ScholarHttp, ids: readonly string[], signal?: AbortSignal): Promise<Map<string, WorkRecord>> {
  const list = [...new Set(ids)];
  if (list.length > S2_BATCH_MAX) throw new RangeError(`at most ${S2_BATCH_MAX} ids per Semantic Scholar batch`);
  const out = new Map<string, WorkRecord>();
  if (!list.length) return out;
  const res = await http.request('semanticScholar', '/graph/v1/paper/batch', {
    method: 'POST',
    jsonBody: { ids: list },
    query: { fields: S2_FIELDS },
    headers: headers(http),
    signal,
  });
  const body = res.json<unknown>();
  if (!Array.isArray(body)) return out;
  // Positional: the i-th answer is the i-th id's.
  body.forEach((p, i) => {
    if (p && typeof p === 'object' && i < list.length) out.set(list[i], parseS2Paper(p as Json));
  });
  return out;
}

export const s2DoiId = (doi: string) => `DOI:${doi.toLowerCase()}`;
