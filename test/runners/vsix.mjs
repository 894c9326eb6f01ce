#!/usr/bin/env node
// Issue 2's acceptance check: the .vsix installs into code-server 4.100.3 (VS Code 1.100.3) with
// `code-server --install-extension` and the INSTALLED copy activates in the real workbench.
//
//   node test/runners/vsix.mjs [--vsix PATH] [--keep-screenshots DIR] [--timeout SECONDS] [--keep-tmp] [--results FILE]
//
// Without --vsix it packages first, as `npm run package` does (`node esbuild.mjs --production`, then
// `vsce package --no-dependencies --out out/scholar.vsix`) and afterwards rebuilds the development
// bundle (`node esbuild.mjs`) so that dist/ has its source maps again for the other runners.
// With --vsix PATH (for example ./scholar.vsix from `npm run package`) it tests that file as it is.
//
// The extension host cannot tell an installed extension from a development one unless nothing of
// ours is loaded for development: the development extension here is test/vsix-probe (a do-nothing
// extension with another id), whose tests module probe.js checks Scholar from inside the host.
// Output: one line per check, then `N passed, N failed`; exit 1 on any failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureCodeServer, makeSessionTmp, root, runSession } from './codeServerSession.mjs';

function usage(problem) {
  if (problem) console.error(`vsix.mjs: ${problem}`);
  console.error('usage: node test/runners/vsix.mjs [--vsix PATH] [--keep-screenshots DIR] [--timeout SECONDS] [--keep-tmp] [--results FILE]');
  process.exit(2);
}

const opts = { vsix: undefined, keepScreenshots: undefined, timeoutS: 300, keepTmp: false, results: undefined };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => argv[++i] ?? usage(`${a} needs a value`);
  if (a === '--vsix') opts.vsix = path.resolve(value());
  else if (a === '--keep-screenshots') opts.keepScreenshots = path.resolve(value());
  else if (a === '--timeout') opts.timeoutS = Number(value());
  else if (a === '--keep-tmp') opts.keepTmp = true;
  else if (a === '--results') opts.results = path.resolve(value());
  else if (a === '-h' || a === '--help') usage();
  else usage(`unknown argument ${a}`);
}

const log = (msg) => console.log(`[vsix] ${msg}`);
const started = Date.now();
if (opts.results) fs.rmSync(opts.results, { force: true });

/** A failure before the probe ran: still ends with the summary line callers parse. */
function fail(msg) {
  console.error(`[vsix] FAILED: ${msg}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

function run(cmd, args, options = {}) {
  log(`${path.basename(cmd)} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  return r.status === 0;
}

// 1. The package.
let vsix = opts.vsix;
let expectVersion;
if (vsix) {
  if (!fs.existsSync(vsix)) usage(`${vsix} does not exist`);
} else {
  vsix = path.join(root, 'out/scholar.vsix');
  fs.mkdirSync(path.dirname(vsix), { recursive: true });
  fs.rmSync(vsix, { force: true });
  const vsce = path.join(root, 'node_modules/.bin/vsce');
  const ok =
    run(process.execPath, ['esbuild.mjs', '--production']) &&
    (fs.existsSync(vsce)
      ? run(vsce, ['package', '--no-dependencies', '--out', vsix])
      : run('npx', ['vsce', 'package', '--no-dependencies', '--out', vsix]));
  // Put the development bundle back (the production one has no source maps), whatever happened.
  const restored = run(process.execPath, ['esbuild.mjs']);
  if (!ok || !fs.existsSync(vsix)) fail('packaging the .vsix failed');
  if (!restored) log('warning: rebuilding the development bundle failed; run `node esbuild.mjs`');
  expectVersion = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  log(`packaged ${path.relative(root, vsix)} (${(fs.statSync(vsix).size / 1e6).toFixed(2)} MB)`);
}

// 2. code-server, and the .vsix installed into a fresh extensions dir with its own CLI.
const tools = ensureCodeServer();
if (!tools) fail('installing code-server failed');
const tmp = makeSessionTmp('scholar-vsix-');
const extsDir = path.join(tmp, 'exts');
const userData = path.join(tmp, 'user-data');
fs.mkdirSync(extsDir, { recursive: true });
fs.mkdirSync(userData, { recursive: true });
const configFile = path.join(tmp, 'config.yaml');
fs.writeFileSync(configFile, 'auth: none\n');
const env = { ...process.env };
delete env.VSCODE_IPC_HOOK_CLI;
delete env.ELECTRON_RUN_AS_NODE;
log(`code-server --install-extension ${vsix}`);
const install = spawnSync(
  tools.codeServerCli,
  ['--config', configFile, '--user-data-dir', userData, '--extensions-dir', extsDir, '--install-extension', vsix],
  { cwd: tmp, env, encoding: 'utf8', timeout: 120_000 },
);
process.stdout.write(install.stdout ?? '');
process.stderr.write(install.stderr ?? '');
if (install.status !== 0) fail(`code-server --install-extension exited with ${install.status ?? install.signal}`);
const installed = fs.readdirSync(extsDir).filter((n) => n.toLowerCase().startsWith('scholar-dev.scholar-'));
if (installed.length !== 1) fail(`expected one scholar-dev.scholar-* folder in ${extsDir}, found: ${fs.readdirSync(extsDir).join(', ') || 'none'}`);
log(`installed into ${path.join(extsDir, installed[0])}`);

// 3. The workbench on a copy of the fixture workspace, with the probe as the development extension.
const probe = path.join(root, 'test/vsix-probe');
const exitCode = await runSession({
  label: 'vsix',
  tools,
  started,
  tmp,
  extensionsDir: extsDir,
  extensionDevelopmentPath: probe,
  extensionTestsPath: path.join(probe, 'probe.js'),
  workspace: path.join(root, 'test/fixtures/workspace'),
  env: { SCHOLAR_VSIX_EXTENSIONS_DIR: extsDir, SCHOLAR_VSIX_VERSION: expectVersion, SCHOLAR_TEST_GREP: undefined },
  timeoutS: opts.timeoutS,
  keepScreenshots: opts.keepScreenshots,
  keepTmp: opts.keepTmp,
  results: opts.results,
});
process.exit(exitCode);
