// The window rule of the rate gate (issue 15): a lane's requests keep the limit at the server
// whatever each one takes on the way there. The wire benchmark through tinyproxy on a loaded machine
// found the case spacing alone cannot cover: one request of a window held up 145 ms on its way to
// the server's clock, the next one 10 ms, so two requests that left 1,109 ms apart arrived 974 ms
// apart. The relay below does that on purpose, by more than any fixed margin covers.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { it } from 'node:test';
import { Gate } from '../../src/core/net/gate';
import { ScholarHttp } from '../../src/core/net/http';
import * as crossref from '../../src/core/sources/crossref';
import { startReplayServer } from '../../src/replay';

/**
 * A TCP relay in front of the server that holds the bytes of some requests (client → server only)
 * for `holdMs(i)`, i counting requests in the order they reach the relay, and forwards the others
 * at once: the uneven delay of a busy proxy. Order within a connection is kept.
 */
async function unevenRelay(targetPort: number, holdMs: (i: number) => number): Promise<{ origin: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let requests = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let chain = Promise.resolve();
    client.on('data', (d) => {
      // A GET without a body arrives as one chunk on loopback; a chunk that starts a request line is one request.
      const hold = /^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(d.toString('latin1', 0, 200)) ? holdMs(requests++) : 0;
      chain = chain.then(() => new Promise<void>((r) => setTimeout(r, hold))).then(() => void upstream.write(d));
    });
    upstream.on('data', (d) => client.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    origin: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

it('a path that holds every other request back by 400 ms: the server still counts no violation (1 req/s, and 3 searches/s inside 10 req/s)', async () => {
  const replay = await startReplayServer({
    limits: {
      semanticScholar: { requests: 1, intervalMs: 1000, concurrency: 1 },
      crossref: { requests: 10, intervalMs: 1000, concurrency: 3 },
    },
    listLimits: { crossref: { requests: 3, intervalMs: 1000, concurrency: 3 } },
    latencyMs: [5, 20],
  });
  const relay = await unevenRelay(Number(new URL(replay.origin).port), (i) => (i % 2 === 0 ? 400 : 0));
  const http = new ScholarHttp({
    email: 'window@example.org',
    endpoints: { semanticScholar: `${relay.origin}/s2`, crossref: `${relay.origin}/crossref` },
  });
  try {
    await Promise.all([
      ...Array.from({ length: 5 }, () => http.getJson('semanticScholar', '/graph/v1/paper/DOI:10.1063/1.4938384', { nullOn: [404] })),
      ...Array.from({ length: 8 }, (_, i) => crossref.searchBibliographic(http, { bibliographic: `uneven path ${i}` })),
    ]);
    const s = replay.stats();
    assert.deepEqual(s.violations, {}, JSON.stringify(s.violationLog));
    assert.deepEqual(s.status429, {});
    // Each request once: no 429 was retried.
    assert.equal(s.requests.semanticScholar, 5);
    assert.equal(s.requests.crossref, 8);
  } finally {
    await http.close();
    await relay.close();
    await replay.close();
  }
});

it('the gate lets request N+1 leave only after request 1 was answered, and a full window after that answer', async () => {
  const g = new Gate({ requests: 2, intervalMs: 300 }, 3);
  const a = await g.acquire();
  a.departed();
  const b = await g.acquire();
  b.departed();
  let third: number | undefined;
  const c = g.acquire().then((t) => ((third = performance.now()), t));
  // Far past the spacing (150 ms) and the window: still held, because nobody knows when `a` arrived.
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(third, undefined, 'admitted while the request two places before it was unanswered');
  // `b` answered first changes nothing: the rule is about the request N places before.
  b.answered();
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(third, undefined, 'admitted on the answer of the wrong request');
  const answeredAt = performance.now();
  a.answered();
  const tc = await c;
  assert.ok(third! - answeredAt >= 300 - 2, `left ${third! - answeredAt} ms after the answer, within the window`);
  for (const t of [a, b, tc]) t.release();
});

it('a request that failed before leaving does not hold the window; one that left and failed counts from its failure', async () => {
  const g = new Gate({ requests: 1, intervalMs: 200 }, 2);
  const a = await g.acquire();
  // No connection: never departed, released.
  a.release();
  const b = await g.acquire();
  b.departed();
  let cAt: number | undefined;
  const c = g.acquire().then((t) => ((cAt = performance.now()), t));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(cAt, undefined, 'admitted while the request before it was in flight');
  const failedAt = performance.now();
  // Left, then a reset: no answer, released.
  b.release();
  const tc = await c;
  assert.ok(cAt! - failedAt >= 200 - 2, `left ${cAt! - failedAt} ms after the failure`);
  tc.release();
});

it("a Crossref list request the caller did not mark as a search (a batch lookup by filter) still keeps the list limit", async () => {
  const replay = await startReplayServer({
    limits: { crossref: { requests: 10, intervalMs: 1000, concurrency: 3 } },
    listLimits: { crossref: { requests: 3, intervalMs: 1000, concurrency: 3 } },
    latencyMs: [5, 20],
  });
  const http = new ScholarHttp({ email: 'window@example.org', endpoints: replay.endpoints });
  try {
    await Promise.all(Array.from({ length: 7 }, (_, i) => http.getJson('crossref', '/works', { query: { filter: `doi:10.5555/batch.${i}`, rows: 20 } })));
    const s = replay.stats();
    assert.deepEqual(s.violations, {}, JSON.stringify(s.violationLog));
    assert.equal(s.requests.crossref, 7);
  } finally {
    await http.close();
    await replay.close();
  }
});
