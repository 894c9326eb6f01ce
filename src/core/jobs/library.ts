/**
 * A library session: the storage folder with its single writer, its index, its locks, and the HTTP
 * client. The CLI opens one per run; the extension host keeps one per workspace folder.
 */
import * as path from 'node:path';
import { tmpdir, userInfo } from 'node:os';
import { ScholarHttp, type HttpOptions } from '../net/http';
import { LibraryIndex } from '../index/library';
import { StorageWriter } from '../storage/writer';
import { LockManager, startupCleanup, type CleanupReport } from '../storage/locks';
import { SCHOLAR_VERSION } from '../version';
import { storageIsNew, writeStorageGitignore } from '../storage/gitignore';

export interface LibraryOptions {
  http: HttpOptions;
  wasmPath?: string;
  fsync?: boolean;
  saveIndexDelayMs?: number;
  onError?: (err: unknown) => void;
  /** Give a storage folder this call creates a .gitignore that ignores everything in it (default true). */
  gitignore?: boolean;
}

/**
 * One pacing file per user and machine: the services' limits are per client, whichever library a
 * process works on. Lanes are keyed by origin in it, so test servers on other ports never meet.
 */
export function defaultPacingFile(): string {
  let user = 'user';
  try {
    user = String(userInfo().uid >= 0 ? userInfo().uid : userInfo().username);
  } catch {
    // no user database (some containers): one file for all
  }
  return path.join(tmpdir(), `scholar-pacing-${user}.json`);
}

export class Library {
  private constructor(
    readonly root: string,
    readonly http: ScholarHttp,
    readonly index: LibraryIndex,
    readonly writer: StorageWriter<LibraryIndex>,
    readonly locks: LockManager,
    readonly cleanup: CleanupReport,
  ) {}

  static async open(storageRoot: string, opts: LibraryOptions): Promise<Library> {
    const root = path.resolve(storageRoot);
    const created = storageIsNew(root);
    const writerProbe = await StorageWriter.open(root, { fsync: opts.fsync });
    // Part of creating the folder (like its sub-folders), before any entry can be written into it.
    if (created && opts.gitignore !== false) await writeStorageGitignore(root);
    await writerProbe.close();
    const cleanup = await startupCleanup(root);
    const index = await LibraryIndex.open(root, { wasmPath: opts.wasmPath });
    const locks = new LockManager(root);
    const writer = await StorageWriter.open(root, {
      index,
      locks,
      fsync: opts.fsync,
      saveIndexDelayMs: opts.saveIndexDelayMs,
      onError: opts.onError,
    });
    const http = new ScholarHttp({ version: SCHOLAR_VERSION, pacingFile: defaultPacingFile(), ...opts.http });
    return new Library(root, http, index, writer, locks, cleanup);
  }

  /** Drains the write queue (the index is saved by it), then releases everything. */
  async close(): Promise<void> {
    try {
      // saveIndex() waits for its debounce timer; close() flushes that save at once.
      const saved = this.writer.saveIndex();
      await this.writer.close();
      await saved;
    } finally {
      this.index.close();
      await this.http.close();
    }
  }
}
