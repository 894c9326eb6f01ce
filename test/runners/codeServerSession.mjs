// The machinery behind test/runners/codeServer.mjs, shared with vsix.mjs and benchVscode.mjs: install
// code-server if needed, start it on loopback with a throwaway profile and a copy of a workspace, open
// the workbench in headless Debian Chromium (playwright-core) with a development extension and an
// extension-host tests module in the URL's payload, serve screenshot requests, wait for the results
// file ({passed, failed, tests:[{name, ok, error?, ms}]}) and report. See shared/vscode-in-ci.md.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const toolsDir = process.env.SCHOLAR_CODE_SERVER_DIR ?? path.join(root, '.vscode-test/code-server');
const CHROMIUM = process.env.SCHOLAR_CHROMIUM ?? '/usr/bin/chromium';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The user settings every session starts with: a quiet workbench, trusted folders, no network look-ups. */
export const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.commandCenter.enabled': false,
  'chat.disableAIFeatures': true,
  'git.openRepositoryInParentFolders': 'never',
  'window.dialogStyle': 'custom',
  'window.confirmBeforeClose': 'never',
  'files.hotExit': 'off',
};

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url, timeoutMs, isAlive) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('code-server exited before it was ready');
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`code-server did not answer ${url} within ${timeoutMs} ms`);
}

