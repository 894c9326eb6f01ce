/** `scholar upgrade <file.bib>`: cite the published version of preprints, where the evidence is strong. */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { CliOptions } from './args';
import { writeJson, type CliIO } from './io';
import { httpOptions } from './commands';
import { ScholarError } from '../core/errors';
import { ScholarHttp } from '../core/net/http';
import { SCHOLAR_VERSION } from '../core/version';
import { loadBibFile } from '../core/tex/project';
import { unifiedDiffOfEdits } from '../core/resolve/writeback';
import { describeEvidence } from '../core/upgrade/evidence';
import { planUpgradeEdits, proposeUpgrades, writeEditsToFile } from '../core/upgrade/run';
import { runMergeDuplicates } from './upgradeMerge';

export async function runUpgrade(opts: CliOptions, io: CliIO): Promise<number> {
  if (opts.mergeDuplicates) return runMergeDuplicates(opts, io);
  const target = path.resolve(io.cwd, opts.positionals[0]);
  try {
    if (!(await stat(target)).isFile()) throw new Error('not a file');
  } catch {
    throw new ScholarError('E_NOT_FOUND', `no such .bib file: ${target}`);
  }
  const bib = await loadBibFile(target, io.signal);
  const http = new ScholarHttp({ version: SCHOLAR_VERSION, ...httpOptions(opts, io) });
  let proposals;
  try {
    let done = 0;
    proposals = await proposeUpgrades(http, bib.file, {
      signal: io.signal,
      onProposal: () => {
        done++;
        if (!opts.quiet && io.stderr.isTTY) io.stderr.write(`\r\x1b[K${done}/${bib.file.entries.length} entries`);
      },
    });
    if (!opts.quiet && io.stderr.isTTY) io.stderr.write('\r\x1b[K');
  } finally {
    await http.close();
  }
  const rel = path.relative(io.cwd, bib.path) || path.basename(bib.path);
  const { edits, skipped } = planUpgradeEdits(bib.file, proposals);
  let written = 0;
  let diff: string | undefined;
  let fileError: string | undefined;
  if (opts.dryRun) {
    diff = edits.length ? unifiedDiffOfEdits(bib.file.text, edits, rel) : '';
    if (!opts.json) io.stdout.write(diff);
  } else if (edits.length) {
    try {
      written = (await writeEditsToFile(bib, edits)).written;
    } catch (err) {
      fileError = (err as Error).message;
      io.stderr.write(`scholar: ${fileError}\n`);
    }
  }
  const entries = proposals.map((p) => ({
    key: p.key,
    from: p.from.doi ?? (p.from.arxivId ? `arXiv:${p.from.arxivId}` : null),
    to: p.to ? p.to.doi : null,
    title: p.to?.title ?? null,
    venue: p.to?.venue ?? null,
    year: p.to?.year ?? null,
    evidence: p.evidence,
    outcome: p.outcome,
    why: p.why,
    candidates: p.candidates,
    ...(p.journalRef ? { journalRef: p.journalRef } : {}),
    ...(p.errors ? { errors: p.errors } : {}),
  }));
  const count = (o: string) => proposals.filter((p) => p.outcome === o).length;
  if (opts.json) {
    writeJson(io, { command: 'upgrade', dryRun: opts.dryRun, file: rel, totals: { upgraded: count('upgraded'), review: count('review'), none: count('none') }, written, skipped, ...(diff !== undefined ? { diff } : {}), ...(fileError ? { error: fileError } : {}), entries });
  } else {
    io.stderr.write(`upgrade: ${count('upgraded')} upgraded, ${count('review')} to review, ${count('none')} unchanged${opts.dryRun ? ' (dry run)' : ` · ${written} entries rewritten`}\n`);
    for (const p of proposals.filter((x) => x.outcome === 'upgraded')) io.stderr.write(`  upgraded: ${p.key}: ${p.to!.doi} (evidence: ${describeEvidence(p.evidence)})\n`);
    for (const p of proposals.filter((x) => x.outcome === 'review')) io.stderr.write(`  review: ${p.key}: ${p.why}\n`);
    for (const k of skipped) io.stderr.write(`  skipped: ${k}: the entry changed or cannot be rewritten\n`);
  }
  if (io.signal.aborted) return 2;
  return fileError ? 1 : 0;
}
