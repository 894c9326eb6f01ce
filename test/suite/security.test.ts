// Trust boundaries in a real VS Code (issue 10): hostile text from a .bib is shown as text in the
// tree, the hover and the dashboard; a cloned repository's .vscode/settings.json can neither
// redirect Scholar's traffic nor move its storage outside the workspace.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { screenshot, sleep, test, waitFor, workspaceRoot } from './util';
import type { JobSummary } from '../../src/host/controller';
import { bibEntry, closeAllEditors, readable, record, scholarApi, SERVICES, startReplay, treeEntries, writeWorkspaceFile } from './scholar';

const HOSTILE_TITLE = '<img src=x onerror=alert(1)> [click](command:workbench.action.quit)';
const HOSTILE_KEY = 'sec-<img/src=x/onerror=alert(1)>';

/** What a MarkdownString must look like when it carries HOSTILE_TITLE as text. */
function assertShownAsText(md: vscode.MarkdownString, where: string): void {
  assert.ok(!md.isTrusted, `${where}: isTrusted is on`);
  assert.notEqual(md.supportHtml, true, `${where}: supportHtml is on`);
  const v = md.value;
  assert.doesNotMatch(v, /(^|[^\\])<img/, `${where}: a raw <img tag reaches the renderer:\n${v}`);
  assert.ok(v.includes('\\<img') || v.includes('&lt;img'), `${where}: the <img text is not escaped:\n${v}`);
  assert.doesNotMatch(v, /(^|[^\\])\]\(command:/, `${where}: an unescaped command link:\n${v}`);
  assert.ok(v.includes('\\[click\\]\\(command:'), `${where}: the link text is not escaped:\n${v}`);
  // Escaped, not dropped: the reader sees the title as it is written.
  assert.ok(readable(v).includes(HOSTILE_TITLE), `${where}: the title is not shown in full:\n${readable(v)}`);
}

test('security: a title with an <img onerror> tag and a command: link is text in the tree, the hover and the dashboard', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    const bib = [
      '@misc{sec-hostile,',
      `  title  = {${HOSTILE_TITLE}},`,
      '  author = {Mallory, Eve},',
      '  year   = {2024},',
      '}',
      '',
      `@misc{${HOSTILE_KEY},`,
      `  title  = {${HOSTILE_TITLE}},`,
      '  year   = {2024},',
      '}',
      '',
    ].join('\n');
    const bibUri = await writeWorkspaceFile(api, 'security/hostile.bib', bib);
    const texUri = await writeWorkspaceFile(api, 'security/hostile.tex', 'See \\cite{sec-hostile}.\n');

    // Tree: the label and description are plain strings; the tooltip is untrusted Markdown with the text escaped.
    const entry = treeEntries(api, bibUri).find((x) => x.node.key === 'sec-hostile');
    assert.ok(entry, 'sec-hostile is not in the tree');
    assert.equal(typeof entry.item.label, 'string');
    assert.ok(String(entry.item.description).includes('<img src=x'), 'the description should carry the title as plain text');
    assert.ok(entry.item.tooltip instanceof vscode.MarkdownString, 'the tooltip is not a MarkdownString');
    assertShownAsText(entry.item.tooltip, 'tree tooltip');
    const keyed = treeEntries(api, bibUri).find((x) => x.node.key === HOSTILE_KEY);
    assert.ok(keyed, 'the entry with the hostile key is not in the tree');
    assert.equal(keyed.item.label, HOSTILE_KEY);

    // Hover on the cited key.
    const doc = await vscode.workspace.openTextDocument(texUri);
    const pos = doc.positionAt(doc.getText().indexOf('sec-hostile') + 2);
    const hovers = await waitFor(
      async () => {
        const h = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', texUri, pos)) ?? [];
        return h.some((x) => x.contents.some((c) => typeof c !== 'string' && c.value.includes('Mallory'))) ? h : undefined;
      },
      10_000,
      'the hover on sec-hostile',
    );
    const md = hovers.flatMap((h) => h.contents).find((c): c is vscode.MarkdownString => typeof c !== 'string' && c.value.includes('Mallory'))!;
    assertShownAsText(md, 'hover');

    // Dashboard: a fetch over these entries fails for both (no DOI); the key and the errors are data in
    // the snapshot, and the webview shows them as text (checked on the screenshot).
    const summary = (await vscode.commands.executeCommand('scholar.fetchPdfs', bibUri)) as JobSummary | undefined;
    assert.ok(summary, 'the fetch returned no summary');
    await vscode.commands.executeCommand('scholar.showDashboard');
    await Promise.race([api.dashboard.whenReady(), sleep(15_000).then(() => Promise.reject(new Error('the webview never said ready')))]);
    const snap = await waitFor(
      () => {
        const s = api.dashboard.lastSnapshot;
        return s?.job?.id === summary.job.snapshot().id && s.job.state === 'done' ? s : undefined;
      },
      10_000,
      'the snapshot of the hostile run',
    );
    assert.ok(snap.errors.some((e) => e.keys.includes(HOSTILE_KEY)), `errors: ${JSON.stringify(snap.errors)}`);
    assert.ok(snap.activity.some((a) => a.text.includes(HOSTILE_KEY)), 'the activity does not name the hostile key');
    await vscode.commands.executeCommand('notifications.clearAll');
    await screenshot('dashboard-hostile');
    assert.ok(api.dashboard.isOpen, 'the dashboard closed: did a command: link run?');
  } finally {
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 120_000 });

