// `scholar upgrade <file.bib> [--dry-run] [--json]` end to end against the replay server: the JSON
// lists every entry as {key, from, to, evidence, outcome}; --dry-run prints the diff and changes
// nothing; without it the file is rewritten atomically with only the upgraded entry's fields changed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main';
import { startReplayServer, type ReplayServer } from '../../src/replay/server';
import { endpointFlags } from './cli-helpers';

const repo = path.resolve(__dirname, '../..');
let server: ReplayServer;

const authors = [{ family: 'Okafor', given: 'Ada' }, { family: 'Lindqvist', given: 'Bo' }];
before(async () => {
  server = await startReplayServer({ fixturesDir: path.join(repo, 'test/fixtures') });
  server.addWorks([
    { doi: '10.5555/cli.upgrade.1', title: 'Sparse widgets for reproducible bibliographies', authors, year: 2022, venue: 'Journal of Replay Studies', volume: '12', pages: '101-119', arxivId: '2104.01234' },
    { doi: '10.48550/arxiv.2105.05555', title: 'Unfinished notes on widget taxonomies', authors, year: 2021, type: 'posted-content', arxivId: '2105.05555' },
  ]);
});
after(async () => {
  await server.close();
});

async function cli(cwd: string, ...args: string[]) {
  let out = '';
  let err = '';
  const w = (f: (s: string) => void) => new Writable({ write(c, _e, cb) { f(c.toString()); cb(); } });
  const endpoints = endpointFlags(server.endpoints);
  const code = await runCli([...args, ...endpoints, '--mailto', 'test@scholar.invalid'], { stdout: w((s) => (out += s)), stderr: w((s) => (err += s)), cwd, env: {}, signal: new AbortController().signal });
  return { code, stdout: out, stderr: err };
}

const BIB =
  '% refs\n\n@misc{okafor21,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Sparse widgets for reproducible bibliographies},\n  year = {2021},\n  eprint = {2104.01234},\n  archivePrefix = {arXiv}\n}\n\n' +
  '@misc{notes21,\n  author = {Okafor, Ada},\n  title = {Unfinished notes on widget taxonomies},\n  year = {2021},\n  eprint = {2105.05555},\n  archivePrefix = {arXiv}\n}\n\n' +
  '@article{pub22,\n  author = {Okafor, Ada},\n  title = {Sparse widgets for reproducible bibliographies},\n  journal = {Journal of Replay Studies},\n  year = {2022}\n}\n';

test('scholar upgrade --dry-run --json lists each entry and changes nothing; without --dry-run only the upgraded entry changes', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-upgrade-'));
  const file = path.join(dir, 'refs.bib');
  writeFileSync(file, BIB);
  const dry = await cli(dir, 'upgrade', 'refs.bib', '--dry-run', '--json');
  assert.equal(dry.code, 0, dry.stderr);
  const j = JSON.parse(dry.stdout);
  assert.deepEqual(j.totals, { upgraded: 1, review: 0, none: 2 });
  const byKey = Object.fromEntries(j.entries.map((e: { key: string }) => [e.key, e]));
  assert.equal(byKey.okafor21.outcome, 'upgraded');
  assert.equal(byKey.okafor21.from, 'arXiv:2104.01234');
  assert.equal(byKey.okafor21.to, '10.5555/cli.upgrade.1');
  assert.deepEqual(byKey.okafor21.evidence.slice(0, 2), ['arxiv-doi', 'arxiv-journal-ref']);
  assert.equal(byKey.notes21.outcome, 'none');
  assert.equal(byKey.notes21.to, null);
  assert.equal(byKey.pub22.outcome, 'none');
  assert.match(j.diff, /^-@misc\{okafor21,$/m);
  assert.match(j.diff, /^\+@article\{okafor21,$/m);
  assert.equal(readFileSync(file, 'utf8'), BIB, '--dry-run changes nothing');

  const real = await cli(dir, 'upgrade', 'refs.bib');
  assert.equal(real.code, 0, real.stderr);
  const after = readFileSync(file, 'utf8');
  const expected = BIB.replace(
    '@misc{okafor21,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Sparse widgets for reproducible bibliographies},\n  year = {2021},\n  eprint = {2104.01234},\n  archivePrefix = {arXiv}\n}',
    '@article{okafor21,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Sparse widgets for reproducible bibliographies},\n  year = {2022},\n  eprint = {2104.01234},\n  archivePrefix = {arXiv},\n  journal = {Journal of Replay Studies},\n  volume = {12},\n  pages = {101--119},\n  doi = {10.5555/cli.upgrade.1}\n}',
  );
  assert.equal(after, expected);
  // A second run finds nothing left to upgrade and leaves the file alone.
  const again = await cli(dir, 'upgrade', 'refs.bib', '--json');
  assert.equal(JSON.parse(again.stdout).totals.upgraded, 0);
  assert.equal(readFileSync(file, 'utf8'), expected);
});

test('scholar upgrade refuses a folder or a missing file with a clear error', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-upgrade-'));
  const r = await cli(dir, 'upgrade', dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /upgrade takes one \.bib file/);
  const m = await cli(dir, 'upgrade', 'missing.bib');
  assert.equal(m.code, 2);
  assert.match(m.stderr, /no such \.bib file/);
});
