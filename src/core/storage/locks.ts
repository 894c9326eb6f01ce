/**
 * Cross-process locks on one storage folder (two VS Code windows, the CLI beside the editor).
 *
 * Protocol:
 * - A lock is a file created exclusively holding JSON `{pid, host, createdAt, token}`: written
 *   to a temp file, then hard-linked to the lock path (fails with EEXIST exactly like
 *   `open(p, 'wx')`, but the lock is never visible empty); `open('wx')` is the fallback where
 *   links are unsupported. Creating it is the acquisition; unlinking it (after checking the
 *   token is still ours) is the release.
 * - While held, the owner touches the file's mtime every `heartbeatMs` (default ttl/3).
 * - A lock is stale when its owner is on this host and its pid is not alive, or its mtime is older
 *   than `ttlMs` (owner hung, crashed on another host, or pid reused), or it is unreadable/empty
 *   and older than a short grace (a creator that died between create and write).
 * - Breaking a stale lock happens under a guard file `<lock>.break` (also 'wx'): the breaker
 *   re-reads the lock under the guard and unlinks it only if it is the very lock (same token)
 *   it judged stale. Without the guard, two breakers could each unlink, and the slower one would
 *   delete the fresh lock the faster one had just created.
 * Two kinds: 'key' (`locks/<folder>.lock`) claims a key for a long operation such as a download;
 * 'meta' (`locks/meta/<folder>.lock`) is held by the writer only around a metadata
 * read-modify-write, so a download in progress does not block metadata updates.
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ScholarError } from '../errors';
import { ATOMIC_TEMP_RE, HOST_TAG, atomicTempPath } from './atomic';
import { keyToFolderName } from './keys';
import { DOWNLOAD_TEMP_PREFIX, storagePaths } from './layout';

export type LockKind = 'key' | 'meta';

export interface LockInfo {
  pid: number;
  host: string;
  createdAt: string;
  token: string;
}

export interface LockOptions {
  /** A lock whose heartbeat is older than this is stale (default 60 s). */
  ttlMs?: number;
  /** How often a held lock's mtime is refreshed (default ttlMs / 3). */
  heartbeatMs?: number;
}

export interface LockHandle {
  readonly key: string;
  readonly kind: LockKind;
  readonly path: string;
  readonly token: string;
  /** Set when a heartbeat found the lock gone or replaced (it was judged stale by someone). */
  lost: boolean;
  release(): Promise<void>;
}

const GUARD_STALE_MS = 10_000;
const UNREADABLE_GRACE_MS = 5_000;

export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseLock(text: string): LockInfo | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockInfo>;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string' && typeof o.createdAt === 'string') {
      return o as LockInfo;
    }
  } catch {
    /* unreadable: handled by the caller */
  }
  return undefined;
}

