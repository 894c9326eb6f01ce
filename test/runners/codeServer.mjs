#!/usr/bin/env node
// Runs the extension-host suite (out/suite/index.js, built by `node esbuild.mjs --tests`) inside a
// real VS Code: code-server 4.100.3 (VS Code 1.100.3) in headless Debian Chromium driven by
// playwright-core. See shared/vscode-in-ci.md for why (no desktop VS Code download here).
//
//   node test/runners/codeServer.mjs [--workspace DIR] [--grep PATTERN] [--keep-screenshots DIR]
//                                    [--timeout SECONDS] [--keep-tmp] [--results FILE] [--restricted]
//
// --restricted opens the workspace untrusted (Restricted Mode) and runs the tests named `restricted: …`.
// --multi-root opens test/fixtures/multiroot (two folders, a .code-workspace) and runs the tests named `multi-root: …`.
//
// --results FILE copies the suite's results JSON ({passed, failed, tests:[{name, ok, error?, ms}]}) to
// FILE for a caller such as test/runners/all.mjs; FILE is removed at the start and stays absent when
// the suite produced no results (crash, timeout).
//
// Environment: every SCHOLAR_TEST_* variable reaches the extension host (the server's env is passed
// on). The runner sets SCHOLAR_TEST_RESULTS, SCHOLAR_TEST_SCREENSHOT_DIR and, with --grep,
// SCHOLAR_TEST_GREP. SCHOLAR_TEST_TIMEOUT_S overrides the default 600 s overall timeout.
// Output: one line per test, then `N passed, N failed`; exit 1 on any failure, timeout or crash.
import fs from 'node:fs';
import path from 'node:path';
import { ensureCodeServer, root, runSession } from './codeServerSession.mjs';

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const opts = {
    workspace: path.join(root, 'test/fixtures/workspace'),
    grep: undefined,
    keepScreenshots: undefined,
    timeoutS: Number(process.env.SCHOLAR_TEST_TIMEOUT_S ?? 600),
    keepTmp: false,
    results: undefined,
    restricted: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--workspace') opts.workspace = path.resolve(value());
    else if (a === '--grep') opts.grep = value();
    else if (a === '--keep-screenshots') opts.keepScreenshots = path.resolve(value());
    else if (a === '--timeout') opts.timeoutS = Number(value());
    else if (a === '--keep-tmp') opts.keepTmp = true;
    else if (a === '--results') opts.results = path.resolve(value());
    else if (a === '--restricted') opts.restricted = true;
    else if (a === '--multi-root') opts.multiRoot = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  return opts;
}

function usage(problem) {
  if (problem) console.error(`codeServer.mjs: ${problem}`);
  console.error(
    'usage: node test/runners/codeServer.mjs [--workspace DIR] [--grep PATTERN] [--keep-screenshots DIR] [--timeout SECONDS] [--keep-tmp] [--results FILE] [--restricted] [--multi-root]',
  );
  process.exit(2);
}

// ---------------------------------------------------------------- main
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  if (opts.results) fs.rmSync(opts.results, { force: true });

  const suiteEntry = path.join(root, 'out/suite/index.js');
  if (!fs.existsSync(suiteEntry)) {
    console.error(`codeServer.mjs: ${path.relative(root, suiteEntry)} is missing: run \`node esbuild.mjs --tests\` first`);
    process.exit(1);
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const mainFile = pkg.main ? path.join(root, pkg.main) : undefined;
  if (mainFile && !fs.existsSync(mainFile)) {
    console.error(`codeServer.mjs: ${pkg.main} is missing: run \`node esbuild.mjs --tests\` first`);
    process.exit(1);
  }
  if (!fs.existsSync(opts.workspace)) usage(`workspace ${opts.workspace} does not exist`);

  const tools = ensureCodeServer();
  if (!tools) {
    console.error('codeServer.mjs: installing code-server failed');
    process.exit(1);
  }
  const exitCode = await runSession({
    label: 'codeServer',
    tools,
    started,
    extensionDevelopmentPath: root,
    extensionTestsPath: suiteEntry,
    // --multi-root: two folders in one window (test/fixtures/multiroot/scholar.code-workspace).
    workspace: opts.multiRoot ? path.join(root, 'test/fixtures/multiroot') : opts.workspace,
    workspaceFile: opts.multiRoot ? 'scholar.code-workspace' : undefined,
    timeoutS: opts.timeoutS,
    // The Restricted Mode pass runs only the tests written for it.
    grep: opts.restricted ? (opts.grep ?? 'restricted:') : opts.multiRoot ? (opts.grep ?? 'multi-root:') : opts.grep,
    restricted: opts.restricted,
    keepScreenshots: opts.keepScreenshots,
    keepTmp: opts.keepTmp,
    results: opts.results,
  });
  process.exit(exitCode);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
