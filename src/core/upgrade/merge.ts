/**
 * Merging a preprint entry and the published entry of one work (the duplicates of duplicates.ts)
 * into one entry, as minimal edits: the removed entry's bytes go; the kept entry gains only the
 * fields it lacks from a short list (the preprint's eprint fields, abstract, keywords); and the
 * removed key either stays citable as a BibLaTeX alias (`ids`) or each `\cite` of it in the .tex
 * files is rewritten to the kept key. The plan carries the removed entry's text so that a front end
 * can show it, log it and undo it: the user's text is never dropped silently.
 */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { ScholarError } from '../errors';
import { applyEdits, planFieldUpsert, type TextEdit } from '../bib/edit';
import { findEntry, parseBib, type BibEntry, type BibFile } from '../bib/parse';
import { scanTex } from '../tex/scan';
import { entryDir, PDF_FILE, METADATA_FILE } from '../storage/layout';
import { entryFacts } from '../match/facts';
import { citedPreprint } from './evidence';

export type MergeMode = 'alias' | 'rewrite';

export interface MergeSide {
  /** The .bib file holding the entry (any string the caller uses to name files: a path or a URI). */
  path: string;
  key: string;
}

export interface MergeRequest {
  keep: MergeSide;
  remove: MergeSide;
  /** `alias`: the kept entry gets `ids = {removed key}` (BibLaTeX/biber only); `rewrite`: every `\cite` of the removed key names the kept key. */
  mode: MergeMode;
}

export interface FileEdits {
  path: string;
  edits: TextEdit[];
}

export interface MergePlan extends MergeRequest {
  /** Edits per .bib file (the kept entry's and the removed entry's files; one entry when they are the same file). */
  bib: FileEdits[];
  /** Edits per .tex file (mode `rewrite` only; files without a citation of the removed key are absent). */
  tex: FileEdits[];
  /** The removed entry exactly as it was in its file. */
  removedText: string;
  /** Field names copied from the removed entry into the kept one. */
  copied: string[];
  /** How many `\cite` keys were rewritten (mode `rewrite`). */
  citesRewritten: number;
  /** Things the user should know (cross-references left as they are, …). */
  notes: string[];
}

/**
 * Fields worth carrying over when the kept entry lacks them. The preprint's identity (so the
 * published entry still records it, as Cite the published version does) and the user's own
 * annotations; never venue, year, doi, pages or url, which would change what the kept entry cites.
 */
const FROM_PREPRINT = ['eprint', 'archiveprefix', 'eprinttype', 'primaryclass', 'eprintclass'];
const ANY_SIDE = ['abstract', 'keywords'];

/** How often each key is cited in the given .tex texts (comments and verbatim not counted). */
export function citeCounts(texs: readonly { path: string; text: string }[], keys: readonly string[]): Map<string, number> {
  const counts = new Map(keys.map((k) => [k, 0] as [string, number]));
  for (const t of texs) for (const c of scanTex(t.text).cites) if (counts.has(c.key)) counts.set(c.key, counts.get(c.key)! + 1);
  return counts;
}

/** The key cited more often is kept by default; on a tie the published entry (the version of record). */
export function defaultKeep<T extends { key: string }>(preprint: T, published: T, counts: ReadonlyMap<string, number>): T {
  return (counts.get(preprint.key) ?? 0) > (counts.get(published.key) ?? 0) ? preprint : published;
}

/** Removes an entry's bytes; when it stands on its own lines, its line break and one blank line around it go too. */
function planEntryDelete(text: string, entry: BibEntry): TextEdit {
  let start = entry.span.start;
  let end = entry.span.end;
  const lineStart = (p: number) => p === 0 || text[p - 1] === '\n';
  /** The end of the blank run from `p` to its line break (inclusive), or -1 if the line has text. */
  const blankTo = (p: number) => {
    while (p < text.length && (text[p] === ' ' || text[p] === '\t')) p++;
    if (p >= text.length) return p;
    if (text[p] === '\r' && text[p + 1] === '\n') return p + 2;
    return text[p] === '\n' ? p + 1 : -1;
  };
  if (lineStart(start)) {
    const e = blankTo(end);
    if (e >= 0) {
      end = e;
      // One separating blank line goes with the entry, the one after it, else the one before it.
      const after = end < text.length ? blankTo(end) : -1;
      if (after > end) end = after;
      else if (start > 0) {
        let s = start - 1;
        if (s > 0 && text[s] === '\n' && text[s - 1] === '\r') s--;
        // The line before `start` (s points at its line break).
        let ls = s;
        while (ls > 0 && text[ls - 1] !== '\n') ls--;
        if (/^[ \t]*$/.test(text.slice(ls, s)) && ls > 0) start = ls;
      }
    }
  }
  return { offset: start, length: end - start, text: '' };
}

