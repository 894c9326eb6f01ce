import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline, type PipelineMessage, type StageDef } from '../../src/core/pipeline/pipeline';
import { BoundedQueue } from '../../src/core/pipeline/queue';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    });
  });

interface Item {
  key: string;
  trail: string[];
}

function stage(name: string, concurrency: number, ms: number, track: { max: Record<string, number>; cur: Record<string, number> }, fail?: (i: Item) => string | undefined): StageDef<Item> {
  return {
    name,
    concurrency,
    async run(item, ctx) {
      track.cur[name] = (track.cur[name] ?? 0) + 1;
      track.max[name] = Math.max(track.max[name] ?? 0, track.cur[name]);
      try {
        await sleep(ms, ctx.signal);
        const reason = fail?.(item);
        if (reason) return { kind: 'fail', item, reason, permanent: reason === 'E_PERMANENT', message: reason };
        return { kind: 'next', item: { ...item, trail: [...item.trail, name] } };
      } finally {
        track.cur[name]--;
      }
    },
  };
}

test('every item passes every stage once, in stage order, with per-stage concurrency respected', async () => {
  const track = { max: {} as Record<string, number>, cur: {} as Record<string, number> };
  const messages: PipelineMessage[] = [];
  const items = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, trail: [] as string[] }));
  const p = new Pipeline<Item>({
    stages: [stage('resolve', 3, 2, track), stage('locate', 2, 3, track), stage('download', 4, 5, track)],
    keyOf: (i) => i.key,
    maxInFlight: 6,
    onMessage: (m) => messages.push(m),
  });
  const stats = await p.run(items);
  assert.equal(stats.done, 40);
  assert.equal(stats.failed, 0);
  assert.ok(track.max.resolve <= 3 && track.max.locate <= 2 && track.max.download <= 4, JSON.stringify(track.max));
  const done = messages.filter((m) => m.type === 'item_done');
  assert.equal(done.length, 40);
  assert.deepEqual(new Set(done.map((m) => m.key)).size, 40);
  assert.deepEqual(stats.stages.map((s) => s.done), [40, 40, 40]);
});

test('the global cap bounds items in flight across all stages', async () => {
  let inFlight = 0;
  let maxSeen = 0;
  const enter: StageDef<Item> = {
    name: 'a',
    concurrency: 10,
    async run(item) {
      inFlight++;
      maxSeen = Math.max(maxSeen, inFlight);
      await sleep(1);
      return { kind: 'next', item };
    },
  };
  const leave: StageDef<Item> = {
    name: 'b',
    concurrency: 10,
    async run(item) {
      await sleep(3);
      inFlight--;
      return { kind: 'next', item };
    },
  };
  const p = new Pipeline<Item>({ stages: [enter, leave], keyOf: (i) => i.key, maxInFlight: 5, onMessage: () => {} });
  await p.run(Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, trail: [] })));
  assert.ok(maxSeen <= 5, `at most 5 in flight, saw ${maxSeen}`);
});

test('failures are recorded per reason and do not stop the run', async () => {
  const track = { max: {} as Record<string, number>, cur: {} as Record<string, number> };
  const msgs: PipelineMessage[] = [];
  const p = new Pipeline<Item>({
    stages: [stage('a', 2, 1, track, (i) => (i.key.endsWith('3') ? 'E_PERMANENT' : i.key.endsWith('7') ? 'E_HTTP_STATUS' : undefined)), stage('b', 2, 1, track)],
    keyOf: (i) => i.key,
    maxInFlight: 4,
    onMessage: (m) => msgs.push(m),
  });
  const stats = await p.run(Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, trail: [] })));
  assert.equal(stats.failed, 4);
  assert.equal(stats.done, 16);
  assert.deepEqual(stats.stages[0].failedByReason, { E_PERMANENT: 2, E_HTTP_STATUS: 2 });
  const failed = msgs.filter((m): m is Extract<PipelineMessage, { type: 'item_failed' }> => m.type === 'item_failed');
  assert.equal(failed.filter((m) => m.permanent).length, 2);
});

test('cancel aborts in-flight work, drops queued items, and every item is accounted for', async () => {
  const track = { max: {} as Record<string, number>, cur: {} as Record<string, number> };
  const p = new Pipeline<Item>({ stages: [stage('slow', 2, 10_000, track)], keyOf: (i) => i.key, maxInFlight: 4, onMessage: () => {} });
  const started = Date.now();
  const run = p.run(Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, trail: [] })));
  await sleep(30);
  p.cancel();
  const stats = await run;
  assert.ok(Date.now() - started < 2000, 'cancel returns promptly');
  assert.equal(stats.cancelled, true);
  assert.equal(stats.done + stats.failed, 30);
  assert.equal(stats.outcomes.cancelled, 30);
  assert.equal(stats.inFlight, 0);
});

test('pause stops new work from starting until resume', async () => {
  let started = 0;
  const s: StageDef<Item> = {
    name: 's',
    concurrency: 1,
    async run(item) {
      started++;
      await sleep(5);
      return { kind: 'next', item };
    },
  };
  const p = new Pipeline<Item>({ stages: [s], keyOf: (i) => i.key, maxInFlight: 2, onMessage: () => {} });
  const run = p.run(Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, trail: [] })));
  await sleep(12);
  p.pause();
  await sleep(10);
  const atPause = started;
  await sleep(40);
  assert.ok(started <= atPause + 1, `no new work while paused (${atPause} → ${started})`);
  assert.equal(p.stats().paused, true);
  p.resume();
  const stats = await run;
  assert.equal(stats.done, 10);
});

test('a bounded queue applies backpressure to producers', async () => {
  const q = new BoundedQueue<number>(2);
  await q.push(1);
  await q.push(2);
  let third = false;
  const p = q.push(3).then(() => (third = true));
  await sleep(5);
  assert.equal(third, false, 'push waits while full');
  assert.equal(await q.pop(), 1);
  await p;
  assert.equal(third, true);
  q.close();
  assert.equal(await q.pop(), 2);
  assert.equal(await q.pop(), 3);
  assert.equal(await q.pop(), undefined);
});
