// One pipeline run in its own process, the way the CLI runs it: a Library over a fresh storage
// folder and one Job (src/core/jobs/run.ts) over every entry of a .bib file. What differs from
// `scholar fetch|resolve` is only what the CLI cannot take: HTTP policies at a time scale (every
// rate × K) and, for the one-at-a-time baseline, concurrency 1 everywhere.
//
// Input: one IPC message { kind, bibPath, storage, endpoints, email, scale, sequential, limit? }.
// Output: one IPC message with the makespan, the outcomes, the client's request counts per lane
// and bucket, the event-loop delay of this process during the run, and its peak RSS.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as path from 'node:path';
import { writeFileSync } from 'node:fs';
import { Library } from '../../src/core/jobs/library';
import { Job, type JobEntry } from '../../src/core/jobs/run';
import { loadBibFile } from '../../src/core/tex/project';
import { defaultPolicies, type PolicyOverrides, type ServiceName } from '../../src/core/net/policy';
import type { NetworkOptions } from '../../src/core/net/network';
import { spacingOf } from '../../src/core/net/gate';

export interface ChildInput {
  kind: 'fetch' | 'resolve';
  bibPath: string;
  storage: string;
  endpoints: Partial<Record<ServiceName, string>>;
  email: string;
  /** Time scale: every rate limit × scale (latencies and transfer times are ÷ scale on the server). */
  scale: number;
  sequential: boolean;
  /** Only the first `limit` entries (the sample of a one-at-a-time run). */
  limit?: number;
  /** Proxy and certificates, as the CLI would take them. */
  network?: NetworkOptions;
  /** The strict-window check: the client keeps N requests per W/K, as the server does in that run. */
  strictWindows?: boolean;
  /** The client's own default limits, untouched (scale and sequential ignored): the real-limits run. */
  realLimits?: boolean;
}

/**
 * The default (polite) policies with every rate × scale (same windows, K times the requests); concurrency 1 everywhere when sequential.
 * The PDF limit stays per host: the replay serves PDFs from its publisher hosts (`pdfHosts`), each a host of its own to the client.
 */
export function scaledPolicies(scale: number, sequential: boolean, strictWindows = false): PolicyOverrides {
  const out: PolicyOverrides = {};
  for (const [name, p] of Object.entries(defaultPolicies(true)) as [ServiceName, ReturnType<typeof defaultPolicies>[ServiceName]][]) {
    // N×K requests per the same wall-clock window, as the server enforces them (test/bench/run.mjs
    // serverLimits); with strictWindows, N per W/K on both sides. The gate's window rule holds in the
    // windows it is configured with, so client and server must agree on them.
    out[name] = {
      rate: strictWindows ? { requests: p.rate.requests, intervalMs: p.rate.intervalMs / scale } : { requests: Math.round(p.rate.requests * scale), intervalMs: p.rate.intervalMs },
      ...(p.searchRate
        ? { searchRate: strictWindows ? { requests: p.searchRate.requests, intervalMs: p.searchRate.intervalMs / scale } : { requests: Math.round(p.searchRate.requests * scale), intervalMs: p.searchRate.intervalMs } }
        : {}),
      concurrency: sequential ? 1 : p.concurrency,
      backoffBaseMs: p.backoffBaseMs / scale,
    };
  }
  return out;
}