async function readLock(p: string): Promise<{ info?: LockInfo; mtimeMs: number } | undefined> {
  try {
    const [text, st] = await Promise.all([fsp.readFile(p, 'utf8'), fsp.stat(p)]);
    return { info: parseLock(text), mtimeMs: st.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function judgeStale(
  lock: { info?: LockInfo; mtimeMs: number },
  ttlMs: number,
  heldTokens: ReadonlySet<string>,
  now = Date.now(),
): boolean {
  const age = now - lock.mtimeMs;
  if (!lock.info) return age > Math.min(ttlMs, UNREADABLE_GRACE_MS);
  if (heldTokens.has(lock.info.token)) return false;
  // Our own pid counts as alive (another LockManager in this process may hold it); a leftover
  // of an earlier process that had the same pid ages out through the TTL.
  if (lock.info.host === os.hostname() && lock.info.pid !== process.pid && !isPidAlive(lock.info.pid)) return true;
  return age > ttlMs;
}

/** Removes `lockPath` if it is still the stale lock we observed (see the protocol above). */
async function breakStaleLock(lockPath: string, observedToken: string | undefined, ttlMs: number, held: ReadonlySet<string>): Promise<boolean> {
  const guard = `${lockPath}.break`;
  let gh: fsp.FileHandle;
  try {
    gh = await fsp.open(guard, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // A breaker that died holding the guard must not block everyone forever.
    const st = await fsp.stat(guard).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > GUARD_STALE_MS) await fsp.rm(guard, { force: true });
    return false;
  }
  try {
    await gh.close();
    const again = await readLock(lockPath);
    if (!again) return true;
    if (again.info?.token !== observedToken || !judgeStale(again, ttlMs, held)) return false;
    await fsp.rm(lockPath, { force: true });
    return true;
  } finally {
    await fsp.rm(guard, { force: true });
  }
}

/**
 * Creates the lock file exclusively, with its content already in it: the JSON goes to a temp
 * file that is hard-linked to the lock path (link fails with EEXIST like O_EXCL does). Thus a
 * process killed mid-acquisition never leaves an empty lock that others must wait out.
 * Where hard links are not supported, falls back to open('wx') + write.
 * Returns false when the lock exists.
 */
async function createLockFile(p: string, content: string): Promise<boolean> {
  const tmp = atomicTempPath(p);
  await fsp.writeFile(tmp, content, { flag: 'wx' });
  try {
    await fsp.link(tmp, p);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(p, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
  return true;
}

export class LockManager {
  readonly ttlMs: number;
  readonly heartbeatMs: number;
  private readonly paths;
  private readonly held = new Map<string, LockHandle>();
  private readonly heldTokens = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(storageRoot: string, opts: LockOptions = {}) {
    this.paths = storagePaths(storageRoot);
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.heartbeatMs = opts.heartbeatMs ?? Math.max(50, Math.floor(this.ttlMs / 3));
  }

  lockPath(key: string, kind: LockKind = 'key'): string {
    const dir = kind === 'key' ? this.paths.locks : this.paths.metaLocks;
    return path.join(dir, `${keyToFolderName(key)}.lock`);
  }

  /** True when this manager (this process) holds the lock. */
  isHeld(key: string, kind: LockKind = 'key'): boolean {
    return this.held.has(this.lockPath(key, kind));
  }

  /**
   * One attempt: returns a handle, or null when another holder (in this or another process)
   * has a live lock. Stale locks are broken and the attempt repeated once.
   */
  async tryLock(key: string, kind: LockKind = 'key'): Promise<LockHandle | null> {
    const p = this.lockPath(key, kind);
    if (this.held.has(p)) return null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const token = randomBytes(12).toString('hex');
      const info: LockInfo = { pid: process.pid, host: os.hostname(), createdAt: new Date().toISOString(), token };
      let created: boolean;
      try {
        created = await createLockFile(p, JSON.stringify(info));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          await fsp.mkdir(path.dirname(p), { recursive: true });
          continue;
        }
        throw new ScholarError('E_LOCK_IO', `cannot create lock ${p}: ${(err as Error).message}`, { path: p }, { cause: err });
      }
      if (!created) {
        if (this.held.has(p)) return null;
        const current = await readLock(p);
        if (!current) continue;
        if (judgeStale(current, this.ttlMs, this.heldTokens) && (await breakStaleLock(p, current.info?.token, this.ttlMs, this.heldTokens))) continue;
        return null;
      }
      const handle: LockHandle = {
        key,
        kind,
        path: p,
        token,
        lost: false,
        release: () => this.releaseHandle(handle),
      };
      this.held.set(p, handle);
      this.heldTokens.add(token);
      this.startHeartbeat();
      return handle;
    }
    return null;
  }

  /** Waits (polling with backoff) until the lock is ours; E_LOCK_TIMEOUT after timeoutMs. */
  async acquire(key: string, opts: { kind?: LockKind; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<LockHandle> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let delay = 2;
    for (;;) {
      opts.signal?.throwIfAborted();
      const h = await this.tryLock(key, opts.kind ?? 'key');
      if (h) return h;
      if (Date.now() > deadline) {
        throw new ScholarError('E_LOCK_TIMEOUT', `timed out waiting for the lock on ${key}`, { key, kind: opts.kind ?? 'key' });
      }
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 100);
    }
  }

  /** Releases this process's lock on key (no-op if not held). */
  async release(key: string, kind: LockKind = 'key'): Promise<void> {
    const h = this.held.get(this.lockPath(key, kind));
    if (h) await this.releaseHandle(h);
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.held.values()].map((h) => this.releaseHandle(h)));
  }

  private async releaseHandle(h: LockHandle): Promise<void> {
    if (this.held.get(h.path) !== h) return;
    this.held.delete(h.path);
    this.heldTokens.delete(h.token);
    if (this.held.size === 0) this.stopHeartbeat();
    const current = await readLock(h.path).catch(() => undefined);
    // Only remove the file if it is still ours: if it was judged stale and re-taken, it is not.
    if (current?.info?.token === h.token) await fsp.rm(h.path, { force: true });
  }

  private startHeartbeat(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  private stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    const now = new Date();
    for (const h of [...this.held.values()]) {
      try {
        const cur = await readLock(h.path);
        if (cur?.info?.token !== h.token) {
          h.lost = true;
          continue;
        }
        await fsp.utimes(h.path, now, now);
      } catch {
        h.lost = true;
      }
    }
  }
}

export interface CleanupOptions {
  /**
   * Temps of dead processes younger than this are kept (default 10 min) unless their name says they
   * were made on this host: a pid of another host (or an untagged name) says nothing here.
   */
  minAgeMs?: number;
  /** Temps older than this are removed whatever their pid says (default 24 h). */
  maxAgeMs?: number;
  /** TTL used to judge locks stale (default 60 s). */
  lockTtlMs?: number;
  signal?: AbortSignal;
}

export interface CleanupReport {
  removedTemps: string[];
  removedLocks: string[];
}

/** Who made a temp file, from its name: pid (-1 when unreadable) and host tag when present. */
function tempOwner(name: string, anyName: boolean): { pid: number; host?: string } | undefined {
  const m = ATOMIC_TEMP_RE.exec(name);
  if (m) return { pid: Number(m[1]), host: m[2] };
  let rest: string | undefined;
  if (name.startsWith(DOWNLOAD_TEMP_PREFIX)) rest = name.slice(DOWNLOAD_TEMP_PREFIX.length);
  else if (anyName) rest = name;
  if (rest === undefined) return undefined;
  const o = /^(\d+)-(?:([0-9a-f]{8})-)?/.exec(rest);
  return o ? { pid: Number(o[1]), host: o[2] } : { pid: -1 };
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

/**
 * Run at startup (and safe while other processes use the folder): removes temp files left by
 * dead processes and stale locks. Temps of live processes (including this one) are kept.
 */
export async function startupCleanup(storageRoot: string, opts: CleanupOptions = {}): Promise<CleanupReport> {
  const sp = storagePaths(storageRoot);
  const minAge = opts.minAgeMs ?? 10 * 60_000;
  const maxAge = opts.maxAgeMs ?? 24 * 3_600_000;
  const ttl = opts.lockTtlMs ?? 60_000;
  const report: CleanupReport = { removedTemps: [], removedLocks: [] };
  const now = Date.now();

  const consider = async (file: string, anyName: boolean): Promise<void> => {
    const owner = tempOwner(path.basename(file), anyName);
    if (!owner) return;
    const { pid } = owner;
    const st = await fsp.lstat(file).catch(() => undefined);
    // Directories only in tmp/ (the writer's trash of a removed entry).
    if (!st || (st.isDirectory() && !anyName)) return;
    const age = now - st.mtimeMs;
    // A dead pid of this host cannot be writing: its temps go at once. Another host's (or an
    // untagged name's) pid says nothing here: those wait for minAge.
    const sameHost = owner.host === HOST_TAG;
    const ownerGone = pid !== process.pid && !isPidAlive(pid);
    if ((ownerGone && (sameHost || age >= minAge)) || age > maxAge) {
      await fsp.rm(file, { force: true, recursive: true });
      report.removedTemps.push(file);
    }
  };

  for (const folder of await listDir(sp.byKey)) {
    opts.signal?.throwIfAborted();
    const dir = path.join(sp.byKey, folder);
    if (ATOMIC_TEMP_RE.test(folder)) {
      await consider(dir, false);
      continue;
    }
    for (const name of await listDir(dir)) await consider(path.join(dir, name), false);
  }
  for (const name of await listDir(sp.tmp)) await consider(path.join(sp.tmp, name), true);
  for (const name of await listDir(sp.jobs)) await consider(path.join(sp.jobs, name), false);
  for (const name of await listDir(sp.root)) await consider(path.join(sp.root, name), false);

  for (const dir of [sp.locks, sp.metaLocks]) {
    for (const name of await listDir(dir)) {
      opts.signal?.throwIfAborted();
      const p = path.join(dir, name);
      if (ATOMIC_TEMP_RE.test(name)) {
        await consider(p, false);
        continue;
      }
      if (name.endsWith('.lock.break')) {
        const st = await fsp.stat(p).catch(() => undefined);
        if (st && now - st.mtimeMs > GUARD_STALE_MS) {
          await fsp.rm(p, { force: true });
          report.removedLocks.push(p);
        }
        continue;
      }
      if (!name.endsWith('.lock')) continue;
      const cur = await readLock(p);
      if (cur && judgeStale(cur, ttl, new Set()) && (await breakStaleLock(p, cur.info?.token, ttl, new Set()))) {
        report.removedLocks.push(p);
      }
    }
  }
  return report;
}
