/**
 * Adding entries by identifier: fetch each record (fetch.ts), refuse what the file already has
 * (same DOI, same arXiv id, or same normalised title and year), give each new entry a key from the
 * pattern that is unique in the file, and write them all as one insertion at the end of the file in
 * the file's own style. The editor applies that insertion as one WorkspaceEdit (one undo step); the
 * CLI writes it atomically.
 */
import { entryArxivId, entryDoi } from '../doi';
import type { TextEdit } from '../bib/edit';
import { normalizeForMatch } from '../bib/latex';
import type { BibFile } from '../bib/parse';
import type { ScholarHttp } from '../net/http';
import type { MetadataPatch, Notice } from '../storage/metadata';
import type { WorkUpdate } from '../sources/types';
import { fetchRecord, type FetchOutcome } from './fetch';
import { renderEntry } from './format';
import { classifyIdentifier, splitIdentifiers, type IdInput } from './ids';
import { DEFAULT_KEY_PATTERN, keyFromPattern, uniqueKey } from './key';
import type { BibRecord } from './record';
import { detectStyle, type FileStyle } from './style';

export type AddOutcome = 'added' | 'duplicate' | 'not_found' | 'invalid' | 'mismatch' | 'failed';

export interface AddResult {
  /** The identifier as given. */
  id: string;
  outcome: AddOutcome;
  key?: string;
  /** The entry already in the file (outcome `duplicate`). */
  existingKey?: string;
  message?: string;
  record?: BibRecord;
}

export interface FetchedId {
  input: string;
  id: IdInput;
  result: FetchOutcome;
}

/** Fetches every identifier (a few at a time; the HTTP policy paces each service). Never throws for one bad id. */
export async function fetchIdentifiers(http: ScholarHttp, inputs: readonly string[], opts: { signal?: AbortSignal; concurrency?: number } = {}): Promise<FetchedId[]> {
  const ids = inputs.flatMap(splitIdentifiers);
  const out: FetchedId[] = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < ids.length; i = next++) {
      const id = classifyIdentifier(ids[i]);
      out[i] = { input: ids[i], id, result: await fetchRecord(http, id, opts.signal) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, Math.max(1, ids.length)) }, worker));
  return out;
}

const titleYear = (title: string, year: number | string | undefined) => `${normalizeForMatch(title)}|${year ?? ''}`;

export interface AddPlan {
  results: AddResult[];
  /** The one insertion (absent when nothing is added). */
  edit?: TextEdit;
  style: FileStyle;
}

/** Decides, for each fetched id, whether it is added (and with which key) and builds the insertion. */
export function planAdditions(file: BibFile, fetched: readonly FetchedId[], opts: { keyPattern?: string; /** The key for the first entry added (a key already cited), when free. */ key?: string } = {}): AddPlan {
  const style = detectStyle(file);
  const pattern = opts.keyPattern?.trim() || DEFAULT_KEY_PATTERN;
  const byDoi = new Map<string, string>();
  const byArxiv = new Map<string, string>();
  const byTitle = new Map<string, string>();
  const keys = new Set(file.entries.map((e) => e.key.toLowerCase()));
  for (const e of file.entries) {
    const d = entryDoi(e);
    if (d && !byDoi.has(d)) byDoi.set(d, e.key);
    const a = entryArxivId(e)?.replace(/v\d+$/, '').toLowerCase();
    if (a && !byArxiv.has(a)) byArxiv.set(a, e.key);
    const t = e.fields.get('title')?.value;
    const y = /\d{4}/.exec(e.fields.get('year')?.value ?? e.fields.get('date')?.value ?? '')?.[0];
    if (t && y) byTitle.set(titleYear(t, y), e.key);
  }
  const results: AddResult[] = [];
  const texts: string[] = [];
  for (const f of fetched) {
    if (!f.result.ok) {
      results.push({ id: f.input, outcome: f.result.outcome, message: f.result.message });
      continue;
    }
    const rec = f.result.record;
    const doi = rec.doi?.toLowerCase();
    const ax = rec.arxivId?.replace(/v\d+$/, '').toLowerCase();
    const existing = (doi && byDoi.get(doi)) || (ax && byArxiv.get(ax)) || (rec.year ? byTitle.get(titleYear(rec.title, rec.year)) : undefined);
    if (existing) {
      results.push({ id: f.input, outcome: 'duplicate', existingKey: existing, message: `already in the file as ${existing}`, record: rec });
      continue;
    }
    const wanted = opts.key && !texts.length && !keys.has(opts.key.toLowerCase()) ? opts.key : undefined;
    const key = wanted ?? uniqueKey(keyFromPattern(pattern, rec), (k) => keys.has(k.toLowerCase()));
    keys.add(key.toLowerCase());
    // Later ids of the same batch are duplicates of this one.
    if (doi) byDoi.set(doi, key);
    if (ax) byArxiv.set(ax, key);
    if (rec.year) byTitle.set(titleYear(rec.title, rec.year), key);
    texts.push(renderEntry(rec, key, style));
    results.push({ id: f.input, outcome: 'added', key, record: rec });
  }
  if (!texts.length) return { results, style };
  const text = file.text;
  const eol = style.eol;
  const sep = style.blankLineBetween ? eol + eol : eol;
  let prefix = '';
  if (text.length && !/\n$/.test(text)) prefix = eol;
  if (text.trim().length && style.blankLineBetween && !/\n[ \t]*\r?\n$/.test(prefix ? text + prefix : text)) prefix += eol;
  return { results, style, edit: { offset: text.length, length: 0, text: prefix + texts.join(sep) + eol } };
}

/** Crossref's update types as the notices metadata.json keeps (the same mapping the fetch job uses). */
export function noticesFrom(updates: readonly WorkUpdate[], source: string): Notice[] {
  return updates.map((u) => ({
    type: u.type === 'retraction' || u.type === 'withdrawal' || u.type === 'removal' ? 'retraction' : u.type === 'correction' || u.type === 'erratum' || u.type === 'corrigendum' ? 'correction' : u.type === 'expression_of_concern' ? 'expression_of_concern' : 'other',
    ...(u.doi ? { doi: u.doi } : {}),
    ...(u.date ? { date: u.date } : {}),
    source,
  }));
}

/** What metadata.json records about an added entry, each field with the registry that gave it. */
export function addedMetadata(rec: BibRecord): MetadataPatch {
  const prov: Record<string, string> = {};
  const patch: MetadataPatch = { provenance: prov };
  const set = <K extends keyof MetadataPatch>(k: K, v: MetadataPatch[K] | undefined) => {
    if (v === undefined || v === '' || (Array.isArray(v) && !v.length)) return;
    patch[k] = v;
    prov[k as string] = rec.source;
  };
  set('doi', rec.doi);
  set('title', rec.title);
  set('authors', rec.authors.map((a) => ({ family: a.particle ? `${a.particle} ${a.family}` : a.family, ...(a.given ? { given: a.given } : {}) })));
  set('year', rec.year);
  set('venue', rec.container);
  set('type', rec.type);
  if (rec.arxivId) patch.identifiers = { arxiv: rec.arxivId };
  const notices = noticesFrom(rec.updates, rec.source);
  if (notices.length) set('notices', notices);
  return patch;
}
