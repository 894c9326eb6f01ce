/**
 * One registry record in the shape Add and Update need: every bibliographic field a .bib entry
 * can carry, in plain Unicode, with where it came from. Built from CSL-JSON (what doi.org content
 * negotiation returns for Crossref, DataCite and mEDRA DOIs), from a Crossref REST `message`
 * (nearly the same shape: arrays where CSL has strings), from arXiv's feed and from OpenAlex.
 */
import { normalizeDoi } from '../doi';
import type { WorkRecord, WorkUpdate } from '../sources/types';
import { stripTags } from '../sources/util';
import { decodeEntities } from '../entities';

export interface RecordName {
  family: string;
  given?: string;
  /** Particle kept with the family name when the record separates it ("van", "de"). */
  particle?: string;
  /** An organisation, written as one braced name. */
  literal?: boolean;
}

export type RecordSource = 'crossref' | 'datacite' | 'medra' | 'doi' | 'arxiv' | 'openalex';

export interface BibRecord {
  source: RecordSource;
  /** BibTeX entry type (`article`, `inproceedings`, `incollection`, `book`, `misc`, …). */
  type: string;
  /** The registry's own type, for the record. */
  registryType?: string;
  doi?: string;
  title: string;
  authors: RecordName[];
  editors: RecordName[];
  /** Journal for articles; book or proceedings title for parts of one. */
  container?: string;
  volume?: string;
  number?: string;
  /** `first-last` with a plain hyphen, or a single page / article number. */
  pages?: string;
  year?: number;
  month?: number;
  day?: number;
  /** Every year the record gives (issued, print, online): a local year equal to any of them is not wrong. */
  years: number[];
  publisher?: string;
  issn: string[];
  isbn: string[];
  url?: string;
  arxivId?: string;
  /** Notices from Crossref's `updated-by` (retraction, correction, expression of concern …). */
  updates: WorkUpdate[];
}

type Json = Record<string, unknown>;

/** `12 – 34` → `12-34`; `373-373` (a one-page range, as some registries write one page) → `373`. */
export function normPages(p: string): string {
  const s = p.replace(/\s*[-–—]+\s*/g, '-').trim();
  const m = /^(\w+)-(\w+)$/.exec(s);
  return m && m[1] === m[2] ? m[1] : s;
}

function text(v: unknown): string | undefined {
  const s = Array.isArray(v) ? v.find((x) => typeof x === 'string' && x.trim()) : v;
  if (typeof s === 'number') return String(s);
  if (typeof s !== 'string') return undefined;
  const t = decodeEntities(stripTags(s)).replace(/\s+/g, ' ').trim();
  return t || undefined;
}


function strings(v: unknown): string[] {
  if (typeof v === 'string') return v.split(/[,;]\s*|\s+/).filter(Boolean);
  if (Array.isArray(v)) return v.flatMap((x) => (typeof x === 'string' ? [x.trim()] : x && typeof x === 'object' && typeof (x as Json).value === 'string' ? [String((x as Json).value)] : [])).filter(Boolean);
  return [];
}

function names(v: unknown): RecordName[] {
  if (!Array.isArray(v)) return [];
  const out: RecordName[] = [];
  for (const a of v as Json[]) {
    if (!a || typeof a !== 'object') continue;
    const family = text(a.family);
    if (family) {
      const given = text(a.given);
      const particle = text(a['non-dropping-particle']);
      out.push({ family, ...(given ? { given } : {}), ...(particle ? { particle } : {}) });
      continue;
    }
    const lit = text(a.literal) ?? text(a.name);
    if (lit) out.push({ family: lit, literal: true });
  }
  return out;
}

function dateParts(v: unknown): number[] | undefined {
  const p = (v as { 'date-parts'?: unknown[][] } | undefined)?.['date-parts']?.[0];
  if (!Array.isArray(p) || typeof p[0] !== 'number' || !(p[0] > 0)) return undefined;
  return p.filter((x): x is number => typeof x === 'number');
}

/** CSL type or Crossref type → BibTeX type. */
export function bibTypeOf(t: string | undefined, hasContainer: boolean): string {
  switch (t) {
    case 'article-journal':
    case 'journal-article':
    case 'article-magazine':
    case 'article-newspaper':
      return 'article';
    case 'paper-conference':
    case 'proceedings-article':
      return 'inproceedings';
    case 'chapter':
    case 'book-chapter':
    case 'book-section':
    case 'book-part':
    case 'entry-encyclopedia':
    case 'entry-dictionary':
    case 'reference-entry':
      return hasContainer ? 'incollection' : 'misc';
    case 'book':
    case 'monograph':
    case 'edited-book':
    case 'reference-book':
      return 'book';
    case 'report':
      return 'techreport';
    case 'thesis':
    case 'dissertation':
      return 'phdthesis';
    case 'proceedings':
      return 'proceedings';
    default:
      return 'misc';
  }
}