/** Applies field upserts one by one on the entry's own text and returns one edit over the span that changed. */
function planEntryFields(file: BibFile, entry: BibEntry, set: readonly [string, string][]): TextEdit | undefined {
  if (!set.length) return undefined;
  const original = file.text.slice(entry.span.start, entry.span.end);
  let t = original;
  for (const [name, value] of set) {
    const f = parseBib(t);
    const e = f.entries[0];
    if (!e || e.key !== entry.key) throw new ScholarError('E_MERGE_EDIT', `could not re-read entry ${entry.key} while merging into it`, { key: entry.key });
    // The file's line ending, not the entry-only text's guess.
    t = applyEdits(t, [planFieldUpsert({ ...f, eol: file.eol }, e, name, value)]);
  }
  let pre = 0;
  while (pre < original.length && pre < t.length && original[pre] === t[pre]) pre++;
  let suf = 0;
  while (suf < original.length - pre && suf < t.length - pre && original[original.length - 1 - suf] === t[t.length - 1 - suf]) suf++;
  return { offset: entry.span.start + pre, length: original.length - pre - suf, text: t.slice(pre, t.length - suf) };
}

/**
 * A field's value as it can be written again: braced or quoted text, or a bare number. Macros and
 * `#` concatenations are not copied: their meaning depends on @string definitions of the other file.
 */
function copyable(entry: BibEntry, name: string): string | undefined {
  const f = entry.fields.get(name);
  if (!f || !f.value.trim()) return undefined;
  if (f.delimiter === '{' || f.delimiter === '"') return f.value;
  return f.delimiter === 'bare' && /^\d+$/.test(f.value) ? f.value : undefined;
}

/** Edits that rewrite each `\cite` of `from` to `to` in one .tex text; a key list already naming `to` just loses `from`. */
export function planCiteRewrites(text: string, from: string, to: string): TextEdit[] {
  const edits: TextEdit[] = [];
  for (const c of scanTex(text).cites) {
    if (c.key !== from) continue;
    // The key list around this key: keys hold no braces, so the nearest braces bound it.
    const open = text.lastIndexOf('{', c.offset);
    const close = text.indexOf('}', c.offset);
    const list = open >= 0 && close > open ? text.slice(open + 1, close) : '';
    const keys = list.split(',').map((k) => k.trim());
    if (keys.includes(to)) {
      // Drop the key with the comma on one side (the following one, else the preceding one) and its blanks.
      let s = c.offset;
      let e = c.offset + c.key.length;
      let q = e;
      while (q < close && /\s/.test(text[q])) q++;
      if (text[q] === ',') {
        e = q + 1;
        while (e < close && /[ \t]/.test(text[e])) e++;
      } else {
        let p = s;
        while (p > open + 1 && /\s/.test(text[p - 1])) p--;
        if (text[p - 1] === ',') s = p - 1;
      }
      edits.push({ offset: s, length: e - s, text: '' });
    } else edits.push({ offset: c.offset, length: c.key.length, text: to });
  }
  return edits;
}

/**
 * The merge's edits. `bibs` are the project's .bib files (both entries must be in them), `texs` its
 * .tex texts (read for mode `rewrite`, and for notes). Refuses (ScholarError) a merge of a key with
 * itself or of an entry that cannot be found.
 */
