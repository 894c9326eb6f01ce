// Test registration and helpers for the extension-host suite (runs inside a real VS Code:
// code-server via test/runners/codeServer.mjs, or desktop VS Code via test/runners/electron.mjs).
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type TestFn = () => unknown | Promise<unknown>;

export interface RegisteredTest {
  name: string;
  fn: TestFn;
  timeoutMs: number;
}

export const DEFAULT_TEST_TIMEOUT_MS = 60_000;

/** Filled by the `test()` calls of the *.test.ts modules that index.ts imports, in import order. */
export const registry: RegisteredTest[] = [];

/** Registers a test. Tests run sequentially, in registration order, each with its own timeout. */
export function test(name: string, fn: TestFn, options: { timeoutMs?: number } = {}): void {
  if (registry.some((t) => t.name === name)) throw new Error(`duplicate test name: ${name}`);
  registry.push({ name, fn, timeoutMs: options.timeoutMs ?? DEFAULT_TEST_TIMEOUT_MS });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `cond` until it returns a truthy value (which is returned) or the time is up.
 * Errors thrown by `cond` count as "not yet"; the last one is reported on timeout.
 */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

/** The first workspace folder: a temporary copy of test/fixtures/workspace made by the runner. */
export function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder is open');
  return folder.uri.fsPath;
}

/**
 * Asks the runner for a screenshot of the whole browser page and waits until it is taken.
 * Handshake: we write `<dir>/<name>.request`, the runner writes `<dir>/<name>.png` then `<name>.done`.
 * Without SCHOLAR_TEST_SCREENSHOT_DIR (desktop VS Code via test-electron) this does nothing and returns undefined.
 */
export async function screenshot(name: string, timeoutMs = 30_000, opts: { belowTitleBar?: boolean } = {}): Promise<string | undefined> {
  const dir = process.env.SCHOLAR_TEST_SCREENSHOT_DIR;
  if (!dir) return undefined;
  if (!/^[\w.-]+$/.test(name)) throw new Error(`screenshot name must be a plain file name: ${name}`);
  // Let the workbench paint what the test just did (views and notifications animate in).
  await sleep(Number(process.env.SCHOLAR_TEST_SCREENSHOT_SETTLE_MS ?? 800));
  fs.mkdirSync(dir, { recursive: true });
  const done = path.join(dir, `${name}.done`);
  fs.rmSync(done, { force: true });
  // Atomically: the runner reads the request as soon as it sees the file.
  writeAtomic(path.join(dir, `${name}.request`), opts.belowTitleBar ? JSON.stringify({ belowTitleBar: true }) : String(Date.now()));
  await waitFor(() => fs.existsSync(done), timeoutMs, `screenshot ${name}`);
  return path.join(dir, `${name}.png`);
}

/** Writes via a temporary file and a rename, so a runner polling for the file never reads half of it. */
export function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
