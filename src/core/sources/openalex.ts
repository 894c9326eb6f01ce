// OpenAlex works API: https://docs.openalex.org/api-entities/works
import type { ScholarHttp } from '../net/http';
import type { OaLocation, WorkRecord } from './types';
import { normVersion, splitName, str } from './util';
import { parseDoi } from '../doi';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function abstractFromInverted(idx: unknown): string | undefined {
  if (!idx || typeof idx !== 'object') return undefined;
  const words: string[] = [];
  for (const [w, positions] of Object.entries(idx as Record<string, number[]>)) for (const p of positions) words[p] = w;
  const s = words.filter((w) => w !== undefined).join(' ');
  return s || undefined;
}

function location(l: Json | null | undefined): OaLocation | undefined {
  if (!l || (!l.pdf_url && !l.landing_page_url)) return undefined;
  const out: OaLocation = { source: 'openalex' };
  if (l.pdf_url) out.pdfUrl = l.pdf_url;
  if (l.landing_page_url) out.landingUrl = l.landing_page_url;
  if (l.license) out.license = l.license;
  const v = normVersion(l.version);
  if (v) out.version = v;
  if (l.source?.type) out.hostType = l.source.type;
  return out;
}

const ARXIV_URL = /arxiv\.org\/(?:abs|pdf)\/([^?#]+?)(?:v\d+)?(?:\.pdf)?$/i;

export function parseOpenAlexWork(w: Json): WorkRecord {
  const doi = parseDoi(w.doi ?? w.ids?.doi);
  const authors = (Array.isArray(w.authorships) ? w.authorships : [])
    .map((a: Json) => splitName(String(a.raw_author_name ?? a.author?.display_name ?? '')))
    .filter((a: { family: string }) => a.family);
  const locs: OaLocation[] = [];
  const seen = new Set<string>();
  const add = (l?: OaLocation) => {
    if (!l) return;
    const k = `${l.pdfUrl ?? ''}|${l.landingUrl ?? ''}`;
    if (seen.has(k)) return;
    seen.add(k);
    locs.push(l);
  };
  add(location(w.best_oa_location));
  for (const l of Array.isArray(w.locations) ? w.locations : []) if (l?.is_oa) add(location(l));
  let arxivId: string | undefined;
  for (const l of Array.isArray(w.locations) ? w.locations : []) {
    const m = ARXIV_URL.exec(String(l?.landing_page_url ?? l?.pdf_url ?? ''));
    if (m) arxivId ??= m[1];
  }
  if (!arxivId && doi) arxivId = /^10\.48550\/arxiv\.(.+)$/.exec(doi)?.[1];
  const b = w.biblio ?? {};
  const pages = b.first_page ? (b.last_page && b.last_page !== b.first_page ? `${b.first_page}-${b.last_page}` : String(b.first_page)) : undefined;
  const pmid = str(w.ids?.pmid)?.replace(/^.*\//, '');
  const rec: WorkRecord = {
    source: 'openalex',
    doi,
    title: String(w.title ?? w.display_name ?? '').trim(),
    authors,
    year: typeof w.publication_year === 'number' ? w.publication_year : undefined,
    venue: str(w.primary_location?.source?.display_name),
    type: str(w.type_crossref) ?? str(w.type),
    // OpenAlex states the version: its own type "preprint", or a primary location that is the submitted version.
    version: w.type === 'preprint' || w.primary_location?.version === 'submittedVersion' ? 'preprint' : undefined,
    volume: str(b.volume),
    pages,
    arxivId,
    pmid,
    isRetracted: w.is_retracted === true ? true : undefined,
    abstract: abstractFromInverted(w.abstract_inverted_index),
    publisher: str(w.primary_location?.source?.host_organization_name),
    license: str(w.best_oa_location?.license) ?? str(w.primary_location?.license),
    oaLocations: locs.length ? locs : undefined,
    score: typeof w.relevance_score === 'number' ? w.relevance_score : undefined,
  };
  return Object.fromEntries(Object.entries(rec).filter(([, v]) => v !== undefined)) as unknown as WorkRecord;
}

function keyQuery(http: ScholarHttp): Record<string, string | undefined> {
  return { api_key: http.apiKey('openalex') };
}

/** Title search via `filter=title.search:` (commas would split the filter, so they become spaces). */
export async function searchByTitle(http: ScholarHttp, title: string, opts: { rows?: number; signal?: AbortSignal } = {}): Promise<WorkRecord[]> {
  const clean = title.replace(/[,|]/g, ' ').replace(/\s+/g, ' ').trim();
  const body = await http.getJson<{ results?: Json[] }>('openalex', '/works', {
    query: { filter: `title.search:${clean}`, 'per-page': opts.rows ?? 5, ...keyQuery(http) },
    bucket: 'search',
    signal: opts.signal,
  });
  return (body?.results ?? []).map(parseOpenAlexWork);
}

export async function workByDoi(http: ScholarHttp, doi: string, signal?: AbortSignal): Promise<WorkRecord | null> {
  const body = await http.getJson<Json>('openalex', `/works/https://doi.org/${encodeURIComponent(doi)}`, {
    query: keyQuery(http),
    nullOn: [404],
    signal,
  });
  return body ? parseOpenAlexWork(body) : null;
}

/** What locate and enrich read of a work; `select=` keeps the batch answer small. */
const BATCH_SELECT = 'id,doi,ids,title,display_name,authorships,publication_year,primary_location,best_oa_location,locations,type,type_crossref,is_retracted,biblio';

/** The most values OpenAlex takes in one OR filter. */
export const OPENALEX_BATCH_MAX = 100;

/**
 * Many works in one request: `filter=doi:A|B|…`. Unlike the singleton form, an unknown DOI is just
 * absent (no 404), the order is not the request's, and `per-page` must cover the count (default 25).
 * DOIs holding `|` or `,` would split the filter: the caller asks those one by one.
 */
export async function worksByDois(http: ScholarHttp, dois: readonly string[], signal?: AbortSignal): Promise<Map<string, WorkRecord>> {
  const ids = [...new Set(dois.map((d) => d.toLowerCase()))];
  if (ids.length > OPENALEX_BATCH_MAX) throw new RangeError(`at most ${OPENALEX_BATCH_MAX} DOIs per OpenAlex request`);
  if (ids.some((d) => /[|,]/.test(d))) throw new RangeError('a DOI with | or , cannot go into an OpenAlex filter');
  const body = await http.getJson<{ results?: Json[] }>('openalex', '/works', {
    query: { filter: `doi:${ids.join('|')}`, 'per-page': Math.max(ids.length, 1), select: BATCH_SELECT, ...keyQuery(http) },
    signal,
  });
  const out = new Map<string, WorkRecord>();
  for (const w of body?.results ?? []) {
    const rec = parseOpenAlexWork(w);
    if (rec.doi) out.set(rec.doi.toLowerCase(), rec);
  }
  return out;
}

export const batchableDoi = (doi: string) => !/[|,]/.test(doi);
