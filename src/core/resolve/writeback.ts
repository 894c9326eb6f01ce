/**
 * Writing accepted DOIs back into .bib files from the command line: one minimal edit per entry,
 * the file rewritten atomically (temp file in the same folder, fsync, rename, mode kept), and only
 * if nobody changed it since it was read. The editor uses a WorkspaceEdit instead (host/bibEdits.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { applyEdits, planFieldUpsert, type TextEdit } from '../bib/edit';
import { encodeBibText, findEntry, type BibFile } from '../bib/parse';
import { atomicWriteFile } from '../storage/atomic';
import { ScholarError } from '../errors';
import type { LoadedBib } from '../tex/project';

export interface DoiWrite {
  key: string;
  doi: string;
}

/** The edits adding `doi` fields, skipping entries that vanished or already have a DOI. */
export function planDoiEdits(file: BibFile, writes: readonly DoiWrite[]): { edits: TextEdit[]; skipped: string[] } {
  const edits: TextEdit[] = [];
  const skipped: string[] = [];
  for (const w of writes) {
    const entry = findEntry(file, w.key);
    if (!entry || entry.fields.get('doi')?.value.trim()) {
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

/** A unified diff of two texts (line based), as `diff -u` would print it, for `--dry-run`. */
export function unifiedDiff(before: string, after: string, name: string, context = 3): string {
  if (before === after) return '';
  // Lines are what ends in '\n'; the empty string after a final newline is not a line (patch would
  // need fuzz to place a hunk at the end of the file), and a last line without one gets diff's marker.
  const a = before.split('\n');
  const b = after.split('\n');
  const aNoEol = !before.endsWith('\n');
  const bNoEol = !after.endsWith('\n');
  if (!aNoEol || !before) a.pop();
  if (!bNoEol || !after) b.pop();
  // The last line of one side lacking its newline differs from the same text with one.
  if (aNoEol !== bNoEol) {
    if (aNoEol && a.length) a[a.length - 1] += '\u0000';
    if (bNoEol && b.length) b[b.length - 1] += '\u0000';
  }
  // Myers would be overkill: our edits only insert lines and touch a comma; an LCS on the
  // differing window between the common prefix and suffix is exact and cheap.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const n = A.length;
  const m = B.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = A[i] === B[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  type Op = { t: ' ' | '-' | '+'; s: string; ai: number; bi: number };
  const ops: Op[] = [];
  for (let k = 0; k < pre; k++) ops.push({ t: ' ', s: a[k], ai: k, bi: k });
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && A[i] === B[j]) {
      ops.push({ t: ' ', s: A[i], ai: pre + i, bi: pre + j });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      // Deletions before insertions, as `diff -u` prints them.
      ops.push({ t: '-', s: A[i], ai: pre + i, bi: pre + j });
      i++;
    } else {
      ops.push({ t: '+', s: B[j], ai: pre + i, bi: pre + j });
      j++;
    }
  }
  for (let k = 0; k < suf; k++) ops.push({ t: ' ', s: a[a.length - suf + k], ai: a.length - suf + k, bi: b.length - suf + k });

  const out = [`--- a/${name}`, `+++ b/${name}`];
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k].t === ' ') k++;
    if (k >= ops.length) break;
    let start = Math.max(0, k - context);
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
      const lastA = o.t !== '+' && o.ai === a.length - 1 && aNoEol;
      const lastB = o.t !== '-' && o.bi === b.length - 1 && bNoEol;
      if (lastA || lastB) out.push('\\ No newline at end of file');
    }
    k = stop;
    start = stop;
  }
  return out.join('\n') + '\n';
}
