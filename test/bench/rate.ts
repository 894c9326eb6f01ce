// The issue-3 figure: 200 requests queued at once through a service limited to N req/s (and C
// concurrent) take within 5 % of 200/N seconds, and the server (limited identically, 429 +
// counted violation on any excess) sees no violation. Real time, no time scale.
import { ScholarHttp } from '../../src/core/net/http';
import * as crossref from '../../src/core/sources/crossref';
import { startReplayServer } from '../../src/replay';
import * as path from 'node:path';

export interface RateRun {
  n: number;
  concurrency: number;
  requests: number;
  latencyMs: [number, number];
  elapsedMs: number;
  boundMs: number;
  ratio: number;
  ok: number;
  violations: number;
  status429: number;
  maxInFlight: number;
}

export async function runRate(opts: { root: string; n: number; concurrency: number; requests?: number; latencyMs: [number, number] }): Promise<RateRun> {
  const requests = opts.requests ?? 200;
  const replay = await startReplayServer({
    fixturesDir: path.join(opts.root, 'test/fixtures'),
    limits: { crossref: { requests: opts.n, intervalMs: 1000, concurrency: opts.concurrency } },
    latencyMs: opts.latencyMs,
  });
  const http = new ScholarHttp({ email: 'bench@example.org', endpoints: replay.endpoints, policies: { crossref: { rate: { requests: opts.n, intervalMs: 1000 }, concurrency: opts.concurrency } } });
  try {
    const dois = ['10.1063/1.4938384', '10.1073/pnas.1414271111', '10.1002/jor.1100150407', '10.1109/icdcsw.2003.1203662'];
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: requests }, (_, i) => crossref.workByDoi(http, dois[i % dois.length])));
    const elapsedMs = performance.now() - t0;
    const s = replay.stats();
    const boundMs = (requests / opts.n) * 1000;
    return {
      n: opts.n,
      concurrency: opts.concurrency,
      requests,
      latencyMs: opts.latencyMs,
      elapsedMs,
      boundMs,
      ratio: elapsedMs / boundMs,
      ok: results.filter(Boolean).length,
      violations: s.violations.crossref ?? 0,
      status429: s.status429.crossref ?? 0,
      maxInFlight: s.maxInFlight.crossref ?? 0,
    };
  } finally {
    await http.close();
    await replay.close();
  }
}
