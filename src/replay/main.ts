// CLI: node dist/replay.js [--port N] [--latency 200-800] [--pdf-bandwidth BYTES_PER_S] [--fixtures DIR] [--options FILE.json]
// Prints {"origin":…,"endpoints":{…}} as one JSON line on stdout; stops on SIGINT/SIGTERM.
// GET /__replay/stats answers the server's counters (requests, violations, 429s, the arrival log).
import { readFileSync } from 'node:fs';
import { startReplayServer, type ReplayOptions } from './server';

function parseArgs(argv: string[]): ReplayOptions {
  const o: ReplayOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--port') (o.port = Number(v)), i++;
    else if (a === '--latency') {
      const [lo, hi] = String(v).split('-').map(Number);
      o.latencyMs = [lo || 0, Number.isFinite(hi) ? hi : lo || 0];
      i++;
    } else if (a === '--pdf-bandwidth') (o.pdfBandwidth = Number(v)), i++;
    else if (a === '--fixtures') (o.fixturesDir = v), i++;
    // Any ReplayOptions (limits, listLimits, faults, budgets…) as JSON; flags given before it are kept.
    else if (a === '--options') Object.assign(o, JSON.parse(readFileSync(v, 'utf8')) as ReplayOptions), i++;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: replay [--port N] [--latency MIN-MAX] [--pdf-bandwidth BYTES_PER_S] [--fixtures DIR] [--options FILE.json]\n');
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  return o;
}

async function main(): Promise<void> {
  const server = await startReplayServer(parseArgs(process.argv.slice(2)));
  process.stdout.write(`${JSON.stringify({ origin: server.origin, endpoints: server.endpoints })}\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`replay: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
