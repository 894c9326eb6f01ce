/**
 * Writing accepted DOIs back into .bib files from the command line: one minimal edit per entry,
 * the file rewritten atomically (temp file in the same folder, fsync, rename, mode kept), and only
 * if nobody changed it since it was read. The editor uses a WorkspaceEdit instead (host/bibEdits.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { applyEdits, planFieldUpsert, type TextEdit } from '../bib/edit';
import { encodeBibText, findEntry, LineIndex, type BibFile } from '../bib/parse';
import { atomicWriteFile } from '../storage/atomic';
import { ScholarError } from '../errors';
import type { LoadedBib } from '../tex/project';

export interface DoiWrite {
  key: string;
  doi: string;
  /** A repair: the wrong DOI the entry carries. The edit is made only while the field still holds it. */
  replaces?: string;
}

/**
 * The edits adding `doi` fields (or replacing a wrong one, for a write that names it), skipping
 * entries that vanished, that have a DOI, or whose DOI is no longer the one the repair was found for.
 */
export function planDoiEdits(file: BibFile, writes: readonly DoiWrite[]): { edits: TextEdit[]; skipped: string[] } {
  const edits: TextEdit[] = [];
  const skipped: string[] = [];
  for (const w of writes) {
    const entry = findEntry(file, w.key);
    const current = entry?.fields.get('doi')?.value.trim();
    const ok = w.replaces === undefined ? !current : current !== undefined && current === w.replaces.trim();
    if (!entry || !ok) {
      skipped.push(w.key);
      continue;
    }
    edits.push(planFieldUpsert(file, entry, 'doi', w.doi));
  }
  return { edits, skipped };
}

/** Applies the DOI edits to a loaded .bib on disk. Refuses (E_BIB_CHANGED) when the file changed since it was read. */
export async function writeDoisToFile(bib: LoadedBib, writes: readonly DoiWrite[]): Promise<{ written: number; skipped: string[]; before: string; after: string }> {
  const { edits, skipped } = planDoiEdits(bib.file, writes);
  const before = bib.file.text;
  const after = applyEdits(before, edits);
  if (edits.length === 0) return { written: 0, skipped, before, after };
  const onDisk = await readFile(bib.path);
  const expected = encodeBibText(before, bib.encoding, bib.bom);
  if (!Buffer.from(expected).equals(onDisk)) {
    throw new ScholarError('E_BIB_CHANGED', `${path.basename(bib.path)} changed since it was read; run again`, { path: bib.path });
  }
  const { mode } = await stat(bib.path);
  await atomicWriteFile(bib.path, encodeBibText(after, bib.encoding, bib.bom), { mode: mode & 0o7777 });
  return { written: edits.length, skipped, before, after };
}

type DiffOp = { t: ' ' | '-' | '+'; s: string; ai: number; bi: number };

/**
 * The lines of a text as diff sees them: what ends in '\n'. The empty string after a final newline
 * is not a line (patch would need fuzz to place a hunk at the end of the file); a last line without
 * a newline is one, and gets diff's "No newline at end of file" marker.
 */
function toLines(text: string): { lines: string[]; noEol: boolean } {
  const lines = text.split('\n');
  const noEol = !text.endsWith('\n');
  if (!noEol || !text) lines.pop();
  return { lines, noEol };
}

/** Both sides' lines; a last line that lacks its newline on one side only differs from the other's. */
function sides(before: string, after: string) {
  const a = toLines(before);
  const b = toLines(after);
  if (a.noEol !== b.noEol) {
    if (a.noEol && a.lines.length) a.lines[a.lines.length - 1] += '\u0000';
    if (b.noEol && b.lines.length) b.lines[b.lines.length - 1] += '\u0000';
  }
  return { a, b };
}

/** Line operations turning `a` into `b` (an LCS on the window between the common prefix and suffix). */
function diffOps(a: readonly string[], b: readonly string[], aBase = 0, bBase = 0): DiffOp[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const n = A.length;
  const m = B.length;
  // Quadratic in the window: unifiedDiffOfEdits keeps windows small by diffing each edit's lines alone.
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = A[i] === B[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: DiffOp[] = [];
  for (let k = 0; k < pre; k++) ops.push({ t: ' ', s: a[k], ai: aBase + k, bi: bBase + k });
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && A[i] === B[j]) {
      ops.push({ t: ' ', s: A[i], ai: aBase + pre + i, bi: bBase + pre + j });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      // Deletions before insertions, as `diff -u` prints them.
      ops.push({ t: '-', s: A[i], ai: aBase + pre + i, bi: bBase + pre + j });
      i++;
    } else {
      ops.push({ t: '+', s: B[j], ai: aBase + pre + i, bi: bBase + pre + j });
      j++;
    }
  }
  for (let k = 0; k < suf; k++) ops.push({ t: ' ', s: a[a.length - suf + k], ai: aBase + a.length - suf + k, bi: bBase + b.length - suf + k });
  return ops;
}

