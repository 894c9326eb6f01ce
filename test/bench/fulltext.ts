// Full-text figures (node test/bench/run.mjs --only fulltext): pdf.js extraction of stored PDFs in
// the worker thread while this process's event loop is watched, and search over the full text of
// a large library. Prints one JSON object on stdout.
//
//   node out/bench/fulltext.js --pdfs 1000 --papers 10000 --worker dist/pdfTextWorker.js
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { StorageWriter } from '../../src/core/storage/writer';
import { LibraryIndex } from '../../src/core/index/library';
import { extractMissingFulltext } from '../../src/core/fulltext/extract';
import { formatFulltext } from '../../src/core/storage/fulltext';
import { PdfTextPool } from '../../src/core/pdf/text';
import { fulltextPath, storagePaths } from '../../src/core/storage/layout';
import type { Metadata } from '../../src/core/storage/metadata';

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1]! : d;
};
const PDFS = Number(opt('--pdfs', '1000'));
const PAPERS = Number(opt('--papers', '10000'));
const WORDS_PER_PAPER = Number(opt('--words', '6000'));
const QUERIES = Number(opt('--queries', '200'));
const WARMUP = Number(opt('--warmup', '20'));
/** Snippets per search (LibraryIndex's default: every row returned, here the limit of 50); 0 measures the ranking alone. */
const SNIPPETS = Number(opt('--snippets', '50'));
const root = path.resolve(__dirname, '../..');
const workerPath = path.resolve(root, opt('--worker', 'dist/pdfTextWorker.js'));
const wasmPath = path.join(__dirname, 'sql-wasm.wasm');
const FIXTURES = ['paper-a', 'paper-b', 'paper-c', 'lua-twocol', 'lua-type1', 'pdftex-twocol', 'unrelated'].map((n) => path.join(root, 'test/fixtures/pdf', `${n}.pdf`));

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const r2 = (x: number) => Math.round(x * 100) / 100;
const eldOf = (h: ReturnType<typeof monitorEventLoopDelay>) => ({
  p50Ms: r2(h.percentile(50) / 1e6 - 10),
  p99Ms: r2(h.percentile(99) / 1e6 - 10),
  maxMs: r2(h.max / 1e6 - 10),
  samples: h.count,
});

function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  return Object.assign(next, { state: () => s, restore: (x: number) => void (s = x) });
}

