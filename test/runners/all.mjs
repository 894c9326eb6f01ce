// `npm test`: build, type-check, unit tests (node --test), the extension-host suite in a real
// VS Code (code-server), then the packaged .vsix installed into that code-server (test/runners/vsix.mjs).
// Ends with one line "N passed, N failed" over everything that ran.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const only = process.argv[2]; // optional: 'deps', 'unit', 'vscode', 'restricted', 'multiroot' or 'vsix' (that step only)
const want = (step) => !only || only === step;

function run(label, cmd, args, opts = {}) {
  console.log(`\n▶ ${label}: ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

let passed = 0;
let failed = 0;
let broken = false;

if (run('build', process.execPath, ['esbuild.mjs', '--tests']) !== 0) process.exit(2);
if (run('type-check', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']) !== 0) broken = true;
if (run('type-check core (no vscode, no DOM)', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'src/core/tsconfig.json', '--noEmit']) !== 0) broken = true;

// The layer rules and "no cycles" (test/runners/deps.mjs), one test per rule (suite() is below).
suite('deps', 'dependency rules over src/', ['test/runners/deps.mjs']);

if (want('unit')) {
  // The proxy tests start a real tinyproxy; install it (and openssl) on a fresh machine.
  if (run('install tinyproxy and openssl', 'bash', [path.join(root, 'test/runners/install-proxy.sh')]) !== 0) broken = true;
  mkdirSync(path.join(root, 'out'), { recursive: true });
  const tap = path.join(root, 'out/unit.tap');
  const status = run('unit tests', process.execPath, [
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    'out/unit/',
  ]);
  const text = readFileSync(tap, 'utf8');
  const pass = Number(/^# pass (\d+)/m.exec(text)?.[1] ?? 0);
  const fail = Number(/^# fail (\d+)/m.exec(text)?.[1] ?? 0);
  passed += pass;
  failed += fail;
  console.log(`unit: ${pass} passed, ${fail} failed`);
  if (status !== 0 && fail === 0) broken = true;
}

/** A runner that writes its results JSON ({passed, failed}); its counts join the total. */
function suite(step, label, args) {
  if (!want(step)) return;
  const resultFile = path.join(root, `out/${step}-results.json`);
  const status = run(label, process.execPath, [...args, '--results', resultFile]);
  try {
    const r = JSON.parse(readFileSync(resultFile, 'utf8'));
    passed += r.passed;
    failed += r.failed;
    console.log(`${step}: ${r.passed} passed, ${r.failed} failed`);
    if (status !== 0 && r.failed === 0) broken = true;
  } catch {
    console.log(`${step}: the suite produced no results`);
    broken = true;
  }
}

suite('vscode', 'extension-host tests in VS Code (code-server)', ['test/runners/codeServer.mjs']);
suite('restricted', 'extension-host tests in VS Code, folder untrusted (Restricted Mode)', ['test/runners/codeServer.mjs', '--restricted']);
suite('multiroot', 'extension-host tests in VS Code, a workspace of two folders', ['test/runners/codeServer.mjs', '--multi-root']);
// Last: packaging rebuilds dist/ (production, then development again).
suite('vsix', 'the .vsix installed into code-server', ['test/runners/vsix.mjs']);

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 || broken ? 1 : 0);