function formatHunks(ops: DiffOp[], name: string, context: number, a: { lines: string[]; noEol: boolean }, b: { lines: string[]; noEol: boolean }): string {
  const out = [`--- a/${name}`, `+++ b/${name}`];
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k].t === ' ') k++;
    if (k >= ops.length) break;
    const start = Math.max(0, k - context);
    let end = k;
    // Extend the hunk while changes are within 2×context lines of each other.
    for (;;) {
      while (end < ops.length && ops[end].t !== ' ') end++;
      let look = end;
      while (look < ops.length && ops[look].t === ' ' && look - end < 2 * context) look++;
      if (look < ops.length && ops[look].t !== ' ') end = look;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    const hunk = ops.slice(start, stop);
    const aStart = hunk[0].ai + 1;
    const bStart = hunk[0].bi + 1;
    const aLen = hunk.filter((o) => o.t !== '+').length;
    const bLen = hunk.filter((o) => o.t !== '-').length;
    out.push(`@@ -${aLen ? aStart : aStart - 1},${aLen} +${bLen ? bStart : bStart - 1},${bLen} @@`);
    for (const o of hunk) {
      out.push(`${o.t}${o.s.replace(/\u0000$/, '').replace(/\r$/, '')}`);
      const lastA = o.t !== '+' && o.ai === a.lines.length - 1 && a.noEol;
      const lastB = o.t !== '-' && o.bi === b.lines.length - 1 && b.noEol;
      if (lastA || lastB) out.push('\\ No newline at end of file');
    }
    k = stop;
  }
  return out.join('\n') + '\n';
}

/**
 * A unified diff of two texts (line based), as `diff -u` would print it. Its cost grows with the
 * product of the lengths of the window between the common prefix and suffix: for edits spread over a
 * large file use unifiedDiffOfEdits.
 */
export function unifiedDiff(before: string, after: string, name: string, context = 3): string {
  if (before === after) return '';
  const { a, b } = sides(before, after);
  return formatHunks(diffOps(a.lines, b.lines), name, context, a, b);
}

/**
 * The unified diff of applying `edits` to `before`, built from the edits themselves: each group of
 * edits touching the same lines is diffed alone, so the cost is linear in the file (a DOI added at
 * the top and one at the bottom of a 20,000-line .bib cost two tiny windows, not 20,000²). Equal to
 * unifiedDiff(before, applyEdits(before, edits)).
 */
export function unifiedDiffOfEdits(before: string, edits: readonly TextEdit[], name: string, context = 3): string {
  if (!edits.length) return '';
  const after = applyEdits(before, edits);
  if (after === before) return '';
  const { a, b } = sides(before, after);
  const index = new LineIndex(before);
  const lineOf = (off: number) => index.position(off).line - 1;
  const groups: { l0: number; l1: number; edits: TextEdit[] }[] = [];
  for (const e of [...edits].sort((x, y) => x.offset - y.offset)) {
    const l0 = lineOf(e.offset);
    const l1 = lineOf(e.offset + e.length);
    const g = groups[groups.length - 1];
    if (g && l0 <= g.l1 + 1) {
      g.l1 = Math.max(g.l1, l1);
      g.edits.push(e);
    } else groups.push({ l0, l1, edits: [e] });
  }
  const ops: DiffOp[] = [];
  let ai = 0;
  let shift = 0;
  for (const g of groups) {
    for (; ai < g.l0 && ai < a.lines.length; ai++) ops.push({ t: ' ', s: a.lines[ai], ai, bi: ai + shift });
    // The group's whole lines, each with its newline.
    const blockStart = index.lineStart(g.l0);
    const blockEnd = g.l1 + 1 < index.lineCount ? index.lineStart(g.l1 + 1) : before.length;
    const block = before.slice(blockStart, blockEnd);
    const changed = applyEdits(block, g.edits.map((e) => ({ ...e, offset: e.offset - blockStart })));
    const oldCount = toLines(block).lines.length;
    const newCount = toLines(changed).lines.length;
    ops.push(...diffOps(a.lines.slice(g.l0, g.l0 + oldCount), b.lines.slice(g.l0 + shift, g.l0 + shift + newCount), g.l0, g.l0 + shift));
    shift += newCount - oldCount;
    ai = g.l0 + oldCount;
  }
  for (; ai < a.lines.length; ai++) ops.push({ t: ' ', s: a.lines[ai], ai, bi: ai + shift });
  return formatHunks(ops, name, context, a, b);
}
