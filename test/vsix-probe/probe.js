// Extension-host tests module of test/runners/vsix.mjs (extensionTestsPath). Checks, from inside a
// real VS Code, that Scholar as INSTALLED from the .vsix (code-server --install-extension into
// SCHOLAR_VSIX_EXTENSIONS_DIR) is the copy that runs, that it activates by itself on a workspace with
// a .bib file, and that the parts that only work when the package holds the right files do: the
// dashboard webview's script (dist/webview), sql.js's wasm (dist/sql-wasm.wasm), the library tree.
// Plain CommonJS on purpose: nothing here is built, so the probe cannot pick up a development copy.
// Results go to SCHOLAR_TEST_RESULTS in the suite's format ({passed, failed, tests:[{name, ok, error?, ms}]}).
const vscode = require('vscode');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const EXTENSION_ID = 'scholar-dev.scholar';
const tests = [];
const test = (name, fn, timeoutMs = 60_000) => tests.push({ name, fn, timeoutMs });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await sleep(100);
  }
}

function workspaceRoot() {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'no workspace folder is open');
  return f.uri.fsPath;
}

/** Inside `dir` after resolving symbolic links on both sides (tmp dirs may be links). */
function isInside(file, dir) {
  const rel = path.relative(fs.realpathSync(dir), fs.realpathSync(file));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

async function screenshot(name) {
  const dir = process.env.SCHOLAR_TEST_SCREENSHOT_DIR;
  if (!dir) return;
  await sleep(800);
  const done = path.join(dir, `${name}.done`);
  fs.rmSync(done, { force: true });
  fs.writeFileSync(path.join(dir, `${name}.request`), String(Date.now()));
  await waitFor(() => fs.existsSync(done), 30_000, `screenshot ${name}`);
}

let api;

test('vsix: scholar-dev.scholar is the copy installed in the extensions dir, not a development copy', async () => {
  const extsDir = process.env.SCHOLAR_VSIX_EXTENSIONS_DIR;
  assert.ok(extsDir, 'SCHOLAR_VSIX_EXTENSIONS_DIR is not set (run through test/runners/vsix.mjs)');
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not among the extensions (${vscode.extensions.all.filter((e) => !e.id.startsWith('vscode.')).map((e) => e.id).join(', ')})`);
  assert.ok(isInside(ext.extensionPath, extsDir), `${EXTENSION_ID} runs from ${ext.extensionPath}, outside ${extsDir}`);
  assert.equal(vscode.extensions.all.filter((e) => e.id.toLowerCase() === EXTENSION_ID).length, 1, 'more than one copy of Scholar is loaded');
  if (process.env.SCHOLAR_VSIX_VERSION) assert.equal(ext.packageJSON.version, process.env.SCHOLAR_VSIX_VERSION);
  // What the .vsix must carry for the extension to work (the .vscodeignore allowlist).
  for (const f of ['package.json', 'dist/extension.js', 'dist/pdfTextWorker.js', 'dist/sql-wasm.wasm', 'dist/webview/dashboard.js', 'media/scholar.svg']) {
    assert.ok(fs.existsSync(path.join(ext.extensionPath, f)), `the installed extension lacks ${f}`);
  }
  assert.ok(!fs.existsSync(path.join(ext.extensionPath, 'src')), 'the installed extension carries src/ (the .vsix should hold only what runs)');
});

test('vsix: Scholar activates by itself on a workspace with a .bib file and returns its API', async () => {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext);
  // No ext.activate() here: the activation event (workspaceContains:**/*.bib) must do it.
  await waitFor(() => ext.isActive, 60_000, `${EXTENSION_ID} to activate`);
  api = ext.exports;
  assert.ok(api && api.project && api.tree, 'activate() returned no API (activation failed: see the Scholar log)');
  await api.project.ready();
  const refs = api.project.bibDocs().find((d) => path.basename(d.uri.fsPath) === 'refs.bib');
  assert.ok(refs, `the project model has no refs.bib (${api.project.bibDocs().map((d) => d.uri.fsPath).join(', ')})`);
  assert.ok(refs.file.entries.length > 0, 'refs.bib was read with no entries');
});

test('vsix: the library tree shows refs.bib and its entries', async () => {
  assert.ok(api, 'no API (the activation test failed)');
  const bib = await waitFor(() => api.tree.getChildren().find((n) => n.kind === 'bib' && path.basename(n.doc.uri.fsPath) === 'refs.bib'), 10_000, 'a tree node for refs.bib');
  const children = api.tree.getChildren(bib).filter((n) => n.kind === 'entry');
  assert.ok(children.length > 0, 'the refs.bib node has no entries');
  for (const n of children) assert.ok(api.tree.getTreeItem(n).label, `entry ${n.key} has no label`);
  await vscode.commands.executeCommand('workbench.view.extension.scholar');
});

test('vsix: scholar.showDashboard opens the dashboard and its packaged webview script says ready', async () => {
  assert.ok(api, 'no API (the activation test failed)');
  await vscode.commands.executeCommand('scholar.showDashboard');
  assert.ok(api.dashboard.isOpen, 'the dashboard panel did not open');
  await Promise.race([api.dashboard.whenReady(), sleep(20_000).then(() => Promise.reject(new Error('the dashboard webview never said ready (dist/webview/dashboard.js missing or broken?)')))]);
  const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && /scholar\.dashboard/.test(t.input.viewType));
  assert.ok(tab, 'no dashboard tab among the open editors');
  await waitFor(() => api.dashboard.lastSnapshot, 5_000, 'the first snapshot');
  await screenshot('vsix-dashboard');
});

test('vsix: scholar.rebuildIndex opens the library index (sql.js with the packaged sql-wasm.wasm)', async () => {
  assert.ok(api, 'no API (the activation test failed)');
  const report = await vscode.commands.executeCommand('scholar.rebuildIndex');
  assert.ok(report && typeof report.count === 'number', `scholar.rebuildIndex returned ${JSON.stringify(report)} (see the Scholar log)`);
  assert.deepEqual(report.errors, []);
  assert.ok(fs.existsSync(path.join(workspaceRoot(), 'storage')), 'no storage folder after rebuilding the index');
}, 60_000);

function runOne(t) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`test timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
    Promise.resolve()
      .then(() => t.fn())
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

function writeAtomic(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

exports.run = async function run() {
  const resultsFile = process.env.SCHOLAR_TEST_RESULTS;
  const progressFile = resultsFile ? `${resultsFile}.progress` : undefined;
  const results = { passed: 0, failed: 0, tests: [] };
  for (const t of tests) {
    const started = Date.now();
    let r;
    try {
      await runOne(t);
      r = { name: t.name, ok: true, ms: Date.now() - started };
      results.passed++;
    } catch (err) {
      r = { name: t.name, ok: false, error: err instanceof Error ? err.stack || err.message : String(err), ms: Date.now() - started };
      results.failed++;
    }
    results.tests.push(r);
    if (progressFile) fs.appendFileSync(progressFile, JSON.stringify(r) + '\n');
  }
  if (resultsFile) writeAtomic(resultsFile, JSON.stringify(results, null, 2));
  if (results.failed > 0) throw new Error(`${results.failed} probe test(s) failed`);
};
