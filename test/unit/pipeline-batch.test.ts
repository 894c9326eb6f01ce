// Micro-batching (src/core/pipeline/batcher.ts) and OpenAlex's batch form (filter=doi:A|B|…)
// against the replay server: one request answers many keys with the same records the singleton
// form gives, a failed batch is halved down to the one bad key, a cancelled item stops waiting alone.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { ScholarHttp } from '../../src/core/net/http';
import * as openalex from '../../src/core/sources/openalex';
import { Batcher } from '../../src/core/pipeline/batcher';
import { startReplayServer, type ReplayServer } from '../../src/replay';

let replay: ReplayServer;
let http: ScholarHttp;
const fast = { rate: { requests: 1000, intervalMs: 1000 }, concurrency: 8 };
// Recorded OpenAlex bodies (test/fixtures/api) and corpus works.
const KNOWN = ['10.1073/pnas.1414271111', '10.1063/1.4938384', '10.1007/s10468-019-09889-1', '10.1002/aqc.3262'];
const UNKNOWN = '10.1046/j.1365-2699.2003.00795';

before(async () => {
  replay = await startReplayServer();
  http = new ScholarHttp({ email: 'batch@example.org', endpoints: replay.endpoints, policies: { openalex: fast } });
});
after(async () => {
  await http.close();
  await replay.close();
});

const openalexRequests = () => replay.stats().log.filter((l) => l.service === 'openalex').length;

describe('openalex batch', () => {
  it('answers many DOIs in one request, with what the singleton form says about each', async () => {
    const before = openalexRequests();
    const map = await openalex.worksByDois(http, [...KNOWN, UNKNOWN]);
    assert.equal(openalexRequests() - before, 1);
    assert.deepEqual([...map.keys()].sort(), [...KNOWN].sort(), 'the unknown DOI is absent, not an error');
    for (const d of KNOWN) {
      const one = (await openalex.workByDoi(http, d))!;
      const many = map.get(d)!;
      assert.equal(many.doi, one.doi);
      assert.equal(many.title, one.title);
      assert.deepEqual(many.oaLocations, one.oaLocations, `${d}: the same PDF locations`);
      assert.equal(many.arxivId, one.arxivId);
    }
  });

  it('the replay refuses more than 100 values, as OpenAlex does', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `10.9999/x${i}`);
    const r = await fetch(`${replay.endpoints.openalex}/works?filter=doi:${many.join('|')}`);
    assert.equal(r.status, 400);
    await assert.rejects(openalex.worksByDois(http, many), RangeError);
  });
});

describe('batcher', () => {
  it('collects the keys asked together into one request and fans the answers out', async () => {
    const calls: string[][] = [];
    const b = new Batcher<string, string>({ size: 100, maxWaitMs: 20, run: async (keys) => (calls.push(keys), new Map(keys.map((k) => [k, k.toUpperCase()]))) });
    const got = await Promise.all(['a', 'b', 'c', 'a'].map((k) => b.get(k)));
    assert.deepEqual(got, ['A', 'B', 'C', 'A']);
    assert.deepEqual(calls, [['a', 'b', 'c']], 'one request, each key once');
  });

  it('sends a full batch at once and the rest after it', async () => {
    const calls: string[][] = [];
    const b = new Batcher<number, number>({ size: 3, maxWaitMs: 10_000, run: async (keys) => (calls.push(keys.map(String)), new Map(keys.map((k) => [k, k * 2]))) });
    const first = Promise.all([1, 2, 3].map((k) => b.get(k)));
    assert.deepEqual(await first, [2, 4, 6], 'a full batch does not wait for the timer');
    assert.deepEqual(calls, [['1', '2', '3']]);
  });

  it('splits a failed batch in halves until only the bad key fails', async () => {
    const calls: string[][] = [];
    const b = new Batcher<string, string>({
      size: 8,
      maxWaitMs: 10,
      run: async (keys) => {
        calls.push(keys);
        if (keys.includes('bad')) throw Object.assign(new Error('400 for the whole batch'), { code: 'E_HTTP_STATUS' });
        return new Map(keys.map((k) => [k, `ok:${k}`]));
      },
    });
    const keys = ['a', 'b', 'c', 'bad', 'e', 'f', 'g', 'h'];
    const results = await Promise.allSettled(keys.map((k) => b.get(k)));
    for (const [i, k] of keys.entries()) {
      if (k === 'bad') assert.equal(results[i]!.status, 'rejected');
      else assert.deepEqual(results[i], { status: 'fulfilled', value: `ok:${k}` });
    }
    // 8 → 4 + 4 → (2 + 2) → (1 + 1): the bad key alone at the end.
    assert.deepEqual(calls.map((c) => c.length), [8, 4, 4, 2, 2, 1, 1]);
    assert.deepEqual(calls.at(-2), ['c']);
    assert.deepEqual(calls.at(-1), ['bad']);
  });

  it('a cancelled item stops waiting; the others are answered', async () => {
    const b = new Batcher<string, string>({ size: 10, maxWaitMs: 30, run: async (keys) => new Map(keys.map((k) => [k, k])) });
    const ac = new AbortController();
    const gone = b.get('x', ac.signal);
    const kept = b.get('y');
    ac.abort(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
    await assert.rejects(gone, { name: 'AbortError' });
    assert.equal(await kept, 'y');
  });

  it('keys waiting on one signal share one abort listener, which goes when they are answered, and a cancel still reaches each', async () => {
    // A job primes its 5,000 DOIs with its one signal: a listener per key made priming quadratic.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const b = new Batcher<string, string>({ size: 100, maxWaitMs: 10, run: async (keys) => (await gate, new Map(keys.map((k) => [k, k.toUpperCase()]))) });
    const job = new AbortController();
    const answered = Array.from({ length: 1000 }, (_, i) => b.get(`k${i}`, job.signal));
    assert.equal(getEventListeners(job.signal, 'abort').length, 1);
    release();
    assert.deepEqual((await Promise.all(answered)).slice(0, 2), ['K0', 'K1']);
    assert.equal(getEventListeners(job.signal, 'abort').length, 0, 'no listener left behind');
    // Cancelled while waiting: every key of the signal is rejected, none is left pending.
    const stuck = new Batcher<string, string>({ size: 100, maxWaitMs: 10, run: () => new Promise(() => undefined) });
    const cancel = new AbortController();
    const waiting = Array.from({ length: 300 }, (_, i) => stuck.get(`c${i}`, cancel.signal));
    assert.equal(getEventListeners(cancel.signal, 'abort').length, 1);
    cancel.abort(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
    const outcomes = await Promise.allSettled(waiting);
    assert.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).name === 'AbortError'));
  });
});
