// Stage worker pools: the pipeline's own pools (src/core/pipeline: a worker loop per slot over a
// BoundedQueue, a Semaphore for items in flight) against the same pipeline on p-queue (a PQueue per
// stage with its concurrency, `onSizeLessThan` for backpressure, one AbortSignal), for issue 16.
// p-queue is not a dependency: point PQUEUE at an install of it.
//
//   npm install --prefix /tmp/pq p-queue@9.0.0
//   node esbuild.mjs --tests && PQUEUE=/tmp/pq/node_modules/p-queue/dist/index.js node test/bench/pools.mjs
//
// Two workloads over the fetch pipeline's shape (5 stages, concurrency 8/8/16/8/2, 64 in flight):
// "overhead" (each stage yields once: the cost of the pool itself, per item and stage) and "timers"
// (each stage waits 1–4 ms, the commit stage 0.5 ms: is the makespan what the concurrency allows?).
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setMaxListeners } from 'node:events';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const out = mkdtempSync(path.join(tmpdir(), 'scholar-pools-'));
await build({ entryPoints: [path.join(root, 'src/core/pipeline/pipeline.ts')], bundle: true, platform: 'node', format: 'esm', outfile: path.join(out, 'pipeline.mjs'), logLevel: 'error' });
const { Pipeline } = await import(pathToFileURL(path.join(out, 'pipeline.mjs')).href);
const { default: PQueue } = await import(process.env.PQUEUE ?? 'p-queue');

const CONC = [8, 8, 16, 8, 2];
const IN_FLIGHT = 64;
const N = Number(process.env.POOLS_N ?? 5000);

function rng(seed) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}
const work = {
  overhead: () => () => new Promise((r) => setImmediate(r)),
  timers: () => {
    const rand = rng(7);
    return (stage) => new Promise((r) => setTimeout(r, stage === 4 ? 0.5 : 1 + 3 * rand()));
  },
};

async function ours(fn) {
  const p = new Pipeline({
    stages: CONC.map((c, i) => ({ name: `s${i}`, concurrency: c, async run(item) { await fn(i); return i === CONC.length - 1 ? { kind: 'done', item, outcome: 'ok' } : { kind: 'next', item }; } })),
    keyOf: (x) => String(x),
    maxInFlight: IN_FLIGHT,
    onMessage() {},
  });
  const s = await p.run(Array.from({ length: N }, (_, i) => i));
  if (s.done !== N) throw new Error('lost items');
}

async function pqueue(fn) {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  const queues = CONC.map((c) => new PQueue({ concurrency: c }));
  let inFlight = 0;
  let done = 0;
  let wakeFeeder;
  const finished = new Promise((resolve) => {
    const step = (i, item) => queues[i].add(async () => {
      await fn(i);
      if (i + 1 < CONC.length) {
        // Backpressure: wait while the next stage's queue is full, as BoundedQueue.push does.
        await queues[i + 1].onSizeLessThan(IN_FLIGHT);
        void step(i + 1, item);
      } else {
        inFlight--;
        wakeFeeder?.();
        if (++done === N) resolve();
      }
    }, { signal: ac.signal });
    (async () => {
      for (let i = 0; i < N; i++) {
        while (inFlight >= IN_FLIGHT) await new Promise((r) => (wakeFeeder = r));
        inFlight++;
        await queues[0].onSizeLessThan(IN_FLIGHT);
        void step(0, i);
      }
    })();
  });
  await finished;
}

const runs = Number(process.env.POOLS_RUNS ?? 5);
const rows = [];
for (const [wname, mk] of Object.entries(work)) {
  for (const [name, impl] of [['own pools', ours], ['p-queue', pqueue]]) {
    const t = [];
    const cpu = [];
    for (let r = 0; r < runs; r++) {
      const fn = mk();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await impl(fn);
      t.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const med = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
    rows.push({ workload: wname, impl: name, makespanMs: Math.round(med(t)), cpuMs: Math.round(med(cpu)), cpuUsPerItemStage: Math.round((med(cpu) * 1000) / (N * CONC.length) * 10) / 10 });
  }
}
console.table(rows);
console.log(JSON.stringify({ n: N, runs, rows }));
