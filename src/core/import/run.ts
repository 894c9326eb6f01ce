/**
 * Import PDFs the user already has (a Zotero library, a folder) into Scholar's storage: match each
 * file to a project entry, then attach it through the same path as "Attach PDF…", which copies
 * the file (never moves it) and keeps only PDFs that name the entry's DOI or title.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { errorCode, errorMessage, isAbortError } from '../errors';
import { inspectPdf } from '../pdf/inspect';
import { pdfPath } from '../storage/layout';
import { attachPdf, checkPdfFile } from '../attach/attach';
import { extractMissingFulltext } from '../fulltext/extract';
import type { Library } from '../jobs/library';
import { EntryMatcher, type EntryRef, type MatchedBy } from './match';
import type { ZoteroLibrary } from './zotero';

export type ImportSource = 'zotero' | 'folder';

export interface MatchedFile {
  key: string;
  file: string;
  by: MatchedBy;
  /** stored; would_store (dry run); exists (the entry has a PDF); rejected (the PDF does not name the entry, or is broken). */
  status: 'stored' | 'would_store' | 'exists' | 'rejected';
  verified?: string;
  reason?: string;
}

export interface UnmatchedFile {
  file: string;
  /** A Zotero item's title, or the file name. */
  label: string;
  reason: string;
}

export interface ImportReport {
  source: ImportSource;
  dir: string;
  dryRun: boolean;
  matched: MatchedFile[];
  unmatched: UnmatchedFile[];
  /** Entries of the project that still have no PDF. */
  withoutPdf: string[];
  counts: { files: number; matched: number; stored: number; exists: number; rejected: number; unmatched: number };
}

export interface ImportOptions {
  dryRun?: boolean;
  signal?: AbortSignal;
  /** The library to store into; not needed (and not opened) for a dry run. */
  lib?: Library;
  /** Storage root, to tell which entries already have a PDF in a dry run. */
  storageRoot: string;
}

interface Candidate {
  file: string;
  label: string;
  origin: string;
  match: ReturnType<EntryMatcher['byMetadata']>;
}

/** Files checked and copied at once: the writer applies them one by one, this overlaps reading and hashing with its fsyncs. */
const IMPORT_CONCURRENCY = 4;

const NAMES_NEITHER = 'the PDF names neither the DOI nor the title of the entry';
const NO_TEXT = 'the PDF has no text to check it against the entry';

async function apply(source: ImportSource, dir: string, entries: EntryRef[], candidates: Candidate[], unmatched: UnmatchedFile[], opts: ImportOptions): Promise<ImportReport> {
  const hasPdf = (key: string) => (opts.lib ? !!opts.lib.index.get(key)?.pdf : false) || existsSync(pdfPath(opts.storageRoot, key));
  // Files per entry, in the order found: an entry with several (a paper and its supplement) takes the first that verifies.
  const groups = new Map<string, { ref: EntryRef; files: { c: Candidate; by: MatchedBy }[] }>();
  for (const c of candidates) {
    const m = c.match;
    if (!m) unmatched.push({ file: c.file, label: c.label, reason: 'no entry of the project has its DOI or its title and year' });
    else if ('ambiguous' in m) unmatched.push({ file: c.file, label: c.label, reason: `matches several entries: ${m.ambiguous.join(', ')}` });
    else if (m.ref.optOut) unmatched.push({ file: c.file, label: c.label, reason: `${m.ref.key} opts out of Scholar (scholar = {skip})` });
    else {
      const g = groups.get(m.ref.key) ?? { ref: m.ref, files: [] };
      g.files.push({ c, by: m.by });
      groups.set(m.ref.key, g);
    }
  }
  const done = new Set<string>();
  const one = async (ref: EntryRef, c: Candidate, by: MatchedBy): Promise<MatchedFile> => {
    if (done.has(ref.key)) return { key: ref.key, file: c.file, by, status: 'exists', reason: 'another file of this import was kept for this entry' };
    if (hasPdf(ref.key)) {
      done.add(ref.key);
      return { key: ref.key, file: c.file, by, status: 'exists' };
    }
    try {
      if (opts.dryRun || !opts.lib) {
        const { verdict } = await checkPdfFile(c.file, ref);
        if (verdict !== 'doi' && verdict !== 'title') return { key: ref.key, file: c.file, by, status: 'rejected', reason: verdict === 'unverified' ? NO_TEXT : NAMES_NEITHER };
        done.add(ref.key);
        return { key: ref.key, file: c.file, by, status: 'would_store', verified: verdict };
      }
      const r = await attachPdf(opts.lib, ref, c.file, { source, origin: c.origin, signal: opts.signal, fulltext: false });
      if (r.status === 'mismatch') return { key: ref.key, file: c.file, by, status: 'rejected', reason: r.verdict === 'unverified' ? NO_TEXT : NAMES_NEITHER };
      done.add(ref.key);
      return r.status === 'stored' ? { key: ref.key, file: c.file, by, status: 'stored', verified: r.verified } : { key: ref.key, file: c.file, by, status: 'exists' };
    } catch (err) {
      if (isAbortError(err)) throw err;
      return { key: ref.key, file: c.file, by, status: 'rejected', reason: `${errorCode(err)}: ${errorMessage(err)}` };
    }
  };
  const list = [...groups.values()];
  const results: MatchedFile[][] = new Array(list.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < list.length; i = next++) {
      opts.signal?.throwIfAborted();
      const g = list[i]!;
      const out: MatchedFile[] = [];
      for (const f of g.files) out.push(await one(g.ref, f.c, f.by));
      results[i] = out;
    }
  };
  await Promise.all(Array.from({ length: Math.min(IMPORT_CONCURRENCY, list.length) }, worker));
  // A rejected copy does not count against an entry another copy was kept for.
  const matched = results.flat().filter((x) => !(x.status === 'rejected' && done.has(x.key)));
  // The texts of the PDFs stored, for full-text search: after the copies, all together (the pool
  // keeps its worker busy), so that pdf.js does not slow the matching. A failure leaves the PDF stored.
  const storedKeys = matched.filter((x) => x.status === 'stored').map((x) => x.key);
  if (opts.lib && storedKeys.length) await extractMissingFulltext(opts.lib, { keys: storedKeys, signal: opts.signal });
  const count = (st: MatchedFile['status']) => matched.filter((x) => x.status === st).length;
  const withoutPdf = entries.filter((e) => !e.optOut && !done.has(e.key) && !hasPdf(e.key)).map((e) => e.key);
  return {
    source,
    dir,
    dryRun: !!opts.dryRun,
    matched,
    unmatched,
    withoutPdf,
    counts: { files: candidates.length, matched: matched.length, stored: count('stored') + count('would_store'), exists: count('exists'), rejected: count('rejected'), unmatched: unmatched.length },
  };
}