export function planMerge(bibs: readonly { path: string; file: BibFile }[], texs: readonly { path: string; text: string }[], req: MergeRequest): MergePlan {
  const { keep, remove, mode } = req;
  if (keep.key.toLowerCase() === remove.key.toLowerCase()) throw new ScholarError('E_MERGE_SAME_KEY', `cannot merge '${keep.key}' with '${remove.key}': BibTeX reads them as one key`, { keep: keep.key, remove: remove.key });
  const keepBib = bibs.find((b) => b.path === keep.path);
  const removeBib = bibs.find((b) => b.path === remove.path);
  const keepEntry = keepBib && findEntry(keepBib.file, keep.key);
  const removeEntry = removeBib && findEntry(removeBib.file, remove.key);
  if (!keepBib || !keepEntry) throw new ScholarError('E_MERGE_NO_ENTRY', `no entry '${keep.key}' in ${keep.path}`, { key: keep.key });
  if (!removeBib || !removeEntry) throw new ScholarError('E_MERGE_NO_ENTRY', `no entry '${remove.key}' in ${remove.path}`, { key: remove.key });

  // Fields the kept entry lacks. The preprint's identity only goes from a preprint into a published
  // entry; an id the preprint names only in its url, journal or doi becomes eprint, as in an upgrade.
  const set: [string, string][] = [];
  const removedIsPreprint = entryFacts(removeBib.file, removeEntry).cited === 'preprint';
  const keptIsPreprint = entryFacts(keepBib.file, keepEntry).cited === 'preprint';
  if (removedIsPreprint && !keptIsPreprint && !keepEntry.fields.has('eprint')) {
    if (copyable(removeEntry, 'eprint') !== undefined) {
      for (const n of FROM_PREPRINT) {
        const v = copyable(removeEntry, n);
        if (v !== undefined && !keepEntry.fields.has(n)) set.push([n, v]);
      }
    } else {
      const id = citedPreprint(removeEntry);
      const biblatex = ['journaltitle', 'date', 'eprinttype'].some((n) => keepEntry.fields.has(n));
      if (id.arxivId) set.push(['eprint', id.arxivId], biblatex ? ['eprinttype', 'arxiv'] : ['archiveprefix', 'arXiv']);
      else if (id.doi) set.push(['eprint', id.doi], [biblatex ? 'eprinttype' : 'archiveprefix', 'doi']);
    }
  }
  for (const n of ANY_SIDE) {
    const v = copyable(removeEntry, n);
    if (v !== undefined && !keepEntry.fields.has(n)) set.push([n, v]);
  }
  const copied = set.map(([n]) => n);
  if (mode === 'alias') {
    // biber resolves a citation of any key listed in `ids`; the removed entry's own aliases stay aliases.
    const old = keepEntry.fields.get('ids')?.value.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
    const add = [remove.key, ...(removeEntry.fields.get('ids')?.value.split(',').map((s) => s.trim()).filter(Boolean) ?? [])].filter((k) => k !== keep.key && !old.includes(k));
    if (add.length) set.push(['ids', [...old, ...add].join(', ')]);
  }

  const bibEdits = new Map<string, TextEdit[]>();
  const push = (p: string, e: TextEdit | undefined) => {
    if (e) bibEdits.set(p, [...(bibEdits.get(p) ?? []), e]);
  };
  push(keep.path, planEntryFields(keepBib.file, keepEntry, set));
  push(remove.path, planEntryDelete(removeBib.file.text, removeEntry));

  const notes: string[] = [];
  for (const b of bibs) {
    for (const e of b.file.entries) {
      for (const n of ['crossref', 'xref', 'xdata', 'related']) {
        const v = e.fields.get(n)?.value;
        if (v && v.split(',').map((s) => s.trim()).includes(remove.key)) notes.push(`entry '${e.key}' names '${remove.key}' in its ${n} field; left as it is`);
      }
    }
  }
  const tex: FileEdits[] = [];
  let citesRewritten = 0;
  if (mode === 'rewrite') {
    for (const t of texs) {
      const edits = planCiteRewrites(t.text, remove.key, keep.key);
      if (edits.length) tex.push({ path: t.path, edits });
      citesRewritten += edits.length;
    }
  } else {
    notes.push(`'${remove.key}' stays citable through ids = {${remove.key}}, which only biber (BibLaTeX) reads; with BibTeX (natbib, \\bibliographystyle) its citations become undefined`);
  }
  return {
    keep,
    remove,
    mode,
    bib: [...bibEdits].map(([p, edits]) => ({ path: p, edits })),
    tex,
    removedText: removeBib.file.text.slice(removeEntry.span.start, removeEntry.span.end),
    copied,
    citesRewritten,
    notes,
  };
}

