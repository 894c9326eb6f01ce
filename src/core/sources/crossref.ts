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
