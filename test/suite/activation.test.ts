// First extension-host tests: the extension starts on a LaTeX workspace, its commands exist,
// its view shows, and a capability that has not landed answers politely instead of throwing.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { screenshot, test, waitFor, workspaceRoot } from './util';
import { scholarApi, treeEntries, writeWorkspaceFile } from './scholar';

const EXTENSION_ID = 'scholar-dev.scholar';

function scholar(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded (extensionDevelopmentPath wrong?)`);
  return ext;
}

test('workspace fixture is open and contains a .bib file', () => {
  const root = workspaceRoot();
  assert.ok(fs.existsSync(path.join(root, 'refs.bib')), `refs.bib missing in ${root}`);
  assert.ok(fs.existsSync(path.join(root, 'main.tex')), `main.tex missing in ${root}`);
});

test('extension activates on a workspace containing a .bib', async () => {
  const ext = scholar();
  // Activation must come from the extension's own activation events, not from the test calling activate().
  await waitFor(() => ext.isActive, 30_000, `${EXTENSION_ID} to activate`);
});

test('every command in package.json contributes.commands is registered', async () => {
  const declared: { command: string }[] = scholar().packageJSON?.contributes?.commands ?? [];
  assert.ok(declared.length > 0, 'package.json declares no commands');
  const registered = new Set(await vscode.commands.getCommands(true));
  const missing = declared.map((c) => c.command).filter((id) => !registered.has(id));
  assert.deepEqual(missing, [], `declared but not registered: ${missing.join(', ')}`);
});

test('the Scholar view container opens and shows the library tree', async () => {
  await vscode.commands.executeCommand('workbench.view.extension.scholar');
  // `<viewId>.focus` exists only for a contributed view and rejects when the view cannot be shown.
  await vscode.commands.executeCommand('scholar.library.focus');
  await screenshot('library');
});

test('a command with nothing to act on answers with a message instead of throwing', async () => {
  const api = await scholarApi();
  const failedBefore = api.commandFailures.length;
  // No job is running: cancel must resolve quietly (the palette disables it then), never reject.
  const result = await vscode.commands.executeCommand('scholar.cancel');
  assert.equal(result, undefined);
  // registerCommands catches every exception, so "did not reject" proves nothing: the record of caught failures does.
  assert.deepEqual(api.commandFailures.slice(failedBefore), [], 'the command threw (caught at the edge)');
  await screenshot('nothing-to-cancel');
});

test('a command that throws is caught at the edge and recorded, so the check above can fail', async () => {
  const api = await scholarApi();
  const failedBefore = api.commandFailures.length;
  // Keep This DOI refuses (throws E_USAGE) an argument that is not an entry of a .bib file.
  const result = await vscode.commands.executeCommand('scholar.keepDoi', { key: 'k', bibUri: 'not a uri' });
  assert.equal(result, undefined, 'a caught failure resolves to undefined');
  assert.equal(api.commandFailures.length, failedBefore + 1, JSON.stringify(api.commandFailures.slice(failedBefore)));
  assert.equal(api.commandFailures[failedBefore].id, 'scholar.keepDoi');
});

test('a long .bib is shown in ranges of 1,000 entries, each expanding to its entries in file order', async () => {
  const api = await scholarApi();
  const n = 2_500;
  const text = Array.from({ length: n }, (_, i) => `@article{long${String(i).padStart(4, '0')}, title = {Entry ${i}}, year = {2001}}\n`).join('');
  const uri = await writeWorkspaceFile(api, 'long/long.bib', text);
  try {
    const bibNode = api.tree.getChildren().find((x) => x.kind === 'bib' && x.doc.uri.toString() === uri.toString());
    assert.ok(bibNode);
    const ranges = api.tree.getChildren(bibNode);
    assert.deepEqual(ranges.map((r) => api.tree.getTreeItem(r).label), ['1–1000', '1001–2000', '2001–2500']);
    assert.equal(api.tree.getTreeItem(ranges[2]!).description, 'long2000 … long2499');
    assert.equal(api.tree.getTreeItem(ranges[0]!).collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    const keys = ranges.flatMap((r) => api.tree.getChildren(r)).map((e) => (e.kind === 'entry' ? e.key : ''));
    assert.equal(keys.length, n);
    assert.deepEqual(keys.slice(998, 1002), ['long0998', 'long0999', 'long1000', 'long1001']);
    assert.deepEqual(treeEntries(api, uri).length, n);
    // Filtered down to a few, the entries are shown directly again.
    api.tree.setFilter(new Set(['long0007', 'long2222']), 'two');
    assert.deepEqual(api.tree.getChildren(bibNode).map((e) => (e.kind === 'entry' ? e.key : e.kind)), ['long0007', 'long2222']);
  } finally {
    api.tree.setFilter(undefined);
    fs.rmSync(path.dirname(uri.fsPath), { recursive: true, force: true });
    await waitFor(async () => {
      if (!api.project.bibDoc(uri)) return true;
      await api.project.reload();
      return !api.project.bibDoc(uri);
    }, 30_000, 'the project model to drop long.bib', 500);
  }
});

test('the command table registered is exactly package.json contributes.commands, every command through the recording edge', async () => {
  const api = await scholarApi();
  const declared = new Set<string>((scholar().packageJSON?.contributes?.commands ?? []).map((c: { command: string }) => c.command));
  const table = new Set(api.commandIds);
  assert.deepEqual([...declared].filter((id) => !table.has(id)), [], 'declared but without a handler in the table');
  assert.deepEqual([...table].filter((id) => !declared.has(id)), [], 'in the table but not declared');
});
