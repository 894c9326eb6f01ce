#!/usr/bin/env node
// Runs the extension-host suite (out/suite/index.js) in desktop VS Code through @vscode/test-electron,
// the same suite that test/runners/codeServer.mjs runs in code-server. For a developer machine with
// internet access (test-electron downloads VS Code into .vscode-test/ on first use); the project's CI
// machine cannot download it, so CI uses codeServer.mjs.
//
//   npm run test:electron                    # build, then this
//   node test/runners/electron.mjs [--workspace DIR] [--grep PATTERN]
//   xvfb-run -a node test/runners/electron.mjs   # Linux without a display
//
// SCHOLAR_VSCODE_VERSION picks the VS Code version (default 1.100.3, the one code-server 4.100.3 embeds;
// 'stable' for the newest), SCHOLAR_VSCODE_EXECUTABLE uses an installed VS Code instead of downloading.
// Screenshots are skipped here (screenshot() in test/suite/util.ts returns undefined without a runner).
import { runTests } from '@vscode/test-electron';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let workspaceSrc = path.join(root, 'test/fixtures/workspace');
let grep;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--workspace' && argv[i + 1]) workspaceSrc = path.resolve(argv[++i]);
  else if (argv[i] === '--grep' && argv[i + 1]) grep = argv[++i];
  else {
    console.error('usage: node test/runners/electron.mjs [--workspace DIR] [--grep PATTERN]');
    process.exit(2);
  }
}

const extensionTestsPath = path.join(root, 'out/suite/index.js');
if (!fs.existsSync(extensionTestsPath)) {
  console.error('electron.mjs: out/suite/index.js is missing: run `node esbuild.mjs --tests` first');
  process.exit(1);
}

// Same throwaway layout as the code-server runner: a copy of the fixture and a fresh profile.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-electron-'));
const workspace = path.join(tmp, 'workspace');
const userData = path.join(tmp, 'user-data');
const resultsFile = path.join(tmp, 'results.json');
fs.cpSync(workspaceSrc, workspace, { recursive: true });
fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
fs.writeFileSync(
  path.join(userData, 'User/settings.json'),
  JSON.stringify({
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoUpdate': false,
    'window.dialogStyle': 'custom',
  }),
);

const extensionTestsEnv = { SCHOLAR_TEST_RESULTS: resultsFile };
if (grep !== undefined) extensionTestsEnv.SCHOLAR_TEST_GREP = grep;

let launchError;
try {
  await runTests({
    version: process.env.SCHOLAR_VSCODE_VERSION ?? '1.100.3',
    vscodeExecutablePath: process.env.SCHOLAR_VSCODE_EXECUTABLE || undefined,
    extensionDevelopmentPath: root,
    extensionTestsPath,
    extensionTestsEnv,
    // --disable-extensions leaves only the development extension (and built-ins) running.
    launchArgs: [workspace, '--disable-extensions', `--user-data-dir=${userData}`],
  });
} catch (err) {
  // A failing suite makes run() reject, which VS Code turns into a non-zero exit: results still tell.
  launchError = err;
}

let results;
try {
  results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
} catch {
  // no results: VS Code did not start, or the suite crashed before writing them
}

if (!results) {
  console.error(`electron.mjs: no results from the suite${launchError ? ` (${launchError.message ?? launchError})` : ''}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
for (const t of results.tests) {
  console.log(`  ${t.ok ? 'ok  ' : 'FAIL'} ${t.name} (${t.ms} ms)`);
  if (!t.ok) console.log((t.error ?? '').replace(/^/gm, '      '));
}
console.log(`${results.passed} passed, ${results.failed} failed`);
fs.rmSync(tmp, { recursive: true, force: true });
process.exit(results.failed > 0 || results.tests.length === 0 ? 1 : 0);