/** What a merge means for the removed key's storage folder: Scholar leaves it as it is and says so. */
export async function removedKeyStorage(storageRoot: string, removeKey: string, keepKey: string): Promise<string | undefined> {
  const exists = async (p: string) => stat(p).then(() => true, () => false);
  const dir = entryDir(storageRoot, removeKey);
  if (!(await exists(path.join(dir, METADATA_FILE))) && !(await exists(path.join(dir, PDF_FILE)))) return undefined;
  const hasPdf = await exists(path.join(dir, PDF_FILE));
  const keepHasPdf = await exists(path.join(entryDir(storageRoot, keepKey), PDF_FILE));
  const rel = path.relative(path.dirname(path.dirname(dir)), dir) || dir;
  if (!hasPdf) return `the library folder of '${removeKey}' (${rel}) is left as it is; it holds no PDF`;
  return keepHasPdf
    ? `the PDF of '${removeKey}' stays in ${rel}/${PDF_FILE} (not deleted); '${keepKey}' has its own`
    : `the PDF of '${removeKey}' stays in ${rel}/${PDF_FILE} (not deleted or moved); attach it to '${keepKey}' with Attach PDF if it is the version you want`;
}

export interface MergeBatch {
  /** The texts after every merge, by path (only files that changed). */
  bib: Map<string, string>;
  tex: Map<string, string>;
  plans: MergePlan[];
  /** Requests not applied: a key already merged in this batch, or a refusal. */
  skipped: { keep: string; remove: string; reason: string }[];
}

/**
 * Several merges over one project, each planned on the texts the previous ones left (two merges
 * into one kept entry, or two removals side by side, would otherwise overlap). A key removed by one
 * merge takes part in no later one.
 */
export function planMerges(bibs: readonly { path: string; text: string }[], texs: readonly { path: string; text: string }[], requests: readonly MergeRequest[]): MergeBatch {
  const bibText = new Map(bibs.map((b) => [b.path, b.text]));
  const texText = new Map(texs.map((t) => [t.path, t.text]));
  const parsed = new Map<string, BibFile>();
  const fileOf = (p: string) => {
    let f = parsed.get(p);
    if (!f) parsed.set(p, (f = parseBib(bibText.get(p)!)));
    return f;
  };
  const out: MergeBatch = { bib: new Map(), tex: new Map(), plans: [], skipped: [] };
  const removed = new Set<string>();
  for (const req of requests) {
    const skip = (reason: string) => out.skipped.push({ keep: req.keep.key, remove: req.remove.key, reason });
    if (removed.has(req.remove.key) || removed.has(req.keep.key)) {
      skip(`'${removed.has(req.keep.key) ? req.keep.key : req.remove.key}' was merged into another entry in this run`);
      continue;
    }
    let plan: MergePlan;
    try {
      plan = planMerge([...bibText.keys()].map((p) => ({ path: p, file: fileOf(p) })), [...texText].map(([p, text]) => ({ path: p, text })), req);
    } catch (err) {
      if (!(err instanceof ScholarError)) throw err;
      skip(err.message);
      continue;
    }
    for (const b of plan.bib) {
      const t = applyEdits(bibText.get(b.path)!, b.edits);
      bibText.set(b.path, t);
      out.bib.set(b.path, t);
      parsed.delete(b.path);
    }
    for (const x of plan.tex) {
      const t = applyEdits(texText.get(x.path)!, x.edits);
      texText.set(x.path, t);
      out.tex.set(x.path, t);
    }
    removed.add(req.remove.key);
    out.plans.push(plan);
  }
  return out;
}
