#!/usr/bin/env node
// Benchmark of Scholar inside a real VS Code (code-server), not part of `npm test`:
//
//   node esbuild.mjs && node test/runners/benchVscode.mjs [--fetch-seconds S] [--fetch-entries N]
//                                                       [--tree-entries N] [--latency MIN-MAX] [--keep-tmp]
//
// Bundles test/suite-bench/index.ts into out/suite-bench/, starts the replay server as a child
// process (`node dist/replay.js --latency 20-60`), points Scholar at it through USER settings with
// generous limits (200 requests/s and 16 concurrent per service, 64 entries in flight, 16 downloads),
// opens an EMPTY workspace (so Scholar is not active before the bench activates it) and runs the
// bench suite in the extension host. Writes out/bench/vscode.json and prints it.
//
// Every replay PDF is on one host (127.0.0.1:PORT), so the per-host download limit
// (scholar.limits.pdf.*) is raised like the others. A run still going after --fetch-seconds (default
// 600) is cancelled, and the figures say how far it got.
import * as esbuild from 'esbuild';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ensureCodeServer, makeSessionTmp, root, runSession } from './codeServerSession.mjs';

function usage(problem) {
  if (problem) console.error(`benchVscode.mjs: ${problem}`);
  console.error('usage: node test/runners/benchVscode.mjs [--fetch-seconds S] [--fetch-entries N] [--tree-entries N] [--latency MIN-MAX] [--keep-tmp]');
  process.exit(2);
}

const opts = { fetchS: 600, fetchEntries: 5000, treeEntries: 50000, latency: '20-60', keepTmp: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => argv[++i] ?? usage(`${a} needs a value`);
  if (a === '--fetch-seconds') opts.fetchS = Number(value());
  else if (a === '--fetch-entries') opts.fetchEntries = Number(value());
  else if (a === '--tree-entries') opts.treeEntries = Number(value());
  else if (a === '--latency') opts.latency = value();
  else if (a === '--keep-tmp') opts.keepTmp = true;
  else if (a === '-h' || a === '--help') usage();
  else usage(`unknown argument ${a}`);
}

const log = (msg) => console.log(`[bench-vscode] ${msg}`);
const started = Date.now();
for (const f of ['dist/extension.js', 'dist/replay.js']) {
  if (!fs.existsSync(path.join(root, f))) {
    console.error(`benchVscode.mjs: ${f} is missing: run \`node esbuild.mjs\` first`);
    process.exit(1);
  }
}

// 1. The bench suite, bundled like the test suite (vscode external, inline source map).
const suiteEntry = path.join(root, 'out/suite-bench/index.js');
await esbuild.build({
  entryPoints: [path.join(root, 'test/suite-bench/index.ts')],
  outfile: suiteEntry,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  external: ['vscode'],
  logLevel: 'warning',
});

// 2. The replay server in its own process: its request handling stays out of the measured loop.
const replay = spawn(process.execPath, [path.join(root, 'dist/replay.js'), '--latency', opts.latency], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const stopReplay = () => {
  if (replay.exitCode === null && replay.signalCode === null) replay.kill('SIGTERM');
};
process.once('exit', stopReplay);
const first = await new Promise((resolve, reject) => {
  const rl = readline.createInterface({ input: replay.stdout });
  rl.once('line', (line) => resolve(line));
  replay.once('exit', (code) => reject(new Error(`the replay server exited (${code}) before printing its endpoints`)));
  setTimeout(() => reject(new Error('the replay server printed no endpoints within 30 s')), 30_000).unref();
});
replay.stdout.resume();
const { origin, endpoints } = JSON.parse(first);
log(`replay server ${origin} (pid ${replay.pid}, latency ${opts.latency} ms)`);

const settings = { 'scholar.contactEmail': 'bench@example.org', 'scholar.pipeline.concurrency': 64, 'scholar.pipeline.downloadWorkers': 16 };
for (const [service, url] of Object.entries(endpoints).filter(([s]) => s !== 'pdf')) {
  settings[`scholar.endpoints.${service}`] = url;
  settings[`scholar.limits.${service}.requestsPerSecond`] = 200;
  settings[`scholar.limits.${service}.concurrency`] = 16;
}
// Every replay PDF comes from one host (127.0.0.1), so the per-host download limit must be raised too.
settings['scholar.limits.pdf.requestsPerSecond'] = 200;
settings['scholar.limits.pdf.concurrency'] = 16;

// 3. An empty workspace: no .bib, so no activation event fires before the bench calls activate().
const tools = ensureCodeServer();
if (!tools) {
  stopReplay();
  console.error('benchVscode.mjs: installing code-server failed');
  process.exit(1);
}
const tmp = makeSessionTmp('scholar-bench-vscode-');
const emptyWorkspace = path.join(tmp, 'empty-workspace');
fs.mkdirSync(emptyWorkspace, { recursive: true });
fs.writeFileSync(path.join(emptyWorkspace, 'README.md'), 'Scholar VS Code benchmark workspace (the bench writes bench/*.bib here).\n');
const outFile = path.join(root, 'out/bench/vscode.json');
fs.rmSync(outFile, { force: true });

const exitCode = await runSession({
  label: 'bench-vscode',
  tools,
  started,
  tmp,
  extensionDevelopmentPath: root,
  extensionTestsPath: suiteEntry,
  workspace: emptyWorkspace,
  settings,
  env: {
    SCHOLAR_BENCH_OUT: outFile,
    SCHOLAR_BENCH_FETCH_S: String(opts.fetchS),
    SCHOLAR_BENCH_FETCH_ENTRIES: String(opts.fetchEntries),
    SCHOLAR_BENCH_TREE_ENTRIES: String(opts.treeEntries),
    SCHOLAR_TEST_GREP: undefined,
  },
  timeoutS: opts.fetchS + 900,
  keepTmp: opts.keepTmp,
});
stopReplay();

if (fs.existsSync(outFile)) {
  const report = JSON.parse(fs.readFileSync(outFile, 'utf8'));
  report.setup = { replayLatencyMs: opts.latency, limits: '200 req/s, 16 concurrent per service (user settings)', pipelineConcurrency: 64, downloadWorkers: 16 };
  fs.writeFileSync(outFile, JSON.stringify(report, null, 2));
  console.log(`\n${path.relative(root, outFile)}:\n${JSON.stringify(report, null, 2)}`);
} else console.error(`benchVscode.mjs: no ${path.relative(root, outFile)} was written`);
process.exit(exitCode);
