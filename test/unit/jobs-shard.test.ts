// `--shard I/N`: four CLI processes (real processes, the CLI's own code, one replay server) share
// one storage folder and one .bib. Together they resolve and fetch everything once: each key is
// taken by exactly one shard, each PDF is downloaded once (counted at the replay server), every
// stored PDF matches its metadata, every DOI found reaches the .bib, and the index sees it all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseBib } from '../../src/core/bib/parse';
import { LibraryIndex } from '../../src/core/index/library';
import { validateMetadata } from '../../src/core/storage/metadata';
import { parseShard, shardOfKey } from '../../src/core/jobs/shard';
import { startReplayServer } from '../../src/replay/server';
import { endpointFlags } from './cli-helpers';

const repo = path.resolve(__dirname, '../..');
const N = 4;
const FAST = ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi', 'pdf'].flatMap((s) => ['--limit', `${s}=500/8`]);

/** The real CLI binary (dist/cli.js, built by esbuild.mjs) in its own process. */
function cliProcess(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(repo, 'dist/cli.js'), ...args], { cwd, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

{
  test('--shard parses I/N and splits keys by folder-name hash', () => {
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '2']) assert.throws(() => parseShard(bad), { code: 'E_USAGE' }, bad);
    const counts = new Array(N).fill(0);
    for (let i = 0; i < 400; i++) counts[shardOfKey(`key${i}`, N) - 1]++;
    for (const c of counts) assert.ok(c > 50, `every shard gets a share: ${counts}`);
    assert.equal(shardOfKey('Smith2020', 7), shardOfKey('Smith2020', 7), 'stable');
  });

  test('four shard processes on one storage folder: each key once, each PDF downloaded once, storage verifies', async () => {
    const replay = await startReplayServer({ fixturesDir: path.join(repo, 'test/fixtures') });
    const dir = mkdtempSync(path.join(tmpdir(), 'scholar-shard-'));
    cpSync(path.join(repo, 'examples/thesis'), dir, { recursive: true });
    const storage = path.join(dir, 'storage');
    const common = [...endpointFlags(replay.endpoints), '--mailto', 'shard@scholar.invalid', '--storage', storage, '--json', '--proxy', 'none', ...FAST];
    const run = (cmd: string) =>
      Promise.all(Array.from({ length: N }, (_, i) => cliProcess(dir, [cmd, 'refs.bib', '--shard', `${i + 1}/${N}`, ...common])));
    try {
      const bibKeys = parseBib(readFileSync(path.join(dir, 'refs.bib'), 'utf8')).entries.map((e) => e.key);

      const resolved = await run('resolve');
      const resolveOut = resolved.map((r) => {
        assert.ok(r.code === 0 || r.code === 1, r.stderr);
        return JSON.parse(r.stdout) as { shard: string; entries: { key: string; outcome: string; doi: string | null }[]; requests: Record<string, number>; files: { written: number; error?: string }[] };
      });
      const seenResolve = resolveOut.flatMap((o) => o.entries.map((e) => e.key));
      assert.deepEqual([...seenResolve].sort(), [...bibKeys].sort(), 'every key resolved by exactly one shard');
      for (const o of resolveOut) assert.ok(Object.keys(o.requests).length > 0, 'each job reports its requests per service');
      for (const o of resolveOut) for (const f of o.files) assert.equal(f.error, undefined, 'no shard lost its write-back to another');
      const accepted = resolveOut.flatMap((o) => o.entries.filter((e) => e.outcome === 'accept'));
      assert.ok(accepted.length >= 10, `accepted ${accepted.length}`);
      const after = parseBib(readFileSync(path.join(dir, 'refs.bib'), 'utf8'));
      for (const e of accepted) assert.equal(after.entries.find((x) => x.key === e.key)?.fields.get('doi')?.value, e.doi, `${e.key}: its shard's DOI is in the .bib`);

      const isPdf = (l: { service: string; path: string }) => l.service === 'pdf' || /\/pdf\//.test(l.path);
      const pdfRequestsBefore = replay.stats().log.length;
      const fetched = await run('fetch');
      const fetchOut = fetched.map((r) => {
        assert.ok(r.code === 0 || r.code === 1, r.stderr);
        return JSON.parse(r.stdout) as { shard: string; entries: { key: string; outcome: string }[] };
      });
      const seenFetch = fetchOut.flatMap((o) => o.entries.map((e) => e.key));
      assert.deepEqual([...seenFetch].sort(), [...bibKeys].sort(), 'every key fetched by exactly one shard');
      for (const o of fetchOut) for (const e of o.entries) assert.equal(shardOfKey(e.key, N), parseShard(o.shard).index, `${e.key} in its own shard`);
      const stored = fetchOut.flatMap((o) => o.entries.filter((e) => e.outcome === 'stored').map((e) => e.key));
      assert.ok(stored.length >= 10, `stored ${stored.length}`);

      // Each PDF URL was asked once, across the four processes.
      const pdfPaths = replay.stats().log.slice(pdfRequestsBefore).filter(isPdf).map((l) => l.path);
      const dup = pdfPaths.filter((p, i) => pdfPaths.indexOf(p) !== i);
      assert.deepEqual(dup, [], 'no PDF downloaded twice');
      assert.ok(pdfPaths.length >= stored.length);

      // The storage verifies: every folder's metadata is valid, every paper.pdf is the one it records.
      const byKey = path.join(storage, 'by_key');
      const folders = readdirSync(byKey).filter((n) => !n.startsWith('.'));
      assert.equal(new Set(folders).size, folders.length);
      let pdfs = 0;
      for (const f of folders) {
        const meta = validateMetadata(JSON.parse(readFileSync(path.join(byKey, f, 'metadata.json'), 'utf8')));
        const pdf = path.join(byKey, f, 'paper.pdf');
        if (meta.pdf) {
          const bytes = readFileSync(pdf);
          assert.equal(bytes.length, meta.pdf.size, `${f}: size`);
          assert.equal(createHash('sha256').update(bytes).digest('hex'), meta.pdf.sha256, `${f}: sha256`);
          pdfs++;
        } else assert.ok(!existsSync(pdf), `${f}: no PDF without metadata`);
      }
      assert.equal(pdfs, stored.length, 'one stored PDF per stored key');
      assert.deepEqual(readdirSync(path.join(storage, 'locks')).filter((n) => n.endsWith('.lock')), [], 'no lock left behind');

      // The index (the one the last process saved, reconciled with the folders) has every key.
      const idx = await LibraryIndex.open(storage);
      try {
        for (const k of stored) assert.ok(idx.get(k)?.pdf, `${k} in the index with its PDF`);
        assert.equal(idx.keys().length, folders.length);
      } finally {
        idx.close();
      }
    } finally {
      await replay.close();
    }
  });
}
