// Shared by the torture-* tests (not a test file itself). `npm test` runs them quick;
// `npm run torture` sets SCHOLAR_TORTURE=long and they run many more inputs and trials.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

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
