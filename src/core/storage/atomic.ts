/**
 * Crash-safe file replacement: readers see the old file or the new one, never a torn one.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ScholarError } from '../errors';

export interface AtomicOptions {
  /** fsync the file and its folder (default true). Off only for benchmarks of the rest. */
  fsync?: boolean;
  /** Permission bits of the new file (default 0o644), e.g. to keep those of the file replaced. */
  mode?: number;
}

/**
 * Eight hex digits naming this host in temp file names, so that startup cleanup can tell a
 * dead process of this host (its temps are removed at once) from a process of another host
 * sharing the folder (whose pid means nothing here; its temps are kept for a while).
 */
export const HOST_TAG = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);

/** Name of a temp file for `finalPath`, recognisable by startupCleanup: `.<name>.<pid>-<host>.<random>.tmp`. */
export function atomicTempPath(finalPath: string): string {
  const dir = path.dirname(finalPath);
  return path.join(dir, `.${path.basename(finalPath)}.${process.pid}-${HOST_TAG}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Matches names made by atomicTempPath; group 1 is the writer's pid, group 2 its host tag
 * (absent in names written before host tags existed).
 */
export const ATOMIC_TEMP_RE = /^\..+\.(\d+)(?:-([0-9a-f]{8}))?\.[0-9a-f]{12}\.tmp$/;

/**
 * Makes a rename durable. Windows cannot open a folder for fsync and its renames are already
 * journalled by NTFS, so the errors it gives there are ignored.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!(process.platform === 'win32' || code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM' || code === 'EBADF')) throw err;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Writes `data` to `finalPath` through a temp file in the same folder: write, fsync, rename, fsync folder. */
export async function atomicWriteFile(finalPath: string, data: string | Uint8Array, opts: AtomicOptions = {}): Promise<void> {
  const doSync = opts.fsync !== false;
  const tmp = atomicTempPath(finalPath);
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'wx', opts.mode ?? 0o644);
    // open() applies the umask; the caller asked for these exact bits.
    if (opts.mode !== undefined) await fh.chmod(opts.mode);
    await fh.writeFile(data);
    if (doSync) await fh.sync();
    await fh.close();
    fh = undefined;
    await renameWithRetry(tmp, finalPath);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw new ScholarError('E_STORAGE_WRITE', `could not write ${finalPath}: ${(err as Error).message}`, { path: finalPath }, { cause: err });
  }
  if (doSync) await fsyncDir(path.dirname(finalPath));
}

/**
 * Moves a finished temp file (already written and fsynced by its producer, on the same file
 * system) to `finalPath`, replacing what is there, then fsyncs the folder.
 */
/** Flushes a file's data to disk (a producer's part of atomicMoveInto, done before the file is queued). */
export async function syncFile(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function atomicMoveInto(tempPath: string, finalPath: string, opts: AtomicOptions = {}): Promise<void> {
  const doSync = opts.fsync !== false;
  try {
    if (doSync) {
      // The producer should have synced; doing it again is cheap insurance against a torn paper.pdf.
      const fh = await fsp.open(tempPath, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    await renameWithRetry(tempPath, finalPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ScholarError(
      code === 'EXDEV' ? 'E_STORAGE_CROSS_DEVICE' : 'E_STORAGE_WRITE',
      `could not move ${tempPath} to ${finalPath}: ${(err as Error).message}`,
      { tempPath, finalPath },
      { cause: err },
    );
  }
  if (doSync) await fsyncDir(path.dirname(finalPath));
}

/** Windows refuses a rename while a reader (antivirus, indexer, PDF viewer) holds the target briefly. */
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fsp.rename(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (process.platform !== 'win32' || attempt >= 10 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw err;
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
  }
}
