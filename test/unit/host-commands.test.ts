// The command table's ids (src/shared/commands.ts, which types src/host/commands/index.ts) and
// package.json's contributes.commands name the same commands, in both directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMAND_IDS } from '../../src/shared/commands';
import { WEBVIEW_COMMAND_IDS } from '../../src/shared/protocol';

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { commands: { command: string }[]; menus?: Record<string, { command?: string }[]>; keybindings?: { command: string }[] };
};
const declared = pkg.contributes.commands.map((c) => c.command);

test('every command package.json declares has a handler in the table', () => {
  const table = new Set<string>(COMMAND_IDS);
  assert.deepEqual(declared.filter((id) => !table.has(id)), []);
});

test('every command of the table is declared in package.json', () => {
  const set = new Set(declared);
  assert.deepEqual(COMMAND_IDS.filter((id) => !set.has(id)), []);
});

test('no command is declared or listed twice', () => {
  assert.equal(new Set(declared).size, declared.length);
  assert.equal(new Set(COMMAND_IDS).size, COMMAND_IDS.length);
});

test('menus, key bindings and the dashboard name only Scholar commands the table has', () => {
  const table = new Set<string>(COMMAND_IDS);
  const referenced = [
    ...Object.values(pkg.contributes.menus ?? {}).flatMap((items) => items.map((i) => i.command)),
    ...(pkg.contributes.keybindings ?? []).map((k) => k.command),
    ...Object.values(WEBVIEW_COMMAND_IDS),
  ].filter((id): id is string => !!id && id.startsWith('scholar.') && !id.startsWith('scholar.library.'));
  assert.deepEqual(referenced.filter((id) => !table.has(id)), []);
});

test('Cancel, Pause and Resume are enabled only when they can act (no "nothing to cancel" message)', () => {
  const en = (id: string) => (pkg.contributes.commands as { command: string; enablement?: string }[]).find((c) => c.command === id)?.enablement;
  assert.equal(en('scholar.cancel'), 'scholar.jobRunning');
  assert.equal(en('scholar.pause'), 'scholar.jobRunning && !scholar.jobPaused');
  assert.equal(en('scholar.resume'), 'scholar.jobPaused');
  // The keys are set by the host (container.ts); a renamed key would leave the commands disabled for good.
  const container = fs.readFileSync(path.resolve(__dirname, '../../src/host/container.ts'), 'utf8');
  for (const key of ['scholar.jobRunning', 'scholar.jobPaused']) assert.ok(container.includes(`'setContext', '${key}'`), `${key} is set in container.ts`);
});
