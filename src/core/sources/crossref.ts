// Crossref REST API: https://api.crossref.org/swagger-ui/index.html
import type { ScholarHttp } from '../net/http';
import type { WorkRecord, WorkUpdate } from './types';
import { firstString, str, stripTags } from './util';
import { parseDoi } from '../doi';

/** Fields requested with `select` on searches: enough to match and to show, far smaller than full records. */
export const CROSSREF_SEARCH_SELECT = [
  'DOI',
  'title',
  'subtitle',
  'author',
  'issued',
  'published-print',
  'published-online',
  'container-title',
  'type',
  'volume',
  'page',
  'publisher',
  'license',
  'updated-by',
  'update-to',
  'relation',
  'score',
].join(',');

export interface CrossrefSearch {
  bibliographic: string;
  author?: string;
  fromYear?: number;
  untilYear?: number;
  rows?: number;
}

type Json = Record<string, unknown>;

function year(item: Json): number | undefined {
  for (const k of ['issued', 'published-print', 'published-online', 'published']) {
    const parts = (item[k] as { 'date-parts'?: unknown[][] } | undefined)?.['date-parts'];
    const y = parts?.[0]?.[0];
    if (typeof y === 'number' && y > 0) return y;
  }
  return undefined;
}

function dateOf(v: unknown): string | undefined {
  const o = v as { 'date-time'?: string; 'date-parts'?: number[][] } | undefined;
  if (o?.['date-time']) return o['date-time'];
  const p = o?.['date-parts']?.[0];
  return p?.length ? p.map((n, i) => (i === 0 ? String(n) : String(n).padStart(2, '0'))).join('-') : undefined;
}

function updatesOf(v: unknown): WorkUpdate[] {
  if (!Array.isArray(v)) return [];
  return v
    .map((u: Json) => ({
      type: String(u.type ?? 'unknown').toLowerCase(),
      doi: parseDoi(u.DOI as string),
      label: str(u.label),
      date: dateOf(u.updated),
    }))
    .map((u) => Object.fromEntries(Object.entries(u).filter(([, x]) => x !== undefined)) as unknown as WorkUpdate);
}

const ARXIV_DOI = /^10\.48550\/arxiv\.(.+)$/i;

/** Normalises one Crossref work (`message` of /works/{doi} or an item of a work-list). */
export function parseCrossrefWork(item: Json): WorkRecord {
  const doi = parseDoi(item.DOI as string);
  const authors = Array.isArray(item.author)
    ? (item.author as Json[])
        .map((a) => (a.family ? { family: String(a.family).trim(), ...(a.given ? { given: String(a.given).trim() } : {}) } : a.name ? { family: String(a.name).trim() } : null))
        .filter((a): a is { family: string; given?: string } => !!a && !!a.family)
    : [];
  const updates = updatesOf(item['updated-by']);
  const relations: { type: string; id: string }[] = [];
  for (const u of updatesOf(item['update-to'])) if (u.doi) relations.push({ type: `update-to:${u.type}`, id: u.doi });
  const rel = item.relation as Record<string, { id?: string; 'id-type'?: string }[] | { id?: string }> | undefined;
  if (rel && typeof rel === 'object') {
    for (const [type, entries] of Object.entries(rel)) {
      for (const e of Array.isArray(entries) ? entries : [entries]) {
        if (!e?.id) continue;
        const id = (e as { 'id-type'?: string })['id-type'] === 'doi' ? (parseDoi(e.id) ?? e.id) : e.id;
        relations.push({ type, id });
      }
    }
  }
  const licenses = Array.isArray(item.license) ? (item.license as Json[]) : [];
  const license = str((licenses.find((l) => l['content-version'] === 'vor') ?? licenses[0])?.URL);
  let arxivId = doi ? ARXIV_DOI.exec(doi)?.[1] : undefined;
  if (!arxivId) for (const r of relations) if (r.type === 'has-preprint') arxivId ??= ARXIV_DOI.exec(r.id)?.[1];
  const title = firstString(item.title) ?? '';
  const isRetracted =
    updates.some((u) => u.type === 'retraction' || u.type === 'withdrawal' || u.type === 'removal') || /^\s*retracted\s*(article)?\s*:/i.test(title);
  const abstract = typeof item.abstract === 'string' ? stripTags(item.abstract).replace(/^abstract\s+/i, '') : undefined;
  const rec: WorkRecord = {
    source: 'crossref',
    doi,
    title: stripTags(title),
    subtitle: firstString(item.subtitle),
    authors,
    year: year(item),
    venue: firstString(item['container-title']),
    type: str(item.type),
    volume: str(item.volume),
    issue: str(item.issue),
    pages: str(item.page),
    arxivId,
    isRetracted: isRetracted || undefined,
    updates: updates.length ? updates : undefined,
    relations: relations.length ? relations : undefined,
    abstract: abstract || undefined,
    publisher: str(item.publisher),
    license,
    score: typeof item.score === 'number' ? item.score : undefined,
  };
  return Object.fromEntries(Object.entries(rec).filter(([, v]) => v !== undefined)) as unknown as WorkRecord;
}

