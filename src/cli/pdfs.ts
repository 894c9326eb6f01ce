/** `scholar attach` and `scholar import zotero|folder`: PDFs the user already has, into the library. */
import * as path from 'node:path';
import type { CliOptions } from './args';
import { writeJson, type CliIO } from './io';
import { bibsOf, httpOptions } from './commands';
import { ScholarError } from '../core/errors';
import { Library } from '../core/jobs/library';
import { attachPdf } from '../core/attach/attach';
import { entryRef, type EntryRef } from '../core/import/match';
import { importFromFolder, importFromZotero, type ImportReport } from '../core/import/run';
import { readZoteroLibrary } from '../core/import/zotero';

async function projectEntries(opts: CliOptions, io: CliIO, storage: string): Promise<EntryRef[]> {
  const target = path.resolve(io.cwd, opts.bib ?? '.');
  const { bibs } = await bibsOf(target, storage, io.signal);
  const seen = new Set<string>();
  const out: EntryRef[] = [];
  for (const b of bibs) {
    for (const e of b.file.entries) {
      if (seen.has(e.key)) continue;
      seen.add(e.key);
      out.push(entryRef({ key: e.key, entry: e, file: b.file, bibPath: b.path }));
    }
  }
  return out;
}

export async function runAttach(opts: CliOptions, io: CliIO): Promise<number> {
  const [key, fileArg] = opts.positionals as [string, string];
  const storage = path.resolve(io.cwd, opts.storage);
  const file = path.resolve(io.cwd, fileArg);
  const entries = await projectEntries(opts, io, storage);
  const ref = entries.find((e) => e.key === key);
  if (!ref) throw new ScholarError('E_NOT_FOUND', `no entry ${key} in ${opts.bib ?? 'the .bib files of this folder'}`);
  if (ref.optOut) throw new ScholarError('E_SKIPPED', `${key} opts out of Scholar (scholar = {skip}); nothing was changed`);
  const lib = await Library.open(storage, { http: httpOptions(opts, io), gitignore: !opts.noGitignore });
  try {
    const r = await attachPdf(lib, ref, file, { source: 'user', acceptMismatch: opts.force, replace: opts.force, signal: io.signal });
    const out = r.status === 'stored' ? { key, status: 'stored', verified: r.verified, sha256: r.sha256, size: r.size } : r.status === 'exists' ? { key, status: 'exists', verified: r.verified } : { key, status: 'mismatch', verdict: r.verdict };
    if (opts.json) writeJson(io, { command: 'attach', file: path.relative(io.cwd, file), ...out });
    else if (r.status === 'stored') io.stderr.write(`attach: ${path.basename(file)} → ${key} (verified: ${r.verified})\n`);
    else if (r.status === 'exists') io.stderr.write(`attach: ${key} already has a PDF (verified: ${r.verified}); --force replaces it\n`);
    else io.stderr.write(`attach: ${path.basename(file)} ${r.verdict === 'unverified' ? 'has no text to check' : `names neither the DOI nor the title of ${key}`}; nothing was changed (--force keeps it, recorded as verified "manual")\n`);
    return r.status === 'stored' ? 0 : 1;
  } finally {
    await lib.close();
  }
}

function printReport(r: ImportReport, io: CliIO): void {
  const c = r.counts;
  io.stderr.write(`import ${r.source}${r.dryRun ? ' --dry-run' : ''}: ${c.stored} ${r.dryRun ? 'would be stored' : 'stored'}, ${c.exists} already had a PDF, ${c.rejected} rejected, ${c.unmatched} unmatched; ${r.withoutPdf.length} entries without a PDF\n`);
  for (const m of r.matched) io.stdout.write(`${m.status}\t${m.key}\t${m.by}\t${path.relative(io.cwd, m.file)}${m.reason ? `\t${m.reason}` : ''}\n`);
  for (const u of r.unmatched) io.stdout.write(`unmatched\t-\t-\t${path.relative(io.cwd, u.file)}\t${u.reason}\n`);
}

export async function runImport(opts: CliOptions, io: CliIO): Promise<number> {
  const [kind, dirArg] = opts.positionals as ['zotero' | 'folder', string];
  const storage = path.resolve(io.cwd, opts.storage);
  const dir = path.resolve(io.cwd, dirArg);
  const entries = await projectEntries(opts, io, storage);
  // A dry run opens no library: it must not create the storage folder.
  const lib = opts.dryRun ? undefined : await Library.open(storage, { http: httpOptions(opts, io), gitignore: !opts.noGitignore });
  try {
    const base = { dryRun: opts.dryRun, lib, storageRoot: storage, signal: io.signal };
    const report = kind === 'zotero' ? await importFromZotero(await readZoteroLibrary(dir), entries, base) : await importFromFolder(dir, entries, { ...base, exclude: [storage] });
    if (opts.json) {
      const rel = (f: string) => path.relative(io.cwd, f);
      writeJson(io, { command: `import ${kind}`, ...report, dir: rel(report.dir) || '.', matched: report.matched.map((m) => ({ ...m, file: rel(m.file) })), unmatched: report.unmatched.map((u) => ({ ...u, file: rel(u.file) })) });
    } else printReport(report, io);
    return report.counts.rejected > 0 ? 1 : 0;
  } finally {
    await lib?.close();
  }
}
