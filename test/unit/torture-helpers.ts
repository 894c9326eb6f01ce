// Shared by the torture-* tests (not a test file itself). `npm test` runs them quick;
// `npm run torture` sets SCHOLAR_TORTURE=long and they run many more inputs and trials.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { keyToFolderName } from '../../src/core/storage/keys';
import { validateMetadata, type Metadata } from '../../src/core/storage/metadata';
import { GITIGNORE_TEXT } from '../../src/core/storage/gitignore';
import { parseFulltext } from '../../src/core/storage/fulltext';

export const LONG = process.env.SCHOLAR_TORTURE === 'long';

/** `quick` in npm test, `long` under npm run torture. */
export function count(quick: number, long: number): number {
  const override = Number(process.env.SCHOLAR_TORTURE_SCALE);
  const base = LONG ? long : quick;
  return Number.isFinite(override) && override > 0 ? Math.max(1, Math.round(base * override)) : base;
}

/** The seed of this run: SCHOLAR_TORTURE_SEED to replay a failure, else a fixed seed (quick) or the clock (long). */
export function seedOf(name: string): number {
  const env = process.env.SCHOLAR_TORTURE_SEED;
  const seed = env ? Number(env) >>> 0 : LONG ? (Date.now() ^ (process.pid << 8)) >>> 0 : 0x5c401a12;
  process.stderr.write(`[${name}] seed ${seed} (replay with SCHOLAR_TORTURE_SEED=${seed})\n`);
  return seed;
}

/** mulberry32: small, fast, good enough to make reproducible hostile inputs. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export function repoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let d = start;
    for (;;) {
      if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'test/fixtures'))) return d;
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  throw new Error('repository root not found');
}

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-torture-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Every file under dir (relative, forward slashes), symlinks listed as files. */
export function walk(dir: string): string[] {
  const out: string[] = [];
  const rec = (d: string, rel: string) => {
    let list: fs.Dirent[];
    try {
      list = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of list) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) rec(path.join(d, e.name), r);
      else out.push(r);
    }
  };
  rec(dir, '');
  return out.sort();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The CLI as a child process, and checks of a storage folder after a run (or a crash)


/** dist/cli.js, built by `node esbuild.mjs` (which `--tests` also runs) or here when missing. */
export function cliPath(): string {
  const root = repoRoot();
  const cli = path.join(root, 'dist/cli.js');
  if (!fs.existsSync(cli)) {
    const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0 || !fs.existsSync(cli)) throw new Error('could not build dist/cli.js');
  }
  return cli;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
  /** Peak resident set of the CLI in KB, when /usr/bin/time is there to measure it. */
  maxRssKb?: number;
  ms: number;
}

const GNU_TIME = '/usr/bin/time';

export interface CliHandle {
  child: import('node:child_process').ChildProcess;
  done: Promise<CliRun>;
}

/** Starts `node dist/cli.js …args`; with measureRss, under GNU time -v (SIGKILL reaches the node child via killNode). */
export function startCli(args: string[], opts: { cwd: string; measureRss?: boolean; env?: NodeJS.ProcessEnv }): CliHandle {
  const useTime = !!opts.measureRss && fs.existsSync(GNU_TIME);
  const cmd = useTime ? GNU_TIME : process.execPath;
  const argv = useTime ? ['-v', process.execPath, cliPath(), ...args] : [cliPath(), ...args];
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  const t0 = Date.now();
  const child = spawn(cmd, argv, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let maxRssKb: number | undefined;
      if (useTime) {
        const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
        if (m) maxRssKb = Number(m[1]);
        const ex = /Command exited with non-zero status (\d+)/.exec(stderr);
        if (ex) code = Number(ex[1]);
      }
      resolve({ code, signal, stdout, stderr, pid: child.pid ?? -1, maxRssKb, ms: Date.now() - t0 });
    });
  });
  return { child, done };
}

export function runCliChild(args: string[], opts: { cwd: string; measureRss?: boolean; env?: NodeJS.ProcessEnv }): Promise<CliRun> {
  return startCli(args, opts).done;
}

export interface FetchJson {
  command: 'fetch';
  totals: Record<string, number>;
  entries: { key: string; outcome: string; source: string | null; doi: string | null; reason: string | null; permanent: boolean | null; message: string | null }[];
}

