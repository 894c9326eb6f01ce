// Shared by the storage-* and index-* tests (not a test file itself).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';

export function tempStorage(): { root: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-'));
  const root = path.join(dir, 'storage');
  fs.mkdirSync(root);
  return { root, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Every file under dir, relative, with forward slashes. */
export function listFilesDeep(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.push(r);
    }
  };
  if (fs.existsSync(dir)) walk(dir, '');
  return out.sort();
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs this very bundle again in child mode: the test files check SCHOLAR_TEST_CHILD at load time
 * and run a worker routine instead of registering tests.
 */
export function spawnSelf(file: string, mode: string, args: string[], opts: { killAfterMs?: number } = {}): Promise<ChildResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, SCHOLAR_TEST_CHILD: mode };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [file, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let timer: NodeJS.Timeout | undefined;
  if (opts.killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'close' comes after the process is reaped, so its pid is really gone when we look at locks.
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