function updatesOf(v: unknown): WorkUpdate[] {
  if (!Array.isArray(v)) return [];
  const out: WorkUpdate[] = [];
  for (const u of v as Json[]) {
    const doi = normalizeDoi(String(u?.DOI ?? ''));
    const when = dateParts(u?.updated);
    out.push({
      type: String(u?.type ?? 'unknown').toLowerCase(),
      ...(doi ? { doi } : {}),
      ...(typeof u?.label === 'string' ? { label: u.label } : {}),
      ...(when ? { date: when.map((n, i) => (i ? String(n).padStart(2, '0') : String(n))).join('-') } : {}),
    });
  }
  return out;
}

/** Which agency answered a content-negotiation request, from the record itself. */
function agencyOf(csl: Json): RecordSource {
  const src = String(csl.source ?? '').toLowerCase();
  if (src.includes('crossref') || csl['reference-count'] !== undefined || csl.member !== undefined) return 'crossref';
  if (src.includes('datacite') || /^https?:\/\/doi\.org\//i.test(String(csl.id ?? '')) || String(csl.DOI ?? '').startsWith('10.48550/')) return 'datacite';
  if (src.includes('medra')) return 'medra';
  return 'doi';
}

/**
 * A CSL-JSON record, or a Crossref REST work (`message`): Crossref's CSL is its REST record with
 * strings for its one-element arrays, so one reader serves both.
 */
export function recordFromCsl(csl: Json, source?: RecordSource): BibRecord {
  const title = [text(csl.title), text(csl.subtitle)].filter(Boolean);
  const mainTitle = title[0] ?? '';
  // A subtitle that the title already ends with is not repeated.
  const fullTitle = title[1] && !mainTitle.toLowerCase().includes(title[1].toLowerCase()) ? `${mainTitle.replace(/[:.]\s*$/, '')}: ${title[1]}` : mainTitle;
  const container = text(csl['container-title']);
  const registryType = typeof csl.type === 'string' ? csl.type : undefined;
  const issued = dateParts(csl.issued) ?? dateParts(csl['published-print']) ?? dateParts(csl['published-online']) ?? dateParts(csl.published);
  const years = [...new Set(['issued', 'published-print', 'published-online', 'published'].map((k) => dateParts(csl[k])?.[0]).filter((y): y is number => !!y))];
  const page = text(csl.page) ?? text(csl['article-number']);
  const doi = normalizeDoi(String(csl.DOI ?? ''));
  const arxiv = doi ? /^10\.48550\/arxiv\.(.+)$/i.exec(doi)?.[1] : undefined;
  const rec: BibRecord = {
    source: source ?? agencyOf(csl),
    type: bibTypeOf(registryType, !!container),
    registryType,
    // Written as the registry spells it; compared in lower case.
    doi: doi ? String(csl.DOI).trim().replace(/^https?:\/\/(dx\.)?doi\.org\//i, '') : undefined,
    title: fullTitle,
    authors: names(csl.author),
    editors: names(csl.editor),
    container,
    volume: text(csl.volume),
    number: text(csl.issue) ?? text(csl.number),
    pages: page ? normPages(page) : undefined,
    year: issued?.[0],
    month: issued?.[1] && issued[1] >= 1 && issued[1] <= 12 ? issued[1] : undefined,
    day: issued?.[2],
    years,
    publisher: text(csl.publisher),
    issn: [...new Set(strings(csl.ISSN).map((s) => s.toUpperCase()))],
    isbn: [...new Set(strings(csl.ISBN))],
    url: typeof csl.URL === 'string' ? csl.URL : undefined,
    arxivId: arxiv,
    updates: updatesOf(csl['updated-by']),
  };
  // arXiv's DataCite records are preprints: `article` there means "a text", not a journal article.
  if (arxiv) rec.type = 'misc';
  return rec;
}

/** A record from a source client's WorkRecord (arXiv feed, OpenAlex): fewer fields than CSL. */
export function recordFromWork(w: WorkRecord): BibRecord {
  const pages = w.pages ? normPages(w.pages) : undefined;
  const isPreprint = w.source === 'arxiv' || w.type === 'posted-content';
  return {
    source: w.source === 'arxiv' ? 'arxiv' : 'openalex',
    type: isPreprint ? 'misc' : bibTypeOf(w.type, !!w.venue),
    registryType: w.type,
    doi: w.source === 'arxiv' ? (w.arxivId ? `10.48550/arXiv.${w.arxivId}` : undefined) : w.doi,
    title: w.subtitle ? `${w.title}: ${w.subtitle}` : w.title,
    authors: w.authors.map((a) => ({ family: a.family, ...(a.given ? { given: a.given } : {}) })),
    editors: [],
    // arXiv's journal_ref is free text about the published version, not this record's venue.
    container: w.source === 'arxiv' ? undefined : w.venue,
    volume: w.volume,
    pages,
    year: w.year,
    years: w.year ? [w.year] : [],
    publisher: w.source === 'arxiv' ? undefined : w.publisher,
    issn: [],
    isbn: [],
    arxivId: w.arxivId,
    updates: w.updates ?? [],
  };
}