export function tail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile());
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function readJsonLine(line) {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * Makes sure code-server, playwright-core and the Debian packages are there (quick when they are).
 * Returns the paths the callers need, or undefined when the install failed.
 */
export function ensureCodeServer() {
  const install = spawnSync('bash', [path.join(root, 'test/runners/install-code-server.sh')], { stdio: 'inherit' });
  if (install.status !== 0) return undefined;
  return {
    codeServerEntry: path.join(toolsDir, 'node_modules/code-server/out/node/entry.js'),
    codeServerCli: path.join(toolsDir, 'node_modules/.bin/code-server'),
    requireTools: createRequire(path.join(toolsDir, 'package.json')),
  };
}

/** A code-server environment without the caller's stray VS Code variables. */
function serverEnv(extra) {
  const env = { ...process.env, ...extra };
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
  // code-server copies these into the extension host; a stray one from the caller's shell would confuse it.
  delete env.VSCODE_IPC_HOOK_CLI;
  delete env.ELECTRON_RUN_AS_NODE;
  return env;
}

/** A throwaway folder for one session (profile, extensions, workspace copy, logs). */
export function makeSessionTmp(prefix = 'scholar-vscode-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Runs one extension-host tests module in code-server and reports on stdout, ending with
 * `N passed, N failed`. Resolves to the exit code (0 only when every test passed); never exits.
 *
 * opts: label (log prefix), tools (from ensureCodeServer), extensionDevelopmentPath, extensionTestsPath,
 * workspace (copied), tmp (default: a new one), extensionsDir (default: tmp/extensions), env (extra;
 * undefined values remove a variable), settings (extra user settings), timeoutS, grep, keepScreenshots,
 * keepTmp, results, started (ms, for the timings printed).
 */
export async function runSession(opts) {
  const label = opts.label ?? 'codeServer';
  const log = (msg) => console.log(`[${label}] ${msg}`);
  const started = opts.started ?? Date.now();
  const { chromium } = opts.tools.requireTools('playwright-core');
  const codeServerBin = opts.tools.codeServerEntry;

  // A throwaway profile, workspace copy and result locations.
  const tmp = opts.tmp ?? makeSessionTmp();
  const userData = path.join(tmp, 'user-data');
  const extensionsDir = opts.extensionsDir ?? path.join(tmp, 'extensions');
  const workspace = path.join(tmp, 'workspace');
  const shots = path.join(tmp, 'screenshots');
  const resultsFile = path.join(tmp, 'results.json');
  const progressFile = `${resultsFile}.progress`;
  const serverLog = path.join(tmp, 'code-server.log');
  const browserLog = path.join(tmp, 'browser-console.log');
  for (const d of [path.join(userData, 'User'), extensionsDir, shots]) fs.mkdirSync(d, { recursive: true });
  fs.cpSync(opts.workspace, workspace, { recursive: true });
  // restricted: the folder opens untrusted (Restricted Mode), as a repository cloned from elsewhere would.
  const trust = opts.restricted ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.emptyWindow': false } : {};
  fs.writeFileSync(path.join(userData, 'User/settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...trust, ...(opts.settings ?? {}) }, null, 2));
  // An empty config file keeps code-server away from ~/.config/code-server/config.yaml.
  const configFile = path.join(tmp, 'config.yaml');
  fs.writeFileSync(configFile, 'auth: none\n');

  const port = await freePort();
  const authority = `127.0.0.1:${port}`;
  const env = serverEnv({
    SCHOLAR_TEST_RESULTS: resultsFile,
    SCHOLAR_TEST_SCREENSHOT_DIR: shots,
    SCHOLAR_TEST_GREP: opts.grep,
    SCHOLAR_TEST_RESTRICTED: opts.restricted ? '1' : undefined,
    SCHOLAR_TEST_MULTI_ROOT: opts.workspaceFile ? '1' : undefined,
    ...(opts.env ?? {}),
  });

  // Start code-server in its own process group, so that stopping it stops its extension host too.
  const serverOut = fs.openSync(serverLog, 'a');
  const server = spawn(
    process.execPath,
    [
      codeServerBin,
      '--config', configFile,
      '--auth', 'none',
      '--bind-addr', authority,
      '--disable-telemetry',
      '--disable-update-check',
      ...(opts.restricted ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--user-data-dir', userData,
      '--extensions-dir', extensionsDir,
      workspace,
    ],
    { cwd: tmp, env, detached: true, stdio: ['ignore', serverOut, serverOut] },
  );
  let serverExit;
  server.on('exit', (code, signal) => (serverExit = { code, signal }));
  const serverAlive = () => serverExit === undefined;

  let browser;
  let page;
  let cleanedUp = false;
  const cleanup = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    try {
      await browser?.close();
    } catch {
      // already gone
    }
    if (serverAlive()) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // group already gone
      }
      for (let i = 0; i < 50 && serverAlive(); i++) await sleep(100);
    }
    try {
      process.kill(-server.pid, 'SIGKILL'); // stragglers of the group (extension host, pty host)
    } catch {
      // none left
    }
    fs.closeSync(serverOut);
  };
  const onSignal = (sig) => {
    console.error(`[${label}] ${sig}: stopping`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const deadline = started + opts.timeoutS * 1000;
  let outcome; // 'done' | 'timeout' | 'server-exit' | 'exthost-exit' | 'error'
  let problem;
  try {
    await waitForHttp(`http://${authority}/healthz`, 60_000, serverAlive);
    log(`code-server on ${authority} (${Date.now() - started} ms); workspace ${workspace}`);

    // Headless Chromium with the flags this machine's closed network needs.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-dev-shm-usage',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    const browserOut = fs.createWriteStream(browserLog);
    page.on('console', (m) => browserOut.write(`[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => browserOut.write(`[pageerror] ${e.stack ?? e.message}\n`));
    page.on('crash', () => browserOut.write('[crash] page crashed\n'));

    // The workbench, told by the payload to load the development extension and run the tests module.
    const remote = (p) => `vscode-remote://${authority}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(opts.extensionDevelopmentPath)],
      ['extensionTestsPath', remote(opts.extensionTestsPath)],
    ];
    const url =
      // workspaceFile: a .code-workspace inside the copy, opened as a multi-root workspace.
      (opts.workspaceFile ? `http://${authority}/?workspace=${encodeURIComponent(path.join(workspace, opts.workspaceFile))}` : `http://${authority}/?folder=${encodeURIComponent(workspace)}`) +
      `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    log(`workbench opened (${Date.now() - started} ms); running suite${opts.grep ? ` (grep ${opts.grep})` : ''}`);

    // Serve screenshot requests and print progress until the results file appears.
    let printed = 0;
    const printProgress = () => {
      if (!fs.existsSync(progressFile)) return;
      const lines = fs.readFileSync(progressFile, 'utf8').split('\n').filter(Boolean);
      for (; printed < lines.length; printed++) {
        let r;
        try {
          r = JSON.parse(lines[printed]);
        } catch {
          break; // line still being written
        }
        console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.ms} ms)`);
      }
    };
    let exthostExitSeen = 0;
    for (;;) {
      for (const f of fs.readdirSync(shots).filter((n) => n.endsWith('.request'))) {
        const name = f.slice(0, -'.request'.length);
        const png = path.join(shots, `${name}.png`);
        try {
          // {"belowTitleBar": true} leaves out the title bar, whose "[Extension Development Host]"
          // prefix a development session cannot drop (README screenshots show what users see).
          let clip;
          const request = readJson(path.join(shots, f));
          if (request?.belowTitleBar) {
            const bar = await page.locator('.part.titlebar').first().boundingBox().catch(() => null);
            const vp = page.viewportSize();
            if (bar && vp) clip = { x: 0, y: bar.y + bar.height, width: vp.width, height: vp.height - bar.y - bar.height };
          }
          await page.screenshot({ path: png, clip });
        } catch (err) {
          browserOut.write(`[runner] screenshot ${name} failed: ${err.message}\n`);
        }
        fs.rmSync(path.join(shots, f), { force: true });
        fs.writeFileSync(path.join(shots, `${name}.done`), '');
      }
      printProgress();
      if (fs.existsSync(resultsFile)) {
        outcome = 'done';
        break;
      }
      // An extension host that exits (crash, or run() threw before writing results) never writes them.
      if (!exthostExitSeen && /Extension Host Process exited with code/.test(tail(serverLog, 200))) {
        exthostExitSeen = Date.now();
      }
      if (exthostExitSeen && Date.now() - exthostExitSeen > 3000) {
        outcome = 'exthost-exit';
        problem = 'the extension host exited before the suite wrote its results';
        break;
      }
      if (!serverAlive()) {
        outcome = 'server-exit';
        problem = `code-server exited (${JSON.stringify(serverExit)}) before the suite finished`;
        break;
      }
      if (Date.now() > deadline) {
        outcome = 'timeout';
        problem = `no results after ${opts.timeoutS} s`;
        break;
      }
      await sleep(200);
    }
    printProgress();
    browserOut.end();
  } catch (err) {
    outcome = 'error';
    problem = err instanceof Error ? err.message : String(err);
  }

  // Report.
  let exitCode = 0;
  const results = outcome === 'done' ? readJson(resultsFile) : undefined;
  if (results && opts.results) {
    fs.mkdirSync(path.dirname(opts.results), { recursive: true });
    fs.writeFileSync(opts.results, JSON.stringify(results, null, 2));
  }
  if (results) {
    const failures = results.tests.filter((t) => !t.ok);
    for (const t of failures) {
      console.log(`\nFAIL ${t.name}\n${(t.error ?? '').replace(/^/gm, '    ')}`);
    }
    console.log(`\n${results.tests.length} test(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (results.failed > 0 || results.tests.length === 0) exitCode = 1;
    if (results.tests.length === 0) console.log('no test ran (check --grep)');
    console.log(`${results.passed} passed, ${results.failed} failed`);
  } else {
    exitCode = 1;
    console.error(`[${label}] FAILED: ${problem ?? 'unreadable results file'}`);
    if (page) {
      const png = path.join(shots, `${outcome ?? 'failure'}.png`);
      try {
        await page.screenshot({ path: png, timeout: 10_000 });
        console.error(`[${label}] screenshot of the workbench: ${png}`);
      } catch (err) {
        console.error(`[${label}] could not take a screenshot: ${err.message}`);
      }
    }
    console.error(`----- last lines of ${serverLog}\n${tail(serverLog, 40)}`);
    console.error(`----- last lines of ${browserLog}\n${tail(browserLog, 40)}`);
    for (const f of listFiles(path.join(userData, 'logs')).filter((f) => /remoteexthost\.log$|scholar-dev\.scholar/.test(f))) {
      console.error(`----- last lines of ${f}\n${tail(f, 20)}`);
    }
    console.error(`----- all logs of the workbench and extension host: ${path.join(userData, 'logs')}`);
    const partial = fs.existsSync(progressFile) ? fs.readFileSync(progressFile, 'utf8').split('\n').filter(Boolean) : [];
    const parsed = partial.map((l) => readJsonLine(l)).filter(Boolean);
    const passed = parsed.filter((r) => r.ok).length;
    // Tests that never reported count as one failure: the suite did not finish.
    console.log(`${passed} passed, ${parsed.length - passed + 1} failed`);
  }

  if (opts.keepScreenshots) {
    fs.mkdirSync(opts.keepScreenshots, { recursive: true });
    const pngs = fs.readdirSync(shots).filter((n) => n.endsWith('.png'));
    for (const n of pngs) fs.copyFileSync(path.join(shots, n), path.join(opts.keepScreenshots, n));
    log(`${pngs.length} screenshot(s) copied to ${opts.keepScreenshots}`);
  }

  await cleanup();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  if (exitCode === 0 && !opts.keepTmp) fs.rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp} (screenshots, logs)`);
  return exitCode;
}
