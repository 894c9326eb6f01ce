import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, cpSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runCli } from '../../src/cli/main';
import { startReplayServer, type ReplayServer } from '../../src/replay/server';

const repo = path.resolve(__dirname, '../..');
let server: ReplayServer;

before(async () => {
  server = await startReplayServer({ fixturesDir: path.join(repo, 'test/fixtures') });
});
after(async () => {
  await server.close();
});

function sink() {
  let text = '';
  return {
    stream: new Writable({
      write(c, _e, cb) {
        text += c.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

async function cli(cwd: string, ...args: string[]) {
  const out = sink();
  const err = sink();
  const endpoints = ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi'].flatMap((n) => ['--endpoint', `${n}=${(server.endpoints as Record<string, string>)[n]}`]);
  const code = await runCli([...args, ...endpoints, '--mailto', 'test@scholar.invalid'], { stdout: out.stream, stderr: err.stream, cwd, env: {}, signal: new AbortController().signal });
  return { code, stdout: out.text(), stderr: err.text() };
}

function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-cli-'));
  cpSync(path.join(repo, 'examples/thesis'), dir, { recursive: true });
  return dir;
}

test('resolve --dry-run prints a diff and changes nothing', async () => {
  const dir = project();
  const before = readFileSync(path.join(dir, 'refs.bib'), 'utf8');
  const r = await cli(dir, 'resolve', 'refs.bib', '--dry-run');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^--- a\/refs\.bib/m);
  assert.match(r.stdout, /^\+ {2}doi {5}= \{10\./m);
  assert.equal(readFileSync(path.join(dir, 'refs.bib'), 'utf8'), before);
});

test('resolve --json reports every entry and writes the accepted DOIs as added lines only', async () => {
  const dir = project();
  const beforeText = readFileSync(path.join(dir, 'refs.bib'), 'utf8');
  const r = await cli(dir, 'resolve', '.', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.entries.length, 27);
  const byKey = Object.fromEntries(out.entries.map((e: { key: string }) => [e.key, e]));
  assert.equal(byKey.broniatowski2017.outcome, 'accept');
  assert.equal(byKey.broniatowski2017.doi, '10.1002/sys.21414');
  assert.equal(byKey.knuth1984.outcome, 'skipped', 'the opted-out entry is left alone');
  assert.equal(byKey.makris2014.outcome, 'has_doi');
  assert.equal(byKey.turing1950.outcome, 'not_found');
  const afterText = readFileSync(path.join(dir, 'refs.bib'), 'utf8');
  // Removing the added doi lines (and the comma each added to the line before) gives the original back.
  const accepted = out.entries.filter((e: { outcome: string }) => e.outcome === 'accept');
  let restored = afterText;
  for (const e of accepted) restored = restored.replace(new RegExp(`,\\n {2}doi *= \\{${e.doi.replace(/[.()/]/g, '\\$&')}\\}\\n`), '\n');
  assert.equal(restored, beforeText);
  for (const e of accepted) assert.ok(existsSync(path.join(dir, 'storage/by_key', e.key, 'metadata.json')), `metadata for ${e.key}`);
});

test('fetch stores verified PDFs, reports failures per entry, and exits 1 when some failed', async () => {
  const dir = project();
  assert.equal((await cli(dir, 'resolve', '.')).code, 0);
  const r = await cli(dir, 'fetch', '.', '--json');
  const out = JSON.parse(r.stdout);
  assert.equal(r.code, out.entries.some((e: { outcome: string }) => e.outcome === 'failed') ? 1 : 0);
  const stored = out.entries.filter((e: { outcome: string }) => e.outcome === 'stored');
  assert.ok(stored.length >= 10, `stored ${stored.length}`);
  for (const e of stored) {
    const pdf = readFileSync(path.join(dir, 'storage/by_key', e.key, 'paper.pdf'));
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const meta = JSON.parse(readFileSync(path.join(dir, 'storage/by_key', e.key, 'metadata.json'), 'utf8'));
    assert.equal(meta.pdf.size, pdf.length);
    assert.ok(['doi', 'title'].includes(meta.pdf.verified));
  }
  for (const e of out.entries.filter((x: { outcome: string }) => x.outcome === 'failed')) assert.match(e.reason, /^E_[A-Z_]+$/);
  // A second run skips what is done.
  const again = JSON.parse((await cli(dir, 'fetch', '.', '--json')).stdout);
  assert.equal(again.entries.filter((e: { outcome: string }) => e.outcome === 'already_stored').length, stored.length);
  // The index can be rebuilt from the folders and searched.
  assert.equal((await cli(dir, 'index', 'rebuild')).code, 0);
  const s = await cli(dir, 'search', 'has:pdf', '--json');
  assert.equal(JSON.parse(s.stdout).hits.length, stored.length);
  assert.deepEqual(readdirSync(path.join(dir, 'storage/by_key')).filter((n) => n.startsWith('.')), []);
});

test('check finds undefined citations and exits 1', async () => {
  const dir = project();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(dir, 'extra.tex'), 'See \\cite{nosuchkey2020}.\n');
  const r = await cli(dir, 'check', '.', '--json');
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout);
  assert.ok(out.findings.some((f: { code: string; key?: string }) => f.code === 'W_UNDEFINED_CITATION' && f.key === 'nosuchkey2020'));
});

test('a missing file is a one-line error and exit code 2', async () => {
  const r = await cli(tmpdir(), 'fetch', 'does-not-exist.bib');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^scholar: no such file or folder: .*does-not-exist\.bib \(E_NOT_FOUND\)\n$/);
});
