/**
 * `scholar upgrade <file.bib> --merge-duplicates [--keep KEY] [--alias] [--dry-run] [--json]`:
 * merges each preprint entry with the published entry of the same work (duplicates.ts pairs them by
 * title, first author and years; no request is sent). The project is the .bib file's folder: its
 * .tex files get their `\cite`s rewritten unless --alias keeps the old key as a BibLaTeX `ids`.
 */
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { CliOptions } from './args';
import type { CliIO } from './io';
import { ScholarError } from '../core/errors';
import { decodeBibBytes, encodeBibText, parseBib } from '../core/bib/parse';
import { discoverProject } from '../core/tex/project';
import { unifiedDiff } from '../core/resolve/writeback';
import { atomicWriteFile } from '../core/storage/atomic';
import { versionDuplicates } from '../core/upgrade/duplicates';
import { citeCounts, defaultKeep, planMerges, removedKeyStorage, type MergeRequest } from '../core/upgrade/merge';

interface Loaded {
  path: string;
  text: string;
  encoding: 'utf8' | 'latin1';
  bom: boolean;
  bytes: Buffer;
}

async function load(p: string): Promise<Loaded> {
  const bytes = await readFile(p);
  return { path: p, bytes, ...decodeBibBytes(bytes) };
}

export async function runMergeDuplicates(opts: CliOptions, io: CliIO): Promise<number> {
  const target = path.resolve(io.cwd, opts.positionals[0]);
  try {
    if (!(await stat(target)).isFile()) throw new Error('not a file');
  } catch {
    throw new ScholarError('E_NOT_FOUND', `no such .bib file: ${target}`);
  }
  const storage = path.resolve(io.cwd, opts.storage);
  const project = await discoverProject(path.dirname(target), { storageFolder: storage, signal: io.signal });
  const bibPaths = [...new Set([target, ...project.bibFiles])];
  const bibs = await Promise.all(bibPaths.map(load));
  const texs = await Promise.all(project.texFiles.map(load));
  const rel = (p: string) => path.relative(io.cwd, p) || path.basename(p);

  const pairs = versionDuplicates(bibs.map((b) => ({ path: b.path, file: parseBib(b.text) }))).filter((d) => d.preprint.path === target || d.published.path === target);
  const counts = citeCounts(texs, pairs.flatMap((d) => [d.preprint.key, d.published.key]));
  const keepWanted = new Set(opts.keep ?? []);
  const requests: MergeRequest[] = pairs.map((d) => {
    const keep = keepWanted.has(d.preprint.key) ? d.preprint : keepWanted.has(d.published.key) ? d.published : defaultKeep(d.preprint, d.published, counts);
    return { keep, remove: keep === d.preprint ? d.published : d.preprint, mode: opts.alias ? 'alias' : 'rewrite' };
  });
  const unknownKeep = [...keepWanted].filter((k) => !pairs.some((d) => d.preprint.key === k || d.published.key === k));
  const batch = planMerges(bibs, texs, requests);
  const changed = [...texs, ...bibs].filter((f) => batch.tex.has(f.path) || batch.bib.has(f.path));
  const afterOf = (f: Loaded) => batch.tex.get(f.path) ?? batch.bib.get(f.path) ?? f.text;

  let diff: string | undefined;
  let fileError: string | undefined;
  const written: string[] = [];
  if (opts.dryRun) {
    diff = changed.map((f) => unifiedDiff(f.text, afterOf(f), rel(f.path))).join('');
    if (!opts.json) io.stdout.write(diff);
  } else if (changed.length) {
    try {
      // Nothing is written unless every file still reads as it did: a half-applied merge is worse than none.
      for (const f of changed) {
        if (!(await readFile(f.path)).equals(f.bytes)) throw new ScholarError('E_BIB_CHANGED', `${rel(f.path)} changed since it was read; run again`, { path: f.path });
      }
      // .tex files first: if the run stops between files, every \cite still names a defined key.
      for (const f of changed) {
        const { mode } = await stat(f.path);
        await atomicWriteFile(f.path, encodeBibText(afterOf(f), f.encoding, f.bom), { mode: mode & 0o7777 });
        written.push(rel(f.path));
      }
    } catch (err) {
      fileError = (err as Error).message;
      io.stderr.write(`scholar: ${fileError}\n`);
    }
  }
  const merges = await Promise.all(
    batch.plans.map(async (p) => ({
      keep: p.keep.key,
      remove: p.remove.key,
      mode: p.mode,
      keepFile: rel(p.keep.path),
      removeFile: rel(p.remove.path),
      citesRewritten: p.citesRewritten,
      copied: p.copied,
      notes: p.notes,
      storage: (await removedKeyStorage(storage, p.remove.key, p.keep.key)) ?? null,
      removed: p.removedText,
    })),
  );
  if (opts.json) {
    io.stdout.write(JSON.stringify({ command: 'upgrade', mergeDuplicates: true, dryRun: opts.dryRun, file: rel(target), pairs: pairs.length, merges, skipped: batch.skipped, ...(unknownKeep.length ? { unknownKeep } : {}), written, ...(diff !== undefined ? { diff } : {}), ...(fileError ? { error: fileError } : {}) }, null, 2) + '\n');
  } else {
    io.stderr.write(`merge: ${pairs.length} preprint/published pairs, ${merges.length} merged${opts.dryRun ? ' (dry run)' : ` · ${written.length} files written`}\n`);
    for (const m of merges) {
      io.stderr.write(`  kept ${m.keep}, removed ${m.remove} (${m.mode === 'alias' ? `alias: ids = {${m.remove}}` : `${m.citesRewritten} citations rewritten`}${m.copied.length ? `; copied ${m.copied.join(', ')}` : ''})\n`);
      for (const n of [...m.notes, ...(m.storage ? [m.storage] : [])]) io.stderr.write(`    note: ${n}\n`);
      // The removed entry, so that nothing of the user's text is lost even without version control.
      io.stderr.write(`    removed entry:\n${m.removed.replace(/^/gm, '      ')}\n`);
    }
    for (const s of batch.skipped) io.stderr.write(`  skipped: ${s.remove} → ${s.keep}: ${s.reason}\n`);
    for (const k of unknownKeep) io.stderr.write(`  --keep ${k}: no preprint/published pair has this key\n`);
    if (!pairs.length) io.stderr.write('  no preprint entry has its published version as another entry of this project\n');
  }
  if (io.signal.aborted) return 2;
  return fileError ? 1 : 0;
}
