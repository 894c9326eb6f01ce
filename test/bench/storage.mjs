// Storage and index benchmark: writer commit rate and latency (fsync on), index search latency
// and rebuild time at 50,000 entries. Prints one JSON object.
//   node test/bench/storage.mjs [--entries 50000] [--keep]
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const N = Number(args[args.indexOf('--entries') + 1] || 0) || 50_000;
const outDir = path.join(root, 'out/bench');
mkdirSync(outDir, { recursive: true });
await esbuild.build({
  stdin: {
    contents: `export { StorageWriter } from './src/core/storage/writer';
      export { LibraryIndex } from './src/core/index/library';
      export { keyToFolderName } from './src/core/storage/keys';`,
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: path.join(outDir, 'storage-lib.js'),
  logLevel: 'warning',
});
copyFileSync(path.join(root, 'node_modules/sql.js/dist/sql-wasm.wasm'), path.join(outDir, 'sql-wasm.wasm'));
const { StorageWriter, LibraryIndex, keyToFolderName } = createRequire(import.meta.url)(path.join(outDir, 'storage-lib.js'));

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(3);
};
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const now = () => process.hrtime.bigint();

let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = (a) => a[Math.floor(rnd() * a.length)];
const VOCAB = Array.from({ length: 3000 }, (_, i) => {
  const syll = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vo', 'xi', 'ze', 'qu', 'tor', 'lin', 'gra', 'phe', 'son'];
  let w = '';
  let n = i + 7;
  do {
    w += syll[n % syll.length];
    n = Math.floor(n / syll.length);
  } while (n > 0);
  return w;
});
const FAMILIES = Array.from({ length: 2000 }, (_, i) => `Fam${VOCAB[(i * 7) % VOCAB.length]}`);
const TAGS = ['ml', 'nlp', 'vision', 'theory', 'survey', 'toread', 'bio', 'graphs'];
function synthetic(i) {
  const words = (n) => Array.from({ length: n }, () => pick(VOCAB)).join(' ');
  return {
    schemaVersion: 1,
    key: `${pick(FAMILIES).toLowerCase()}${1950 + (i % 75)}-${i}`,
    doi: rnd() < 0.7 ? `10.${1000 + (i % 9000)}/bench.${i}` : undefined,
    identifiers: {},
    title: words(6 + Math.floor(rnd() * 8)),
    authors: Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => ({ family: pick(FAMILIES), given: 'A.' })),
    year: 1950 + (i % 75),
    venue: `Journal of ${pick(VOCAB)}`,
    type: 'article',
    abstract: words(80 + Math.floor(rnd() * 120)),
    provenance: { title: 'bench' },
    match: { score: rnd(), outcome: pick(['accepted', 'accepted', 'review', 'not_found']) },
    tags: rnd() < 0.3 ? [pick(TAGS)] : undefined,
    updatedAt: '2024-01-01T00:00:00.000Z',
  };
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'scholar-bench-'));
const result = { node: process.version, platform: `${process.platform}-${process.arch}`, entries: N };
try {
  // 1. Writer: sequential awaited commits (latency) and a burst of distinct keys (throughput), fsync on.
  {
    const storage = path.join(tmp, 'writer');
    const w = await StorageWriter.open(storage, { fsync: true });
    const lat = [];
    const SEQ = 300;
    const t0 = now();
    for (let i = 0; i < SEQ; i++) {
      const t = now();
      await w.writeMetadata(`seq${i}`, { title: `t${i}`, year: 2000 });
      lat.push(ms(t));
    }
    const seqMs = ms(t0);
    const BURST = 1000;
    const t1 = now();
    await Promise.all(Array.from({ length: BURST }, (_, i) => w.writeMetadata(`burst${i}`, { title: `t${i}` })));
    const burstMs = ms(t1);
    await w.close();
    result.writer = {
      fsync: true,
      sequential: { commits: SEQ, commitsPerSec: Math.round((SEQ / seqMs) * 1000), latencyMsP50: pct(lat, 50), latencyMsP99: pct(lat, 99) },
      burstDistinctKeys: { commits: BURST, commitsPerSec: Math.round((BURST / burstMs) * 1000) },
    };
  }

  // 2. Index: bulk load, search latency.
  const metas = Array.from({ length: N }, (_, i) => synthetic(i));
  {
    const storage = path.join(tmp, 'index');
    mkdirSync(storage, { recursive: true });
    const idx = await LibraryIndex.createEmpty(storage, { wasmPath: path.join(outDir, 'sql-wasm.wasm') });
    let t = now();
    for (let i = 0; i < N; i += 5000) idx.upsertMany(metas.slice(i, i + 5000).map((meta) => ({ meta })));
    const loadMs = ms(t);
    // Query kinds, 50 each (100 single words): the p95 is over all of them; per kind below.
    const queries = [];
    const add = (kind, n, gen) => {
      for (let i = 0; i < n; i++) queries.push({ kind, q: gen() });
    };
    add('word', 100, () => pick(VOCAB));
    add('two words', 50, () => `${pick(VOCAB)} ${pick(VOCAB)}`);
    add('3-letter prefix', 50, () => pick(VOCAB).slice(0, 3));
    add('author:', 50, () => `author:${pick(FAMILIES).slice(0, 6)}`);
    add('word year:', 50, () => `${pick(VOCAB)} year:1990..2010`);
    add('filters only', 50, () => `tag:${pick(TAGS)} -has:pdf status:accepted`);
    add('word author: year:', 50, () => `${pick(VOCAB)} author:${pick(FAMILIES).slice(0, 5)} year:1980..`);
    // Two adjacent words of a stored title, quoted.
    add('"phrase"', 50, () => {
      const w = pick(metas).title.split(' ');
      const i = Math.floor(rnd() * (w.length - 1));
      return `"${w[i]} ${w[i + 1]}"`;
    });
    // A new process's view: save, open the file, then the first search builds the in-memory
    // search side from the database (the extension does this in the background after opening).
    t = now();
    const bytes = idx.exportBytes();
    const exportMs = ms(t);
    const dbFile = path.join(storage, 'library.sqlite');
    writeFileSync(dbFile, bytes);
    idx.close();
    t = now();
    const loaded = await LibraryIndex.open(storage, { wasmPath: path.join(outDir, 'sql-wasm.wasm'), reconcile: false });
    const openMs = ms(t);
    const mem = () => {
      globalThis.gc?.();
      return process.memoryUsage();
    };
    const mem0 = mem();
    t = now();
    loaded.search('warmup');
    const buildMs = ms(t);
    const mem1 = mem();
    const MB = (b) => +(b / 2 ** 20).toFixed(1);
    const fp = loaded.searchFootprint();
    const searchMemory = {
      postings: fp.postings,
      typedArraysMB: MB(fp.typedArrayBytes),
      jsHeapDeltaMB: MB(mem1.heapUsed - mem0.heapUsed),
      // Includes the growth of sql.js's WebAssembly memory while the build read every row.
      arrayBuffersDeltaMB: MB(mem1.arrayBuffers - mem0.arrayBuffers),
    };
    const lat = [];
    const byKind = {};
    let hits = 0;
    for (const { kind, q } of queries) {
      t = now();
      hits += loaded.search(q, { limit: 50 }).length;
      const d = ms(t);
      lat.push(d);
      (byKind[kind] ??= []).push(d);
    }
    loaded.close();
    result.index = {
      bulkLoadMs: Math.round(loadMs),
      queries: queries.length,
      avgHits: +(hits / queries.length).toFixed(1),
      searchMsP50: pct(lat, 50),
      searchMsP95: pct(lat, 95),
      searchMsMax: pct(lat, 100),
      byKind: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, { queries: v.length, p50: pct(v, 50), p95: pct(v, 95) }])),
      firstSearchBuildMs: Math.round(buildMs),
      searchMemory,
      fileBytes: statSync(dbFile).size,
      exportMs: Math.round(exportMs),
      openFromFileMs: Math.round(openMs),
    };
  }

  // 3. Rebuild from N folders.
  {
    const storage = path.join(tmp, 'rebuild');
    const byKey = path.join(storage, 'by_key');
    mkdirSync(byKey, { recursive: true });
    for (const m of metas) {
      const dir = path.join(byKey, keyToFolderName(m.key));
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify(m, null, 2));
    }
    const t = now();
    const idx = await LibraryIndex.open(storage, { wasmPath: path.join(outDir, 'sql-wasm.wasm') });
    const rebuildMs = ms(t);
    const count = idx.stats().entries;
    writeFileSync(path.join(storage, 'library.sqlite'), idx.exportBytes());
    idx.close();
    const t2 = now();
    const again = await LibraryIndex.open(storage, { wasmPath: path.join(outDir, 'sql-wasm.wasm') });
    const reconcileMs = ms(t2);
    again.close();
    result.rebuild = { folders: N, indexed: count, rebuildMs: Math.round(rebuildMs), openWithReconcileMs: Math.round(reconcileMs) };
  }
} finally {
  if (!args.includes('--keep')) rmSync(tmp, { recursive: true, force: true });
}
console.log(JSON.stringify(result, null, 2));
