import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { ScholarHttp } from '../../src/core/net/http';
import * as crossref from '../../src/core/sources/crossref';
import { startReplayServer, type ReplayServer } from '../../src/replay';

let replay: ReplayServer;
let http: ScholarHttp;
const N = 50;
const C = 4;

before(async () => {
  replay = await startReplayServer({ limits: { crossref: { requests: N, intervalMs: 1000, concurrency: C } }, latencyMs: [5, 40] });
  http = new ScholarHttp({ email: 'rate@example.org', endpoints: replay.endpoints, policies: { crossref: { rate: { requests: N, intervalMs: 1000 }, concurrency: C } } });
});
after(async () => {
  await http.close();
  await replay.close();
});

it(`200 queued requests at ${N} req/s and ${C} concurrent: no violation, no 429`, async () => {
  const dois = ['10.1063/1.4938384', '10.1073/pnas.1414271111', '10.1002/jor.1100150407', '10.1109/icdcsw.2003.1203662'];
  const t0 = Date.now();
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => crossref.workByDoi(http, dois[i % dois.length])));
  const elapsed = Date.now() - t0;
  assert.equal(results.filter(Boolean).length, 200);
  const s = replay.stats();
  assert.equal(s.requests.crossref, 200);
  assert.equal(s.violations.crossref ?? 0, 0);
  assert.equal(s.status429.crossref ?? 0, 0);
  assert.ok((s.maxInFlight.crossref ?? 0) <= C);
  // 200 starts spaced at 1/N s cannot finish faster than (200-1)/N s.
  assert.ok(elapsed >= ((200 - 1) / N) * 1000 - 50, `took ${elapsed} ms`);
  assert.equal(http.stats().crossref.status429, 0);
  // Measured compliance: the densest 1 s window of arrivals.
  const times = s.log.filter((l) => l.service === 'crossref').map((l) => l.t);
  let densest = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= 1000) j++;
    densest = Math.max(densest, i - j + 1);
  }
  assert.ok(densest <= N, `densest window ${densest}`);
  console.log(`rate compliance: 200 requests in ${elapsed} ms, densest 1 s window ${densest}/${N}, max concurrent ${s.maxInFlight.crossref}/${C}`);
});

it('spacing carries a relative margin; an absolute margin is added after an unexpected 429 and widened up to a cap', async () => {
  const { Gate, spacingOf, RATE_SAFETY_MARGIN, RATE_JITTER_MS, MAX_JITTER_MS } = await import('../../src/core/net/gate');
  // 3 per second: three gaps cover the window plus the relative margin, whatever the rate.
  assert.ok(3 * spacingOf({ requests: 3, intervalMs: 1000 }) >= 1000 * (1 + RATE_SAFETY_MARGIN) - 1e-9);
  assert.ok(10 * spacingOf({ requests: 10, intervalMs: 1000 }, RATE_JITTER_MS) >= 1000 + RATE_JITTER_MS);
  const g = new Gate({ requests: 10, intervalMs: 1000 }, 1);
  // None at first: the window rule (test/unit/net-window.test.ts) covers the path's jitter.
  assert.equal(g.jitterMs, 0);
  g.widenJitterMargin();
  assert.equal(g.jitterMs, RATE_JITTER_MS);
  for (let i = 0; i < 5; i++) g.widenJitterMargin();
  assert.equal(g.jitterMs, MAX_JITTER_MS);
  // Departures, not admissions: while the previous request has not left (its connection is still
  // being set up), the next one waits, however long that takes; then it waits one spacing more.
  const fresh = new Gate({ requests: 10, intervalMs: 1000 }, 3);
  const a = await fresh.acquire();
  let admittedAt = 0;
  const b = fresh.acquire().then((t) => ((admittedAt = performance.now()), t));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(admittedAt, 0, 'admitted while the previous request had not left');
  const leftAt = performance.now();
  a.departed();
  const tb = await b;
  assert.ok(admittedAt - leftAt >= spacingOf({ requests: 10, intervalMs: 1000 }) - 3, `admitted ${admittedAt - leftAt} ms after the departure`);
  a.release();
  tb.release();
});
