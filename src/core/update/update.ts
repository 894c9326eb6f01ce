/**
 * Update Entries from DOI: each entry with a DOI is compared with its registry record (compare.ts)
 * and the proposals become minimal edits: every accepted field is written with planFieldUpsert, in
 * the entry's own layout, and the entry's edits are merged into one replacement of the bytes that
 * differ. Notices (retraction, correction, expression of concern) come with the same record.
 */
import { entryDoi, isValidDoi } from '../doi';
import { applyEdits, hasOptOut, planFieldUpsert, type TextEdit } from '../bib/edit';
import { findEntry, parseBib, type BibEntry, type BibFile } from '../bib/parse';
import { errorCode, errorMessage, isAbortError } from '../errors';
import type { ScholarHttp } from '../net/http';
import type { Notice } from '../storage/metadata';
import * as doiOrg from '../sources/doi';
import { noticesFrom } from '../add/add';
import { recordFromCsl, type BibRecord } from '../add/record';
import { detectStyle, type FileStyle } from '../add/style';
import { compareEntry, type Proposal } from './compare';

export type { Proposal } from './compare';

export type EntryUpdateOutcome = 'changes' | 'unchanged' | 'skipped' | 'no_doi' | 'not_found' | 'mismatch' | 'failed';

export interface EntryUpdate {
  key: string;
  outcome: EntryUpdateOutcome;
  message?: string;
  doi?: string;
  proposals: Proposal[];
  /** Notices the registry lists for this work now (empty when none; undefined when not read). */
  notices?: Notice[];
  record?: BibRecord;
}

/**
 * The registry record of a DOI for comparison: Crossref's REST record first (it carries the
 * notices, `updated-by`, in the same response), then doi.org content negotiation for DataCite and
 * mEDRA DOIs. No OpenAlex fallback here: a poorer record would only propose poorer values.
 */
export async function registryRecord(http: ScholarHttp, doi: string, signal?: AbortSignal): Promise<BibRecord | null> {
  const body = await http.getJson<{ message?: Record<string, unknown> }>('crossref', `/works/${encodeURIComponent(doi)}`, { nullOn: [404], signal });
  if (body?.message) return recordFromCsl(body.message, 'crossref');
  const csl = await doiOrg.cslJson(http, doi, signal);
  return csl ? recordFromCsl(csl) : null;
}

export interface UpdateOptions {
  /** Only these keys (default: every entry with a DOI). */
  keys?: ReadonlySet<string>;
  /** Only these fields (lower-case BibTeX names). */
  fields?: ReadonlySet<string>;
  /** Per key, the fields the user chose to keep. */
  kept?: (key: string) => ReadonlySet<string> | undefined;
  signal?: AbortSignal;
  concurrency?: number;
}

/** Fetches and compares. Never throws for one entry's failure; the rest go on. */
export async function proposeUpdates(http: ScholarHttp, file: BibFile, opts: UpdateOptions = {}): Promise<EntryUpdate[]> {
  const style = detectStyle(file);
  const entries = file.entries.filter((e) => !opts.keys || opts.keys.has(e.key));
  const out: EntryUpdate[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < entries.length; i = next++) out[i] = await updateOne(http, entries[i], style, opts);
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, Math.max(1, entries.length)) }, worker));
  return out;
}

async function updateOne(http: ScholarHttp, entry: BibEntry, style: FileStyle, opts: UpdateOptions): Promise<EntryUpdate> {
  const key = entry.key;
  if (hasOptOut(entry)) return { key, outcome: 'skipped', message: 'protected (scholar = {skip})', proposals: [] };
  const doi = entryDoi(entry);
  if (!doi || !isValidDoi(doi)) return { key, outcome: 'no_doi', message: doi ? 'malformed DOI' : 'no DOI', proposals: [] };
  let rec: BibRecord | null;
  try {
    rec = await registryRecord(http, doi, opts.signal);
  } catch (err) {
    if (isAbortError(err) || opts.signal?.aborted) throw err;
    return { key, outcome: 'failed', doi, message: `${errorCode(err)}: ${errorMessage(err)}`, proposals: [] };
  }
  if (!rec) return { key, outcome: 'not_found', doi, message: `no registry knows ${doi}`, proposals: [] };
  const notices = noticesFrom(rec.updates, rec.source);
  const c = compareEntry(entry, rec, style, { fields: opts.fields, kept: opts.kept?.(key) });
  if (c.outcome === 'mismatch') return { key, outcome: 'mismatch', doi, message: c.message, proposals: [], notices, record: rec };
  return { key, outcome: c.proposals.length ? 'changes' : 'unchanged', doi, proposals: c.proposals, notices, record: rec };
}

/**
 * One edit per entry applying the given proposals: fields are set one after the other on the
 * entry's text (each in the entry's layout), then only the span that differs is replaced.
 */
export function planEntryEdit(file: BibFile, entry: BibEntry, proposals: readonly Proposal[]): TextEdit | undefined {
  const original = file.text.slice(entry.span.start, entry.span.end);
  let t = original;
  for (const p of proposals) {
    const mini = parseBib(t);
    const e = mini.entries[0];
    if (!e) break;
    t = applyEdits(t, [planFieldUpsert({ ...mini, eol: file.eol }, e, p.field, p.new)]);
  }
  if (t === original) return undefined;
  let pre = 0;
  while (pre < t.length && pre < original.length && t[pre] === original[pre]) pre++;
  let suf = 0;
  while (suf < t.length - pre && suf < original.length - pre && t[t.length - 1 - suf] === original[original.length - 1 - suf]) suf++;
  return { offset: entry.span.start + pre, length: original.length - pre - suf, text: t.slice(pre, t.length - suf) };
}

/** The edits for a set of accepted proposals over a file (entries that vanished are skipped). */
export function planUpdateEdits(file: BibFile, proposals: readonly Proposal[]): { edits: TextEdit[]; byKey: Map<string, TextEdit> } {
  const byEntry = new Map<string, Proposal[]>();
  for (const p of proposals) byEntry.set(p.key, [...(byEntry.get(p.key) ?? []), p]);
  const edits: TextEdit[] = [];
  const byKey = new Map<string, TextEdit>();
  for (const [key, ps] of byEntry) {
    const entry = findEntry(file, key);
    if (!entry || entry.key !== key || hasOptOut(entry)) continue;
    const e = planEntryEdit(file, entry, ps);
    if (e) {
      edits.push(e);
      byKey.set(key, e);
    }
  }
  return { edits, byKey };
}

/** metadata.json's provenance for bib fields: `bib.<field>` → who supplied the value now in the .bib. */
export const PROVENANCE_PREFIX = 'bib.';

/** The fields of `key` the user chose to keep, from metadata provenance (`bib.<field>: user`). */
export function keptFields(provenance: Record<string, string> | undefined): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(provenance ?? {})) if (k.startsWith(PROVENANCE_PREFIX) && v === 'user') out.add(k.slice(PROVENANCE_PREFIX.length));
  return out;
}