export function sha256File(p: string): string {
  return createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

/** A PDF as Scholar must keep it: %PDF- at the start, %%EOF at the end (trailing whitespace allowed). */
export function pdfProblem(p: string): string | undefined {
  const b = fs.readFileSync(p);
  if (b.length < 16) return `${b.length} bytes`;
  if (b.subarray(0, 5).toString('latin1') !== '%PDF-') return `starts with ${JSON.stringify(b.subarray(0, 12).toString('latin1'))}`;
  const tail = b.subarray(Math.max(0, b.length - 64)).toString('latin1').trimEnd();
  if (!tail.endsWith('%%EOF')) return `ends with ${JSON.stringify(tail.slice(-16))}`;
  return undefined;
}

export interface StorageReport {
  /** key → metadata of every readable entry folder. */
  entries: Map<string, Metadata>;
  /** Keys whose paper.pdf is there and vouched for by metadata (sha256 matches). */
  stored: Set<string>;
  /** Files that are crash debris by name (temps, locks): allowed after a kill, not after a clean run. */
  debris: string[];
  problems: string[];
}

const DEBRIS_RE = /(^|\/)\.tmp-|\.tmp$|\.lock$|\.lock\.break$|(^|\/)tmp\/./;

/**
 * Checks every file of a storage folder: each metadata.json parses and validates and belongs to
 * its folder, each paper.pdf is a whole PDF whose sha256 is the one metadata records (when it
 * records one), and nothing else is there but known debris.
 */
export function inspectStorage(root: string): StorageReport {
  const report: StorageReport = { entries: new Map(), stored: new Set(), debris: [], problems: [] };
  for (const rel of walk(root)) {
    const parts = rel.split('/');
    const abs = path.join(root, rel);
    if (DEBRIS_RE.test(rel)) {
      report.debris.push(rel);
      continue;
    }
    if (rel === 'library.sqlite' || (parts[0] === 'jobs' && parts.length === 2 && rel.endsWith('.json'))) {
      if (parts[0] === 'jobs') {
        try {
          JSON.parse(fs.readFileSync(abs, 'utf8'));
        } catch (err) {
          report.problems.push(`${rel}: ${(err as Error).message}`);
        }
      }
      continue;
    }
    // The .gitignore a storage folder gets when Scholar creates it: exactly Scholar's text, or it is a problem.
    if (rel === '.gitignore') {
      if (fs.readFileSync(abs, 'utf8') !== GITIGNORE_TEXT) report.problems.push('.gitignore: not the text Scholar writes');
      continue;
    }
    if (parts[0] !== 'by_key' || parts.length !== 3 || (parts[2] !== 'metadata.json' && parts[2] !== 'paper.pdf' && parts[2] !== 'fulltext.txt')) {
      report.problems.push(`unexpected file ${rel}`);
      continue;
    }
    // The PDF's text: a whole record, naming the PDF beside it.
    if (parts[2] === 'fulltext.txt') {
      const rec = parseFulltext(fs.readFileSync(abs, 'utf8'));
      const pdf = path.join(path.dirname(abs), 'paper.pdf');
      if (!rec) report.problems.push(`${rel}: not a whole full-text record`);
      else if (!fs.existsSync(pdf) || createHash('sha256').update(fs.readFileSync(pdf)).digest('hex') !== rec.sha256) report.problems.push(`${rel}: the text of another PDF`);
      continue;
    }
    if (parts[2] === 'paper.pdf') {
      const bad = pdfProblem(abs);
      if (bad) report.problems.push(`${rel}: not a whole PDF (${bad})`);
      continue;
    }
    let meta: Metadata;
    try {
      meta = validateMetadata(JSON.parse(fs.readFileSync(abs, 'utf8')), rel);
    } catch (err) {
      report.problems.push(`${rel}: ${(err as Error).message}`);
      continue;
    }
    if (keyToFolderName(meta.key) !== parts[1]) report.problems.push(`${rel}: holds key ${JSON.stringify(meta.key)}, which does not map to folder ${parts[1]}`);
    report.entries.set(meta.key, meta);
    const pdf = path.join(root, 'by_key', parts[1]!, 'paper.pdf');
    if (meta.pdf) {
      if (!fs.existsSync(pdf)) report.problems.push(`${rel}: records a PDF but ${parts[1]}/paper.pdf is missing`);
      else if (sha256File(pdf) !== meta.pdf.sha256) report.problems.push(`${rel}: paper.pdf sha256 differs from metadata's`);
      else if (fs.statSync(pdf).size !== meta.pdf.size) report.problems.push(`${rel}: paper.pdf size differs from metadata's`);
      else report.stored.add(meta.key);
    }
  }
  return report;
}