async function run(input: ChildInput) {
  const bib = await loadBibFile(input.bibPath);
  let entries: JobEntry[] = bib.file.entries.map((entry) => ({ key: entry.key, bibPath: bib.path, file: bib.file, entry }));
  if (input.limit) entries = entries.slice(0, input.limit);
  const counts: Record<string, number> = {};
  // SCHOLAR_BENCH_TRACE=FILE: every HTTP event of the run, for finding where a slow run waits.
  const trace: (Record<string, unknown> & { endAt: number })[] | undefined = process.env.SCHOLAR_BENCH_TRACE ? [] : undefined;
  /** Departure (epoch ms) of each request by redacted URL path+query, for the wire figure's jitter. */
  const departures: [string, number][] = [];
  /** Per publisher host, each request's departure, answer and end (epoch ms): the policy floor below. */
  const pdfTimes: Record<string, [number, number, number][]> = {};
  /** Per publisher host, the DOIs of the PDFs it served (the bench's bound needs their sizes). */
  const pdfByHost: Record<string, string[]> = {};
  const lib = await Library.open(input.storage, {
    wasmPath: path.join(__dirname, 'sql-wasm.wasm'),
    http: {
      email: input.email,
      endpoints: input.endpoints,
      policies: input.realLimits ? undefined : scaledPolicies(input.scale, input.sequential, input.strictWindows),
      network: input.network,
      log: (e) => {
        if (trace) trace.push({ ...e, endAt: Date.now() });
        // One event per attempt and per redirect hop: the requests each lane actually sent.
        const bucket = e.service === 'crossref' && /\/works\?/.test(e.url) ? 'crossref:search' : e.service;
        counts[bucket] = (counts[bucket] ?? 0) + 1;
        if (e.service === 'pdf') {
          const u = new URL(e.url);
          const host = (pdfByHost[u.host] ??= []);
          const m = /^\/pdf\/(.+)\.pdf$/.exec(decodeURIComponent(u.pathname));
          // A landing page (doi.org's redirect hop) holds a slot too: recorded without a size.
          host.push(m && e.status === 200 ? m[1]! : '');
          if (e.departedAt !== undefined) (pdfTimes[u.host] ??= []).push([e.departedAt, e.answeredAt ?? Date.now(), Date.now()]);
        }
        if (input.realLimits && e.departedAt !== undefined) departures.push([e.url, e.departedAt]);
      },
    },
  });
  const seq = input.sequential;
  // SCHOLAR_BENCH_IN_FLIGHT / SCHOLAR_BENCH_DOWNLOAD_WORKERS: other values for the concurrent run's
  // entries in flight and download workers, for trying a default before changing it.
  const inFlight = Number(process.env.SCHOLAR_BENCH_IN_FLIGHT) || undefined;
  const downloadWorkers = Number(process.env.SCHOLAR_BENCH_DOWNLOAD_WORKERS) || undefined;
  const job = new Job(lib, {
    kind: input.kind,
    entries,
    ...(seq
      ? { maxInFlight: 1, resolveConcurrency: 1, fetch: { concurrency: { resolve: 1, enrich: 1, locate: 1, download: 1, commit: 1 } } }
      : { ...(inFlight ? { maxInFlight: inFlight } : {}), ...(downloadWorkers ? { fetch: { concurrency: { download: downloadWorkers } } } : {}) }),
  });
  const eld = monitorEventLoopDelay({ resolution: 10 });
  const rss0 = process.memoryUsage().rss;
  let rssPeakSampled = rss0;
  const sampler = setInterval(() => (rssPeakSampled = Math.max(rssPeakSampled, process.memoryUsage().rss)), 250);
  eld.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const snap = await job.run();
  const netIssues = job.netIssues;
  const makespanMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  eld.disable();
  clearInterval(sampler);
  const httpStats = lib.http.stats();
  const policyFloor = policyFloorOf(pdfTimes, httpStats);
  // One file per run (the bench starts several children): FILE-<kind>-<entries>[-real].json.
  if (trace) writeFileSync(process.env.SCHOLAR_BENCH_TRACE!.replace(/(\.json)?$/, `-${input.kind}-${entries.length}${input.realLimits ? '-real' : ''}.json`), JSON.stringify({ t0: performance.timeOrigin + t0, events: trace }));
  await lib.close();
  // The histogram records the interval between ticks of a 10 ms timer: lateness = value − 10 ms.
  const late = (ns: number) => Math.max(0, ns / 1e6 - 10);
  const failures: Record<string, number> = {};
  for (const r of job.results.values()) if (r.outcome === 'failed') failures[r.reason ?? '?'] = (failures[r.reason ?? '?'] ?? 0) + 1;
  const accepted: Record<string, string> = {};
  if (input.kind === 'resolve') for (const r of job.resolutions.values()) if (r.outcome === 'accept' && r.doi) accepted[r.key] = r.doi;
  return {
    entries: entries.length,
    makespanMs,
    outcomes: snap.stats.outcomes,
    failures,
    accepted,
    clientRequests: counts,
    client429: Object.fromEntries(Object.entries(httpStats).map(([k, s]) => [k, s.status429])),
    clientRetries: Object.fromEntries(Object.entries(httpStats).map(([k, s]) => [k, s.retries])),
    eventLoopDelayMs: { p50: late(eld.percentile(50)), p99: late(eld.percentile(99)), max: late(eld.max), samples: eld.count },
    maxRssKb: process.resourceUsage().maxRSS,
    /** CPU time of this process during the run, as a share of one core (user + system). */
    cpuShare: (cpu.user + cpu.system) / 1000 / makespanMs,
    rssSampledPeakMb: rssPeakSampled / 1e6,
    netIssues,
    departures: input.realLimits ? departures : undefined,
    pdfByHost,
    policyFloor,
  };
}

/**
 * The shortest time in which any scheduler could have sent each host's requests, as they took in
 * this run (each one's time to its answer and to its end), under the client's own politeness for
 * that host: its concurrency, its spacing, and the window rule (a request leaves a full window
 * after the answer to the request N places before). The issue's bound treats the per-host rate and
 * the transfer time as separate limits; this floor is what they allow together, with every host
 * fed perfectly from the first moment. makespan ÷ floor is then the pipeline's own loss.
 */
function policyFloorOf(pdfTimes: Record<string, [number, number, number][]>, stats: ReturnType<Library['http']['stats']>): { ms: number; host: string; requests: number } {
  let best = { ms: 0, host: '–', requests: 0 };
  for (const [host, times] of Object.entries(pdfTimes)) {
    const lim = stats[`pdf:${host}`]?.limits;
    if (!lim) continue;
    const n = Math.max(1, Math.floor(lim.rate.requests));
    const spacing = spacingOf(lim.rate, lim.jitterMarginMs);
    const reqs = [...times].sort((a, b) => a[0] - b[0]).map(([d, a, e]) => ({ toAnswer: a - d, busy: e - d }));
    const slots: number[] = Array(lim.concurrency).fill(0);
    const ans: number[] = [];
    /** The latest answer among the requests up to k − N (the window rule's anchor). */
    let anchor = 0;
    let prev = -Infinity;
    let end = 0;
    for (let k = 0; k < reqs.length; k++) {
      slots.sort((x, y) => x - y);
      let start = Math.max(slots[0]!, prev + spacing);
      if (k >= n) {
        anchor = Math.max(anchor, ans[k - n]!);
        start = Math.max(start, anchor + lim.rate.intervalMs);
      }
      prev = start;
      ans.push(start + reqs[k]!.toAnswer);
      slots[0] = start + reqs[k]!.busy;
      end = Math.max(end, slots[0]);
    }
    if (end > best.ms) best = { ms: end, host, requests: reqs.length };
  }
  return best;
}

process.once('message', (input: ChildInput) => {
  run(input).then(
    (value) => process.send!({ ok: true, value }, () => process.exit(0)),
    (err: Error) => process.send!({ ok: false, error: err.stack ?? String(err) }, () => process.exit(1)),
  );
});