/** Import the PDF attachments of a Zotero library read by readZoteroLibrary. */
export async function importFromZotero(zotero: ZoteroLibrary, entries: EntryRef[], opts: ImportOptions): Promise<ImportReport> {
  const matcher = new EntryMatcher(entries);
  const candidates: Candidate[] = [];
  const unmatched: UnmatchedFile[] = [];
  for (const it of zotero.items) {
    const pdfs = it.attachments;
    if (!pdfs.length) continue;
    const match = matcher.byMetadata(it);
    for (const a of pdfs) {
      const label = it.title ?? it.key;
      if (!a.file) unmatched.push({ file: `storage/${a.key}`, label, reason: a.problem ?? 'no file' });
      else if (!existsSync(a.file)) unmatched.push({ file: a.file, label, reason: 'the attachment’s file is missing (not synced to this computer?)' });
      else candidates.push({ file: a.file, label, origin: `zotero:${a.key}/${path.basename(a.file)}`, match });
    }
  }
  return apply('zotero', zotero.dataDir, entries, candidates, unmatched, opts);
}

/** Every *.pdf under `dir` (following no symlinks), at most `limit` files and `depth` levels. */
export async function listPdfs(dir: string, depth = 6, limit = 20_000): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, level: number) => {
    if (out.length >= limit) return;
    const ents = await readdir(d, { withFileTypes: true }).catch(() => []);
    ents.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of ents) {
      if (out.length >= limit) return;
      const p = path.join(d, e.name);
      if (e.isFile() && /\.pdf$/i.test(e.name)) out.push(p);
      else if (e.isDirectory() && level < depth && !e.name.startsWith('.')) await walk(p, level + 1);
    }
  };
  await walk(path.resolve(dir), 0);
  return out;
}

/** Import a folder of PDFs, reading each file's DOI or title from its own text. */
export async function importFromFolder(dir: string, entries: EntryRef[], opts: ImportOptions & { exclude?: string[] }): Promise<ImportReport> {
  const matcher = new EntryMatcher(entries);
  const root = path.resolve(dir);
  const excluded = (opts.exclude ?? []).map((x) => path.resolve(x));
  const files = (await listPdfs(root)).filter((f) => !excluded.some((x) => f === x || f.startsWith(x + path.sep)));
  const candidates: Candidate[] = [];
  const unmatched: UnmatchedFile[] = [];
  for (const file of files) {
    opts.signal?.throwIfAborted();
    const label = path.relative(root, file);
    try {
      const facts = await inspectPdf(file);
      if (!facts.text) {
        unmatched.push({ file, label, reason: 'no text layer (a scan?): nothing to match it by' });
        continue;
      }
      candidates.push({ file, label, origin: `file:${label}`, match: matcher.byText(facts.text) });
    } catch (err) {
      unmatched.push({ file, label, reason: `${errorCode(err)}: ${errorMessage(err)}` });
    }
  }
  return apply('folder', root, entries, candidates, unmatched, opts);
}
