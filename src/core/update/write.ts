/**
 * Writing planned edits into a .bib from the command line: atomically (temp file, fsync, rename,
 * mode kept), in the file's own encoding, and only if nobody changed the file since it was read.
 */
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { applyEdits, type TextEdit } from '../bib/edit';
import { encodeBibText } from '../bib/parse';
import { ScholarError } from '../errors';
import { atomicWriteFile } from '../storage/atomic';
import type { LoadedBib } from '../tex/project';

export async function writeEditsToFile(bib: LoadedBib, edits: readonly TextEdit[], opts: { exists?: boolean } = {}): Promise<{ before: string; after: string }> {
  const before = bib.file.text;
  const after = applyEdits(before, edits);
  if (after === before) return { before, after };
  let mode = 0o644;
  if (opts.exists !== false) {
    const onDisk = await readFile(bib.path);
    if (!Buffer.from(encodeBibText(before, bib.encoding, bib.bom)).equals(onDisk)) {
      throw new ScholarError('E_BIB_CHANGED', `${path.basename(bib.path)} changed since it was read; run again`, { path: bib.path });
    }
    mode = (await stat(bib.path)).mode & 0o7777;
  }
  // A latin-1 file cannot hold every character a record may bring: such a file gets UTF-8 only if it must.
  const encoding = bib.encoding === 'latin1' && /[^\u0000-\u00ff]/.test(after) ? 'utf8' : bib.encoding;
  await atomicWriteFile(bib.path, encodeBibText(after, encoding, bib.bom), { mode });
  return { before, after };
}