/** Part 1: extract the text of PDFS stored PDFs (copies of the real fixtures) through the worker, as `scholar index fulltext` does. */
async function extraction(dir: string) {
  const sroot = path.join(dir, 'extract');
  const index = await LibraryIndex.createEmpty(sroot, { wasmPath });
  const writer = await StorageWriter.open(sroot, { index, fsync: false });
  let pages = 0;
  for (let i = 0; i < PDFS; i++) {
    const src = FIXTURES[i % FIXTURES.length]!;
    const bytes = fs.readFileSync(src);
    const tmp = path.join(storagePaths(sroot).tmp, `p${i}.pdf`);
    fs.writeFileSync(tmp, bytes);
    await writer.commitPdf(`paper${i}`, tmp, { sourceUrl: 'file', source: 'entry', sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, retrievedAt: new Date().toISOString(), verified: 'doi' });
    pages++;
  }
  const pool = new PdfTextPool({ workerPath });
  // The machine's own contribution: the same timer, same length of time, nothing to do.
  const idle = monitorEventLoopDelay({ resolution: 10 });
  idle.enable();
  await new Promise((r) => setTimeout(r, Number(opt('--idle-ms', '15000'))));
  idle.disable();
  const h = monitorEventLoopDelay({ resolution: 10 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  h.enable();
  const report = await extractMissingFulltext({ root: sroot, writer, pool });
  h.disable();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await writer.close();
  await pool.close();
  index.close();
  return {
    pdfs: PDFS,
    pages,
    stored: report.stored,
    failed: report.failed.length,
    ms: Math.round(ms),
    pdfsPerSec: r2((PDFS / ms) * 1000),
    processCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    eventLoop: eldOf(h),
    idleEventLoop: eldOf(idle),
    load: os.loadavg().map((x) => r2(x)),
  };
}

/** Part 2: PAPERS papers with a synthetic full text each (Zipf-distributed words), searched. */
async function searchFigure(dir: string) {
  // --data DIR: keep the generated texts there and reuse them on the next run (same --papers and --words; profiling).
  const keep = opt('--data', '');
  const sroot = keep ? path.resolve(keep, `search-${PAPERS}x${WORDS_PER_PAPER}`) : path.join(dir, 'search');
  const saved = path.join(sroot, 'generated.json');
  fs.mkdirSync(path.join(sroot, 'by_key'), { recursive: true });
  const rnd = prng(20);
  // A vocabulary like a paper's: real title words from the corpus first (the frequent ones), then made-up rare ones.
  const real = new Set<string>();
  for (const line of fs.readFileSync(path.join(root, 'test/fixtures/corpus/crossref-works.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    for (const t of String(JSON.parse(line).title?.[0] ?? '').split(/\s+/)) if (/^[A-Za-z][a-z]{2,14}$/.test(t)) real.add(t.toLowerCase());
  }
  const vocab = [...real];
  while (vocab.length < 80_000) vocab.push(`${vocab[Math.floor(rnd() * real.size)]}${Math.floor(rnd() * 1e6).toString(36)}`);
  // Zipf (s ≈ 1) by inverse CDF over ranks.
  const H = vocab.reduce((a, _, i) => a + 1 / (i + 1), 0);
  const cdf = new Float64Array(vocab.length);
  let acc = 0;
  for (let i = 0; i < vocab.length; i++) cdf[i] = acc += 1 / (i + 1) / H;
  const draw = () => {
    const u = rnd();
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (cdf[m]! < u) lo = m + 1;
      else hi = m;
    }
    return vocab[lo]!;
  };
  const index = await LibraryIndex.createEmpty(sroot, { wasmPath });
  let metas: { meta: Metadata }[] = [];
  let bytes = 0;
  const reuse = keep && fs.existsSync(saved) ? (JSON.parse(fs.readFileSync(saved, 'utf8')) as { metas: { meta: Metadata }[]; bytes: number; rnd: number }) : undefined;
  if (reuse) {
    metas = reuse.metas;
    bytes = reuse.bytes;
    rnd.restore(reuse.rnd);
  }
  for (let i = 0; i < (reuse ? 0 : PAPERS); i++) {
    const key = `paper${String(i).padStart(5, '0')}`;
    const sha = createHash('sha256').update(key).digest('hex');
    let text = '';
    for (let line = 0; line * 12 < WORDS_PER_PAPER; line++) {
      const ws: string[] = [];
      for (let k = 0; k < 12; k++) ws.push(draw());
      text += ws.join(' ') + '\n';
    }
    const file = fulltextPath(sroot, key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const content = formatFulltext({ sha256: sha, pages: 10, truncated: false, text });
    bytes += content.length;
    fs.writeFileSync(file, content);
    const title = Array.from({ length: 8 }, () => vocab[Math.floor(rnd() * 3000)]!).join(' ');
    metas.push({
      meta: {
        schemaVersion: 1,
        key,
        identifiers: {},
        title,
        authors: [{ family: `Author${i % 700}` }],
        year: 1990 + (i % 35),
        provenance: {},
        pdf: { sourceUrl: 'file', source: 'entry', sha256: sha, size: 1, retrievedAt: '2026-01-01T00:00:00Z', verified: 'doi' },
        updatedAt: '2026-01-01T00:00:00Z',
      },
    });
  }
  if (keep && !reuse) fs.writeFileSync(saved, JSON.stringify({ metas, bytes, rnd: rnd.state() }));
  index.upsertMany(metas);
  index.search('warm'); // the metadata side, as the host's warmSearch does
  (global as { gc?: () => void }).gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const t0 = performance.now();
  await index.warmFullText();
  const loadMs = performance.now() - t0;
  h.disable();
  (global as { gc?: () => void }).gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
  // --settle-ms: idle time between the load and the queries (the GC's and the kernel's clean-up of the load runs on other threads meanwhile).
  await new Promise((r) => setTimeout(r, Number(opt('--settle-ms', '0'))));
  const fp = index.fullTextFootprint();
  // Queries: words at several frequency ranks, text: words and prefixes, phrases that occur (two adjacent words of a paper's text), with a filter.
  const pick = (lo: number, hi: number) => vocab[lo + Math.floor(rnd() * (hi - lo))]!;
  const phraseOf = () => {
    const key = `paper${String(Math.floor(rnd() * PAPERS)).padStart(5, '0')}`;
    const words = fs.readFileSync(fulltextPath(sroot, key), 'utf8').split('\n')[1 + Math.floor(rnd() * 50)]!.split(' ');
    const k = Math.floor(rnd() * 10);
    return `${words[k]} ${words[k + 1]}`;
  };
  const kinds: Record<string, () => string> = {
    'bare word, frequent (rank 10–100)': () => pick(10, 100),
    'bare word, middle (rank 1,000–5,000)': () => pick(1000, 5000),
    'bare word, rare (rank > 20,000)': () => pick(20_000, 80_000),
    'two bare words': () => `${pick(100, 2000)} ${pick(100, 2000)}`,
    'text:word (middle)': () => `text:${pick(1000, 5000)}`,
    'text:prefix (4 letters)': () => `text:${pick(100, 3000).slice(0, 4)}`,
    'text:"two-word phrase" that occurs': () => `text:"${phraseOf()}"`,
    'text:word year:2000..2010': () => `text:${pick(1000, 5000)} year:2000..2010`,
  };
  const results: Record<string, { p50Ms: number; p95Ms: number; maxMs: number; cpuP50Ms: number; cpuP95Ms: number; meanHits: number; withSnippet: number }> = {};
  const all: number[] = [];
  const allCpu: number[] = [];
  // --kinds SUBSTRING: only the query kinds whose name holds it (profiling one kind).
  const only = opt('--kinds', '');
  // --profile FILE: a CPU profile of the queries only (not of the load), for chrome://inspect or a script.
  const profile = opt('--profile', '');
  const tsv = opt('--tsv', '');
  const session = profile ? new Session() : undefined;
  const post = (m: string, p?: object) => new Promise<unknown>((res, rej) => session!.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));
  if (session) {
    session.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 100 });
  }
  let kindNo = 0;
  for (const [name, make] of Object.entries(kinds)) {
    if (only && !name.includes(only)) continue;
    const ms: number[] = [];
    const cpu: number[] = [];
    let hits = 0;
    let snippets = 0;
    // WARMUP queries of the kind first, not measured (other words: the random stream is set aside
    // and restored), so the figures are those of compiled code, not of its first runs.
    const stream = rnd.state();
    rnd.restore(0x5eed + kindNo);
    for (let i = 0; i < WARMUP; i++) index.search(make(), { limit: 50, snippets: SNIPPETS });
    rnd.restore(stream);
    if (session) await post('Profiler.start');
    if (tsv) console.error(`[fulltext] kind ${kindNo}: ${name}`);
    for (let i = 0; i < QUERIES; i++) {
      const q = make();
      const t = performance.now();
      const c = process.cpuUsage();
      const r = index.search(q, { limit: 50, snippets: SNIPPETS });
      const dc = process.cpuUsage(c);
      ms.push(performance.now() - t);
      // CPU time of the process (user + system; the worker thread is idle here): what a search costs without the waits a loaded machine adds.
      cpu.push((dc.user + dc.system) / 1000);
      hits += r.length;
      snippets += r.filter((x) => x.snippet).length;
      // --tsv FILE: every query with its wall-clock and CPU ms (which ones make the tail).
      if (tsv) fs.appendFileSync(tsv, `${kindNo}\t${q}\t${r2(ms[ms.length - 1]!)}\t${r2(cpu[cpu.length - 1]!)}\t${r.length}\n`);
    }
    if (session) {
      // One profile per kind: FILE.<n>.cpuprofile, n in the order of `kinds`.
      const r = (await post('Profiler.stop')) as { profile: unknown };
      fs.writeFileSync(`${profile}.${kindNo}.cpuprofile`, JSON.stringify(r.profile));
    }
    kindNo++;
    all.push(...ms);
    allCpu.push(...cpu);
    results[name] = { p50Ms: r2(pct(ms, 50)), p95Ms: r2(pct(ms, 95)), maxMs: r2(Math.max(...ms)), cpuP50Ms: r2(pct(cpu, 50)), cpuP95Ms: r2(pct(cpu, 95)), meanHits: r2(hits / QUERIES), withSnippet: r2(snippets / Math.max(1, hits)) };
  }
  session?.disconnect();
  index.close();
  return {
    papers: PAPERS,
    wordsPerPaper: WORDS_PER_PAPER,
    warmupPerKind: WARMUP,
    textMb: r2(bytes / 1e6),
    load: { ms: Math.round(loadMs), eventLoop: eldOf(h) },
    column: { ...fp, heapMb: r2(heapMb) },
    queriesPerKind: QUERIES,
    snippets: SNIPPETS,
    kinds: results,
    overall: { p50Ms: r2(pct(all, 50)), p95Ms: r2(pct(all, 95)), maxMs: r2(Math.max(...all)), cpuP50Ms: r2(pct(allCpu, 50)), cpuP95Ms: r2(pct(allCpu, 95)) },
    loadDuringQueries: os.loadavg().map((x) => r2(x)),
  };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-bench-fulltext-'));
  try {
    const ex = await extraction(dir);
    console.error(`[fulltext] extraction: ${ex.pdfs} PDFs in ${ex.ms} ms, event loop p99 ${ex.eventLoop.p99Ms} ms`);
    const se = await searchFigure(dir);
    console.error(`[fulltext] search: ${se.papers} papers, p95 ${se.overall.p95Ms} ms`);
    process.stdout.write(JSON.stringify({ extraction: ex, search: se }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
