// The replay server in its own process, driven over IPC by test/bench/run.mjs. It runs apart from
// the pipeline so that its CPU (JSON rendering, corpus search, PDF generation) neither slows the
// measured client nor shows up in the client's event-loop delay.
//
// Messages in:  { id, op: 'start', options } | { id, op: 'addWorks', works } | { id, op: 'setOptions', options }
//               | { id, op: 'resetStats' } | { id, op: 'stats' } | { id, op: 'close' }
// Messages out: { id, ok: true, value } | { id, ok: false, error }
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startReplayServer, type ReplayOptions, type ReplayServer, type ReplayStats } from '../../src/replay';

// The server's own event-loop delay: a busy loop timestamps arrivals late, which moves them closer together.
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();

let server: ReplayServer | undefined;

/** Densest window of request arrivals per service, measured on the server's own clock. */
function densest(stats: ReplayStats, windows: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [svc, win] of Object.entries(windows)) {
    const t = stats.log.filter((l) => l.service === svc).map((l) => l.t);
    let best = 0;
    for (let i = 0, j = 0; i < t.length; i++) {
      while (t[i] - t[j] >= win) j++;
      best = Math.max(best, i - j + 1);
    }
    out[svc] = best;
  }
  return out;
}

async function handle(msg: { op: string; options?: ReplayOptions; works?: unknown[]; windows?: Record<string, number>; arrivals?: boolean }): Promise<unknown> {
  switch (msg.op) {
    case 'start':
      server = await startReplayServer(msg.options ?? {});
      return { origin: server.origin, endpoints: server.endpoints };
    case 'addWorks':
      server!.addWorks(msg.works as never);
      return msg.works?.length ?? 0;
    case 'setOptions':
      server!.setOptions(msg.options ?? {});
      return true;
    case 'resetStats':
      server!.resetStats();
      eld.reset();
      return true;
    case 'stats': {
      const s = server!.stats();
      return { arrivals: msg.arrivals ? s.log.map((l) => [l.path, l.at]) : undefined, requests: s.requests, violations: s.violations, status429: s.status429, maxInFlight: s.maxInFlight, violationLog: s.violationLog, eventLoopDelayMs: { p99: Math.max(0, eld.percentile(99) / 1e6 - 10), max: Math.max(0, eld.max / 1e6 - 10) }, densest: densest(s, msg.windows ?? {}), logged: s.log.length };
    }
    case 'close':
      await server?.close();
      setImmediate(() => process.exit(0));
      return true;
    default:
      throw new Error(`unknown op ${msg.op}`);
  }
}

process.on('message', (m: { id: number; op: string }) => {
  handle(m as never).then(
    (value) => process.send!({ id: m.id, ok: true, value }),
    (err: Error) => process.send!({ id: m.id, ok: false, error: err.stack ?? String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