export async function searchBibliographic(http: ScholarHttp, q: CrossrefSearch, signal?: AbortSignal): Promise<WorkRecord[]> {
  const filters: string[] = [];
  if (q.fromYear) filters.push(`from-pub-date:${q.fromYear}`);
  if (q.untilYear) filters.push(`until-pub-date:${q.untilYear}`);
  const body = await http.getJson<{ message?: { items?: Json[] } }>('crossref', '/works', {
    query: {
      'query.bibliographic': q.bibliographic,
      'query.author': q.author,
      filter: filters.length ? filters.join(',') : undefined,
      rows: q.rows ?? 5,
      select: CROSSREF_SEARCH_SELECT,
    },
    bucket: 'search',
    signal,
  });
  return (body?.message?.items ?? []).map(parseCrossrefWork);
}

/** Full record for one DOI; null when Crossref does not know it (404, e.g. DataCite DOIs). */
export async function workByDoi(http: ScholarHttp, doi: string, signal?: AbortSignal): Promise<WorkRecord | null> {
  const body = await http.getJson<{ message?: Json }>('crossref', `/works/${encodeURIComponent(doi)}`, { nullOn: [404], signal });
  return body?.message ? parseCrossrefWork(body.message) : null;
}

/** Crossref asks to keep request URLs short; this leaves room under its ~8 KB for the host, mailto and rows. */
const CROSSREF_FILTER_URL_MAX = 7500;
export const CROSSREF_BATCH_MAX = 100;

/** DOIs holding a comma would split the filter: those are asked one by one. */
export const crossrefBatchable = (doi: string) => !doi.includes(',');

/**
 * Many full records at once: `/works?filter=doi:A,doi:B,…` (a repeated filter ORs its values), with
 * `rows` covering the count. A list request (Crossref's list limit applies). Unknown DOIs are absent
 * (no 404) and the order is Crossref's, so answers are matched by their DOI. DOIs that would take the
 * URL past ~8 KB go into a further request.
 */
export async function worksByDois(http: ScholarHttp, dois: readonly string[], signal?: AbortSignal): Promise<Map<string, WorkRecord>> {
  const ids = [...new Set(dois.map((d) => d.toLowerCase()))];
  if (ids.some((d) => !crossrefBatchable(d))) throw new RangeError('a DOI with a comma cannot go into a Crossref filter');
  const chunks: string[][] = [];
  let cur: string[] = [];
  let len = 0;
  for (const d of ids) {
    const add = encodeURIComponent(`doi:${d},`).length;
    if (cur.length && (len + add > CROSSREF_FILTER_URL_MAX || cur.length >= CROSSREF_BATCH_MAX)) {
      chunks.push(cur);
      cur = [];
      len = 0;
    }
    cur.push(d);
    len += add;
  }
  if (cur.length) chunks.push(cur);
  const out = new Map<string, WorkRecord>();
  for (const chunk of chunks) {
    const body = await http.getJson<{ message?: { items?: Json[] } }>('crossref', '/works', {
      query: { filter: chunk.map((d) => `doi:${d}`).join(','), rows: chunk.length },
      signal,
    });
    for (const item of body?.message?.items ?? []) {
      // A filter list without a query carries a score that ranks nothing: not the record's.
      const { score: _score, ...rec } = parseCrossrefWork(item);
      if (rec.doi) out.set(rec.doi.toLowerCase(), rec);
    }
  }
  return out;
}