/** A server that only counts what reaches it: nothing should. */
async function captureServer(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers['user-agent'] ?? ''}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function writeWorkspaceSettings(settings: Record<string, unknown>, ready: () => boolean): Promise<void> {
  const dir = path.join(workspaceRoot(), '.vscode');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings, null, 2));
  await waitFor(ready, 15_000, 'VS Code to read .vscode/settings.json');
}

test('security: workspace settings cannot redirect endpoints to a capture server nor put storage at ../outside', async () => {
  const api = await scholarApi();
  const replay = await startReplay(); // the user's own endpoints: Scholar must keep using these
  const capture = await captureServer();
  const cfg = () => vscode.workspace.getConfiguration('scholar', vscode.workspace.workspaceFolders![0]!.uri);
  const outside = path.resolve(workspaceRoot(), '../outside');
  const settingsFile = path.join(workspaceRoot(), '.vscode', 'settings.json');
  try {
    assert.ok(!fs.existsSync(outside), `${outside} exists before the test`);
    const hostile: Record<string, unknown> = { 'scholar.contactEmail': 'harvest@evil.example', 'scholar.autoProcessOnSave': false };
    for (const s of SERVICES) hostile[`scholar.endpoints.${s}`] = `${capture.url}/${s}`;

    // 1. Endpoints and contact email from the workspace are ignored: the user-level replay server gets the traffic.
    await writeWorkspaceSettings(hostile, () => cfg().inspect('autoProcessOnSave')?.workspaceValue === false);
    const uri1 = await writeWorkspaceFile(api, 'security/redirect.bib', bibEntry('sec-komarov2016', record('10.1007/s10827-016-0622-8')));
    const before = replay.server.stats().requests.crossref ?? 0;
    const summary = (await vscode.commands.executeCommand('scholar.resolveAllDois', uri1)) as JobSummary | undefined;
    assert.ok(summary, 'resolve returned no summary');
    assert.equal(summary.written, 1, 'the DOI was not resolved through the user-level endpoints');
    assert.deepEqual(capture.requests, [], 'the capture server named by the workspace received requests');
    assert.ok((replay.server.stats().requests.crossref ?? 0) > before, 'the user-level (replay) endpoint received nothing');
    const leaked = replay.server.stats().log.filter((l) => `${l.path} ${l.ua ?? ''}`.includes('harvest@evil.example'));
    assert.deepEqual(leaked, [], 'the workspace contact email was sent');

    // 2. storageFolder pointing outside the workspace: refused with a clear error; nothing written, nothing sent.
    await writeWorkspaceSettings({ ...hostile, 'scholar.storageFolder': '../outside' }, () => cfg().inspect('storageFolder')?.workspaceValue === '../outside');
    const uri2 = await writeWorkspaceFile(api, 'security/outside.bib', bibEntry('sec-krishnamurthy2019', record('10.1007/s00382-019-04712-5')));
    const requestsBefore = replay.server.stats().log.length;
    const result = await vscode.commands.executeCommand('scholar.resolveAllDois', uri2);
    assert.equal(result, undefined, 'the command ran with storage outside the workspace');
    await sleep(2_000); // the error notification slides in
    await screenshot('security-storage-outside');
    assert.ok(!fs.existsSync(outside), `${outside} was created`);
    assert.deepEqual(capture.requests, []);
    assert.equal(replay.server.stats().log.length, requestsBefore, 'requests were sent although storage was refused');
    assert.equal(fs.readFileSync(uri2.fsPath, 'utf8'), bibEntry('sec-krishnamurthy2019', record('10.1007/s00382-019-04712-5')), 'the .bib was written');
    // The error the command reports (as a notification) names the setting and the reason.
    await assert.rejects(api.session.config(vscode.workspace.workspaceFolders![0]!), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'E_STORAGE_OUTSIDE');
      assert.match(err.message, /scholar\.storageFolder "\.\.\/outside" is outside the workspace folder/);
      return true;
    });
  } finally {
    fs.rmSync(settingsFile, { force: true });
    await waitFor(() => cfg().inspect('storageFolder')?.workspaceValue === undefined, 15_000, 'the workspace settings to go away').catch(() => undefined);
    await vscode.commands.executeCommand('notifications.clearAll');
    await capture.close();
    await replay.dispose();
  }
}, { timeoutMs: 120_000 });
