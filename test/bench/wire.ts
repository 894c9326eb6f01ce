// The real forward proxy for the bench's "wire" figure: the same tinyproxy the unit tests start.
export { startTinyproxy } from '../unit/net-helpers';
import { ScholarHttp, type HttpLogEvent } from '../../src/core/net/http';
import type { ServiceName } from '../../src/core/net/policy';

export interface LaneRate {
  lane: string;
  requests: number;
  /** Requests per second between the first and the last departure, the lane kept saturated. */
  achievedPerS: number;
  /** The configured (published) rate. */
  nominalPerS: number;
  /** Departure → answer, ms. */
  rttMs: { p50: number; mean: number; max: number };
}

/**
 * Effective lane rates: `perLane` requests queued at once on every lane (all on the one origin, through
 * the proxy given), at the client's real default limits. What one saturated lane achieves is what a
 * pipeline bound by it can achieve; issue 17 divides makespans by bounds built from it.
 */
export async function laneRates(opts: { endpoints: Record<string, string>; proxy?: string; perLane: Partial<Record<string, number>> }): Promise<LaneRate[]> {
  const events: HttpLogEvent[] = [];
  const http = new ScholarHttp({
    email: 'bench@example.org',
    endpoints: opts.endpoints,
    network: opts.proxy ? { httpProxy: opts.proxy, httpsProxy: opts.proxy } : undefined,
    log: (e) => events.push(e),
  });
  const paths: Record<string, (i: number) => [ServiceName, string, Record<string, string | number>?]> = {
    crossref: (i) => ['crossref', `/works/10.5555/lane.${i}`],
    'crossref:search': (i) => ['crossref', '/works', { 'query.bibliographic': `lane rate probe ${i}`, rows: 5 }],
    openalex: (i) => ['openalex', `/works/https://doi.org/10.5555/lane.${i}`],
    semanticScholar: (i) => ['semanticScholar', `/graph/v1/paper/DOI:10.5555/lane.${i}`],
    arxiv: (i) => ['arxiv', '/api/query', { id_list: `2101.0000${i}` }],
    unpaywall: (i) => ['unpaywall', `/v2/10.5555/lane.${i}`],
    doi: (i) => ['doi', `/10.5555/lane.${i}`],
  };
  try {
    const jobs: Promise<unknown>[] = [];
    for (const [lane, n] of Object.entries(opts.perLane)) {
      const mk = paths[lane];
      if (!mk || !n) continue;
      for (let i = 0; i < n; i++) {
        const [svc, p, query] = mk(i);
        jobs.push(http.request(svc, p, { query, allowStatus: [404, 400], maxRetries: 0, ...(lane.endsWith(':search') ? { bucket: 'search' } : {}) }).catch(() => undefined));
      }
    }
    await Promise.all(jobs);
  } finally {
    await http.close();
  }
  const policies = new ScholarHttp({ email: 'bench@example.org' });
  const out: LaneRate[] = [];
  for (const lane of Object.keys(opts.perLane)) {
    const svc = lane.split(':')[0] as ServiceName;
    const mine = events.filter((e) => e.service === svc && e.departedAt !== undefined && (lane.endsWith(':search') ? /\/works\?/.test(e.url) : !/\/works\?/.test(e.url)));
    if (mine.length < 2) continue;
    const dep = mine.map((e) => e.departedAt!).sort((a, b) => a - b);
    const rtt = mine.filter((e) => e.answeredAt !== undefined).map((e) => e.answeredAt! - e.departedAt!).sort((a, b) => a - b);
    const p = policies.policy(svc);
    const r = lane.endsWith(':search') ? p.searchRate! : p.rate;
    out.push({
      lane,
      requests: mine.length,
      achievedPerS: ((dep.length - 1) / (dep[dep.length - 1] - dep[0])) * 1000,
      nominalPerS: (r.requests / r.intervalMs) * 1000,
      rttMs: { p50: rtt[Math.floor(rtt.length / 2)] ?? 0, mean: rtt.reduce((a, b) => a + b, 0) / Math.max(1, rtt.length), max: rtt[rtt.length - 1] ?? 0 },
    });
  }
  await policies.close();
  return out;
}
