// First extension-host tests: the extension starts on a LaTeX workspace, its commands exist,
// its view shows, and a capability that has not landed answers politely instead of throwing.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { screenshot, test, waitFor, workspaceRoot } from './util';

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
  // No job is running: cancel must resolve (showing "no job is running"), never reject.
  const result = await vscode.commands.executeCommand('scholar.cancel');
  assert.equal(result, undefined);
  await screenshot('nothing-to-cancel');
});
