/** Upgrading a whole .bib: a proposal per entry citing a preprint, and the edits of the confident ones. */
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { applyEdits, type TextEdit } from '../bib/edit';
import { encodeBibText, findEntry, type BibFile } from '../bib/parse';
import type { ScholarHttp } from '../net/http';
import { atomicWriteFile } from '../storage/atomic';
import { ScholarError, errorCode, errorMessage, isAbortError } from '../errors';
import type { LoadedBib } from '../tex/project';
import { entryFacts } from '../match/facts';
import { proposeUpgrade, type UpgradeOptions, type UpgradeProposal } from './evidence';
import { planUpgradeEdit } from './edit';

export interface UpgradeRunOptions extends UpgradeOptions {
  /** Entries asked at once; the HTTP lanes enforce each service's rate whatever this is. */
  concurrency?: number;
  onProposal?: (p: UpgradeProposal) => void;
}

/** Proposals for every entry of `file` that cites a preprint; the others are `none` without a request. */
export async function proposeUpgrades(http: ScholarHttp, file: BibFile, opts: UpgradeRunOptions = {}): Promise<UpgradeProposal[]> {
  const out: UpgradeProposal[] = new Array(file.entries.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < file.entries.length; i = next++) {
      const entry = file.entries[i];
      let p: UpgradeProposal;
      try {
        p = await proposeUpgrade(http, file, entry, opts);
      } catch (err) {
        if (isAbortError(err) || opts.signal?.aborted) throw err;
        p = { key: entry.key, outcome: 'none', from: {}, evidence: [], candidates: [], why: `failed: ${errorMessage(err)}`, errors: [{ service: 'scholar', code: errorCode(err), message: errorMessage(err) }] };
      }
      out[i] = p;
      opts.onProposal?.(p);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  return out;
}

/**
 * The edits of the upgraded proposals, skipping an entry that vanished or no longer cites a preprint
 * (the user changed it meanwhile: their version wins).
 */
export function planUpgradeEdits(file: BibFile, proposals: readonly UpgradeProposal[]): { edits: TextEdit[]; skipped: string[] } {
  const edits: TextEdit[] = [];
  const skipped: string[] = [];
  for (const p of proposals) {
    if (p.outcome !== 'upgraded' || !p.to) continue;
    const entry = findEntry(file, p.key);
    if (!entry || entryFacts(file, entry).cited !== 'preprint') {
      skipped.push(p.key);
      continue;
    }
    try {
      edits.push(planUpgradeEdit(file, entry, p.to, p.from));
    } catch (err) {
      if (!(err instanceof ScholarError)) throw err;
      skipped.push(p.key);
    }
  }
  return { edits, skipped };
}

/** Writes edits to a loaded .bib atomically; refuses (E_BIB_CHANGED) when the file changed since it was read. */
export async function writeEditsToFile(bib: LoadedBib, edits: readonly TextEdit[]): Promise<{ written: number; after: string }> {
  const before = bib.file.text;
  const after = applyEdits(before, edits);
  if (!edits.length) return { written: 0, after };
  const onDisk = await readFile(bib.path);
  if (!Buffer.from(encodeBibText(before, bib.encoding, bib.bom)).equals(onDisk)) {
    throw new ScholarError('E_BIB_CHANGED', `${path.basename(bib.path)} changed since it was read; run again`, { path: bib.path });
  }
  const { mode } = await stat(bib.path);
  await atomicWriteFile(bib.path, encodeBibText(after, bib.encoding, bib.bom), { mode: mode & 0o7777 });
  return { written: edits.length, after };
}
