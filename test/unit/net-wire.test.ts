// Rate limits measured where they count: at the server, with strict windows, when requests leave
// late (a new connection's TLS handshake, a proxy's CONNECT) and when every service shares one
// origin behind a real proxy.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { runCli } from '../../src/cli/main';
import { ScholarHttp } from '../../src/core/net/http';
import { defaultPolicies, type ServiceName } from '../../src/core/net/policy';
import * as crossref from '../../src/core/sources/crossref';
import { startReplayServer, type ReplayLimit, type ReplayOptions, type ReplayStats } from '../../src/replay/server';
import { makeTestCa, startTinyproxy, type TestCa, type Tinyproxy } from './net-helpers';
import { endpointFlags, sink } from './cli-helpers';

const repo = path.resolve(__dirname, '../..');
let ca: TestCa;
let proxy: Tinyproxy;

before(async () => {
  ca = makeTestCa();
  proxy = await startTinyproxy();
});
after(async () => {
  await proxy.stop();
});

/** A TCP relay that holds each new connection's first bytes for `delayMs`: a slow handshake, as over a long path or a proxy. */
async function slowStartRelay(targetPort: number, delayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    const held: Buffer[] = [];
    let open = false;
    client.on('data', (d) => (open ? upstream.write(d) : held.push(d)));
    setTimeout(() => {
      open = true;
      for (const d of held) upstream.write(d);
    }, delayMs);
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
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

it('requests that leave late (150 ms TLS handshake per new connection) still keep 3 req/s at the server', async () => {
  const limit = { requests: 3, intervalMs: 1000, concurrency: 3 };
  const replay = await startReplayServer({ tls: { key: ca.keyPem, cert: ca.certPem }, limits: { crossref: limit }, latencyMs: [50, 200] });
  const relay = await slowStartRelay(Number(new URL(replay.origin).port), 150);
  const http = new ScholarHttp({
    email: 'wire@example.org',
    endpoints: { crossref: `https://127.0.0.1:${relay.port}/crossref` },
    policies: { crossref: { rate: { requests: 3, intervalMs: 1000 }, concurrency: 3 } },
    network: { ca: [ca.caPem] },
  });
  try {
    const dois = ['10.1063/1.4938384', '10.1073/pnas.1414271111', '10.1002/jor.1100150407', '10.1109/icdcsw.2003.1203662'];
    const results = await Promise.all(Array.from({ length: 15 }, (_, i) => crossref.workByDoi(http, dois[i % dois.length])));
    assert.equal(results.filter(Boolean).length, 15);
    const s = replay.stats();
    assert.equal(s.requests.crossref, 15);
    assert.equal(s.violations.crossref ?? 0, 0);
    assert.equal(s.status429.crossref ?? 0, 0);
    // Strict windows, recomputed from the server's own arrival log: never 4 arrivals within 1 s.
    const t = s.log.filter((l) => l.service === 'crossref').map((l) => l.t);
    for (let i = 3; i < t.length; i++) assert.ok(t[i] - t[i - 3] >= 1000, `arrivals ${t[i - 3]}…${t[i]} are ${t[i] - t[i - 3]} ms apart`);
  } finally {
    await http.close();
    await relay.close();
    await replay.close();
  }
});


/** The client's own (polite) limits, enforced by the server too: the real published ones or stricter. */
function realLimits(): { limits: Partial<Record<ServiceName, ReplayLimit>>; listLimits: Partial<Record<ServiceName, ReplayLimit>> } {
  const limits: Partial<Record<ServiceName, ReplayLimit>> = {};
  for (const [name, p] of Object.entries(defaultPolicies(true)) as [ServiceName, ReturnType<typeof defaultPolicies>[ServiceName]][]) {
    limits[name] = { requests: p.rate.requests, intervalMs: p.rate.intervalMs, concurrency: p.concurrency };
  }
  const cr = defaultPolicies(true).crossref;
  return { limits, listLimits: { crossref: { requests: cr.searchRate!.requests, intervalMs: cr.searchRate!.intervalMs, concurrency: cr.concurrency } } };
}

/**
 * The replay server in its own process (dist/replay.js), as a real server is: its clock and event
 * loop are then not held up by the client's work (sql.js, PDF hashing), which in one process
 * timestamped arrivals up to ~100 ms late on a loaded machine.
 */
async function replayProcess(options: ReplayOptions): Promise<{ origin: string; endpoints: Record<string, string>; stats(): Promise<ReplayStats>; close(): Promise<void> }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'scholar-replay-opts-')), 'options.json');
  writeFileSync(file, JSON.stringify(options));
  const child = spawn(process.execPath, [path.join(repo, 'dist/replay.js'), '--options', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`replay process exited with ${code}`)));
  });
  const { origin, endpoints } = JSON.parse(first) as { origin: string; endpoints: Record<string, string> };
  return {
    origin,
    endpoints,
    stats: async () => (await (await fetch(`${origin}/__replay/stats`)).json()) as ReplayStats,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

it('resolve then fetch of 27 entries through tinyproxy (HTTP_PROXY), every service on one origin at its real limits, 50–200 ms latency: 0 × 429, 0 violations', async () => {
  const replay = await replayProcess({ fixturesDir: path.join(repo, 'test/fixtures'), latencyMs: [50, 200], ...realLimits() });
  try {
    const dir = mkdtempSync(path.join(tmpdir(), 'scholar-wire-'));
    cpSync(path.join(repo, 'examples/thesis'), dir, { recursive: true });
    const endpoints = endpointFlags(replay.endpoints);
    const before = proxy.requests().length;
    for (const cmd of ['resolve', 'fetch']) {
      const err = sink();
      const code = await runCli([cmd, '.', ...endpoints, '--mailto', 'wire@scholar.invalid', '--json'], {
        stdout: sink().stream,
        stderr: err.stream,
        cwd: dir,
        env: { HTTP_PROXY: proxy.url },
        signal: new AbortController().signal,
      });
      assert.ok(code === 0 || code === 1, err.text());
      assert.ok(!/scholar: /.test(err.text()), `no service reported down: ${err.text()}`);
    }
    const s = await replay.stats();
    const total = Object.values(s.requests).reduce((a, b) => a + (b ?? 0), 0);
    assert.ok((s.requests.crossref ?? 0) > 20 && (s.requests.pdf ?? 0) > 5, JSON.stringify(s.requests));
    const bySvc = (svc: string) => s.log.filter((l) => l.service === svc).map((l) => `${l.t % 100000}:${l.status}`).join(' ');
    assert.deepEqual(s.violations, {}, `${JSON.stringify(s.violations)} s2: ${bySvc('semanticScholar')}`);
    assert.deepEqual(s.status429, {}, JSON.stringify(s.status429));
    // Every request the server saw came through the proxy (the proxy's own log, one line each).
    const through = proxy.requests().slice(before).filter((l) => /^(GET|POST) /.test(l) && l.includes(` ${replay.origin}/`));
    assert.equal(through.length, s.log.length, `${through.length} through the proxy, ${s.log.length} at the server`);
    console.log(`through tinyproxy: ${total} requests (${JSON.stringify(s.requests)}), 0 violations, 0 × 429`);
  } finally {
    await replay.close();
  }
});

it('a process that follows another at once keeps its spacing (the pacing file)', async () => {
  const replay = await startReplayServer({ limits: { semanticScholar: { requests: 1, intervalMs: 1000, concurrency: 1 } } });
  const pacingFile = path.join(mkdtempSync(path.join(tmpdir(), 'scholar-pacing-')), 'pacing.json');
  try {
    for (let i = 0; i < 2; i++) {
      const http = new ScholarHttp({ endpoints: replay.endpoints, pacingFile });
      await http.getJson('semanticScholar', '/graph/v1/paper/DOI:10.1063/1.4938384', { nullOn: [404] });
      await http.close();
    }
    const t = replay.stats().log.filter((l) => l.service === 'semanticScholar').map((l) => l.t);
    assert.equal(t.length, 2);
    assert.ok(t[1] - t[0] >= 1000, `second process sent ${t[1] - t[0]} ms after the first`);
    assert.equal(replay.stats().violations.semanticScholar ?? 0, 0);
  } finally {
    await replay.close();
  }
});
