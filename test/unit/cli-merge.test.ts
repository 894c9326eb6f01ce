// `scholar upgrade <file.bib> --merge-duplicates` end to end on a project folder: --dry-run prints
// the diff of the .bib and the .tex and writes nothing; the real run removes the preprint entry,
// rewrites its \cite's, keeps the removed text in the output, and leaves the removed key's stored
// PDF where it is; --alias adds ids and touches no .tex; --keep picks the other key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main';
import { parseBib } from '../../src/core/bib/parse';
import { entryDir } from '../../src/core/storage/layout';
import { sink } from './cli-helpers';

async function cli(cwd: string, ...args: string[]) {
  const out = sink();
  const err = sink();
  const code = await runCli(args, { stdout: out.stream, stderr: err.stream, cwd, env: {}, signal: new AbortController().signal });
  return { code, stdout: out.text(), stderr: err.text() };
}

const BIB =
  '% refs\n\n@misc{okafor21,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Sparse widgets for reproducible bibliographies},\n  year = {2021},\n  eprint = {2104.01234},\n  archivePrefix = {arXiv}\n}\n\n' +
  '@article{okafor22,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Sparse Widgets for Reproducible Bibliographies},\n  journal = {Journal of Replay Studies},\n  year = {2022},\n  doi = {10.5555/jrs.1}\n}\n\n' +
  '@article{brandt22,\n  author = {Brandt, Uwe},\n  title = {Sparse widgets for reproducible bibliographies},\n  journal = {Replay Surveys},\n  year = {2022}\n}\n';
const TEX = '\\documentclass{article}\n\\begin{document}\nFirst \\cite{okafor21}, then \\citep{brandt22,okafor21}.\n\\bibliography{refs}\n\\end{document}\n';

function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-merge-'));
  writeFileSync(path.join(dir, 'refs.bib'), BIB);
  writeFileSync(path.join(dir, 'main.tex'), TEX);
  return dir;
}

test('scholar upgrade --merge-duplicates --dry-run prints the .bib and .tex diff and writes nothing', async () => {
  const dir = project();
  const r = await cli(dir, 'upgrade', 'refs.bib', '--merge-duplicates', '--dry-run', '--keep', 'okafor22');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^-@misc\{okafor21,$/m);
  assert.match(r.stdout, /^\+  eprint = \{2104\.01234\},$/m);
  assert.match(r.stdout, /^\+First \\cite\{okafor22\}, then \\citep\{brandt22,okafor22\}\.$/m);
  assert.match(r.stdout, /^--- a\/main\.tex$/m);
  assert.equal(readFileSync(path.join(dir, 'refs.bib'), 'utf8'), BIB);
  assert.equal(readFileSync(path.join(dir, 'main.tex'), 'utf8'), TEX);
  assert.match(r.stderr, /kept okafor22, removed okafor21 \(2 citations rewritten; copied eprint, archiveprefix\)/);
  // Without --keep the key cited more often stays: okafor21 is cited twice, okafor22 never.
  const d = JSON.parse((await cli(dir, 'upgrade', 'refs.bib', '--merge-duplicates', '--dry-run', '--json')).stdout);
  assert.equal(d.merges[0].keep, 'okafor21');
  assert.match(d.diff, /^-@article\{okafor22,$/m);
  assert.equal(readFileSync(path.join(dir, 'refs.bib'), 'utf8'), BIB);
});

test('scholar upgrade --merge-duplicates --keep writes the .bib and the .tex, prints the removed entry and leaves the stored PDF', async () => {
  const dir = project();
  const pdfDir = entryDir(path.join(dir, 'storage'), 'okafor21');
  mkdirSync(pdfDir, { recursive: true });
  writeFileSync(path.join(pdfDir, 'paper.pdf'), '%PDF-1.4\n');
  const r = await cli(dir, 'upgrade', 'refs.bib', '--merge-duplicates', '--keep', 'okafor22', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.merges.length, 1);
  const m = j.merges[0];
  assert.equal(m.keep, 'okafor22');
  assert.equal(m.remove, 'okafor21');
  assert.equal(m.citesRewritten, 2);
  assert.deepEqual(m.copied, ['eprint', 'archiveprefix']);
  assert.ok(m.removed.startsWith('@misc{okafor21,') && m.removed.endsWith('}'), m.removed);
  assert.match(m.storage, /not deleted/);
  assert.deepEqual(j.written.sort(), ['main.tex', 'refs.bib']);
  const bib = readFileSync(path.join(dir, 'refs.bib'), 'utf8');
  assert.deepEqual(parseBib(bib).entries.map((e) => e.key), ['okafor22', 'brandt22'], 'the other author\'s same-title work stays');
  assert.ok(bib.startsWith('% refs\n\n@article{okafor22,\n'), bib);
  assert.equal(readFileSync(path.join(dir, 'main.tex'), 'utf8'), TEX.replace(/okafor21/g, 'okafor22'));
  assert.ok(existsSync(path.join(pdfDir, 'paper.pdf')), 'the stored PDF is not deleted');
  // A second run finds nothing left to merge.
  const again = await cli(dir, 'upgrade', 'refs.bib', '--merge-duplicates', '--json', '--keep', 'okafor21');
  assert.equal(JSON.parse(again.stdout).pairs, 0);
  assert.deepEqual(JSON.parse(again.stdout).unknownKeep, ['okafor21'], 'a --keep that names no pair is reported');
});

test('scholar upgrade --merge-duplicates --alias keeps the old key as ids and rewrites no .tex; --keep/--alias need --merge-duplicates', async () => {
  const dir = project();
  const r = await cli(dir, 'upgrade', 'refs.bib', '--merge-duplicates', '--alias', '--keep', 'okafor22');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /biber/);
  assert.match(r.stderr, /removed entry:\n {6}@misc\{okafor21,/);
  const kept = parseBib(readFileSync(path.join(dir, 'refs.bib'), 'utf8')).entries.find((e) => e.key === 'okafor22')!;
  assert.equal(kept.fields.get('ids')?.value, 'okafor21');
  assert.equal(readFileSync(path.join(dir, 'main.tex'), 'utf8'), TEX);
  const bad = await cli(dir, 'upgrade', 'refs.bib', '--alias');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--merge-duplicates/);
});
