/**
 * The single writer: every change to storage/ (metadata, PDFs, job state, the index file) is an
 * operation in one queue, applied one at a time in the order it was enqueued. Workers only
 * produce temp files and call these methods; nothing else writes shared state.
 *
 * Each method returns a promise that settles when its operation has been applied (or failed).
 * Operations take no AbortSignal on purpose: once accepted, a write is applied (close() drains
 * the queue), so a cancelled job can never leave half of its result behind.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ScholarError } from '../errors';
import { atomicMoveInto, atomicWriteFile, HOST_TAG } from './atomic';
import { ensureStorageDirs, entryDir, FULLTEXT_FILE, isWorkerTempPath, jobStatePath, METADATA_FILE, PDF_FILE, storagePaths } from './layout';
import { formatFulltext, fulltextSha, type FulltextRecord } from './fulltext';
import { LockManager } from './locks';
import { JOB_STATE_VERSION, type JobStateInput } from './jobState';
import { emptyMetadata, mergeMetadata, validateMetadata, type Metadata, type MetadataPatch, type PdfInfo } from './metadata';

/** The job state the runner (or the host, changing its status) hands over; see storage/jobState.ts. */
export type JobState = JobStateInput;

/**
 * What the writer needs of the library index (index/library.ts's LibraryIndex). Declared here, and
 * the writer generic over it, so that storage never imports the index: the index is a cache read
 * from storage, and the dependency runs one way (test/runners/deps.mjs checks it).
 */
export interface WriterIndex {
  upsert(meta: Metadata, mtimeMs: number | null): void;
  remove(key: string): boolean;
  /** The text of the entry's PDF for full-text search (undefined: none). */
  setFullText(key: string, text: string | undefined): void;
  exportBytes(): Uint8Array;
}

export interface WriterOptions<I extends WriterIndex = WriterIndex> {
  /** Mirror every metadata change into this index and persist it (debounced) to library.sqlite. */
  index?: I;
  /** Lock manager shared with download workers of this process (default: a new one). */
  locks?: LockManager;
  /** Debounce for saveIndex() and automatic saves after index changes (default 2000 ms). */
  saveIndexDelayMs?: number;
  /** fsync files and folders (default true). */
  fsync?: boolean;
  /** How long to wait for another process's metadata lock (default 30 s). */
  lockTimeoutMs?: number;
  /** Called after each applied operation, in order (diagnostics and tests). */
  onApplied?: (op: AppliedOp) => void;
  /** Failures that have no caller to reject (automatic index saves). */
  onError?: (err: unknown) => void;
  now?: () => Date;
}

export type AppliedOp =
  | { kind: 'metadata'; key: string; patches: number }
  | { kind: 'pdf'; key: string }
  | { kind: 'fulltext'; key: string }
  | { kind: 'remove'; key: string }
  | { kind: 'job'; id: string }
  | { kind: 'saveIndex'; bytes: number }
  | { kind: 'indexTask' }
  | { kind: 'barrier' };

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

type Op<I> =
  | { kind: 'metadata'; key: string; patches: { patch: MetadataPatch; done: Deferred<Metadata> }[] }
  | { kind: 'pdf'; key: string; tempPath: string; pdf: PdfInfo; extra?: MetadataPatch[]; done: Deferred<Metadata> }
  | { kind: 'remove'; key: string; done: Deferred<boolean> }
  | { kind: 'fulltext'; key: string; record: FulltextRecord; done: Deferred<void> }
  | { kind: 'job'; id: string; state: JobState; done: Deferred<void> }
  | { kind: 'saveIndex' }
  | { kind: 'indexTask'; run: (index: I) => Promise<unknown>; done: Deferred<unknown> }
  | { kind: 'barrier'; done: Deferred<void> };

export class StorageWriter<I extends WriterIndex = WriterIndex> {
  readonly root: string;
  readonly locks: LockManager;
  private readonly index?: I;
  private readonly fsync: boolean;
  /** Whether this writer fsyncs: a producer that syncs its temp file first takes that cost off the single queue. */
  get syncs(): boolean {
    return this.fsync;
  }
  private readonly delayMs: number;
  private readonly lockTimeoutMs: number;
  private readonly now: () => Date;
  private readonly ops: Op<I>[] = [];
  /** Metadata ops not yet started that are still the latest queued op for their key. */
  private readonly openMeta = new Map<string, Extract<Op<I>, { kind: 'metadata' }>>();
  private readonly openJobs = new Map<string, Extract<Op<I>, { kind: 'job' }>>();
  private running = false;
  private closed = false;
  private indexDirty = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private saveQueued = false;
  private saveWaiters: Deferred<void>[] = [];

  private constructor(
    root: string,
    private readonly opts: WriterOptions<I>,
  ) {
    this.root = root;
    this.index = opts.index;
    this.locks = opts.locks ?? new LockManager(root);
    this.fsync = opts.fsync !== false;
    this.delayMs = opts.saveIndexDelayMs ?? 2000;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 30_000;
    this.now = opts.now ?? (() => new Date());
  }

  static async open<J extends WriterIndex = WriterIndex>(storageRoot: string, opts: WriterOptions<J> = {}): Promise<StorageWriter<J>> {
    const p = await ensureStorageDirs(storageRoot);
    return new StorageWriter<J>(p.root, opts);
  }

  /** Operations queued or running. */
  get pending(): number {
    return this.ops.length + (this.running ? 1 : 0);
  }

  /**
   * Merges `patch` into the entry's metadata.json (created if missing). Patches to one key that
   * are waiting in the queue are coalesced into one write, applied in call order; a patch that
   * would make the entry invalid is rejected alone and the others still apply.
   */
  writeMetadata(key: string, patch: MetadataPatch): Promise<Metadata> {
    this.assertOpen();
    entryDir(this.root, key); // refuse a bad key now, in the caller's stack
    const done = deferred<Metadata>();
    const open = this.openMeta.get(key);
    if (open) {
      open.patches.push({ patch, done });
    } else {
      const op: Op<I> = { kind: 'metadata', key, patches: [{ patch, done }] };
      this.openMeta.set(key, op);
      this.enqueue(op);
    }
    return done.promise;
  }

  /**
   * Moves a worker's finished, verified temp file (by_key/<folder>/.tmp-* or tmp/*) to
   * by_key/<folder>/paper.pdf and records `pdf` in metadata.json, in that order: a crash in
   * between leaves a complete PDF that metadata does not vouch for yet, never the reverse.
   * `extra` patches (what the .bib says, the PDF's provenance) go into the same metadata write;
   * one of them that would make the entry invalid is dropped, the PDF is still recorded.
   */
  commitPdf(key: string, tempPath: string, pdf: PdfInfo, extra?: MetadataPatch[]): Promise<Metadata> {
    this.assertOpen();
    entryDir(this.root, key);
    if (!isWorkerTempPath(this.root, tempPath)) {
      return Promise.reject(new ScholarError('E_PATH_ESCAPE', `not a worker temp file inside storage: ${tempPath}`, { tempPath }));
    }
    const done = deferred<Metadata>();
    // Later patches must not jump ahead of this commit.
    this.openMeta.delete(key);
    this.enqueue({ kind: 'pdf', key, tempPath, pdf, extra, done });
    return done.promise;
  }

  /**
   * Writes by_key/<folder>/fulltext.txt, the text extracted from the PDF whose sha256 is
   * `record.sha256`, and gives it to the index. Refused (E_FULLTEXT_STALE) when metadata.json
   * no longer records that PDF: it was replaced or removed while the text was being extracted.
   */
  writeFulltext(key: string, record: FulltextRecord): Promise<void> {
    this.assertOpen();
    entryDir(this.root, key);
    const done = deferred<void>();
    this.enqueue({ kind: 'fulltext', key, record, done });
    return done.promise;
  }

  /** Deletes the entry's folder and its index row. Resolves false when there was nothing. */
  removeEntry(key: string): Promise<boolean> {
    this.assertOpen();
    entryDir(this.root, key);
    const done = deferred<boolean>();
    this.openMeta.delete(key);
    this.enqueue({ kind: 'remove', key, done });
    return done.promise;
  }

  /** Writes storage/jobs/<id>.json. Job state is a full snapshot, so queued writes of one id keep the newest. */
  writeJobState(state: JobState): Promise<void> {
    this.assertOpen();
    jobStatePath(this.root, state.id);
    const open = this.openJobs.get(state.id);
    if (open) {
      open.state = state;
      return open.done.promise;
    }
    const op: Extract<Op<I>, { kind: 'job' }> = { kind: 'job', id: state.id, state, done: deferred<void>() };
    this.openJobs.set(state.id, op);
    this.enqueue(op);
    return op.done.promise;
  }

  /** Persists the index to library.sqlite after the debounce delay; resolves once written. */
  saveIndex(): Promise<void> {
    if (!this.index) return Promise.resolve();
    const d = deferred<void>();
    this.saveWaiters.push(d);
    this.indexDirty = true;
    this.scheduleSave();
    return d.promise;
  }

  /**
   * Runs a change of the whole index (rebuild from the folders, re-scan after another process
   * wrote) as one operation of the queue, so it never interleaves with a metadata write.
   */
  indexTask<T>(run: (index: I) => Promise<T>): Promise<T> {
    this.assertOpen();
    if (!this.index) return Promise.reject(new ScholarError('E_NO_INDEX', 'this writer has no index'));
    const done = deferred<unknown>();
    this.enqueue({ kind: 'indexTask', run: run as (index: I) => Promise<unknown>, done });
    return done.promise as Promise<T>;
  }

  /** Resolves when everything queued before this call is applied, including a pending index save. */
  flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
      this.enqueueSave();
    }
    const done = deferred<void>();
    this.enqueue({ kind: 'barrier', done });
    return done.promise;
  }

  /** Drains the queue, saves the index and releases this process's locks. Later calls are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.locks.releaseAll();
  }

  private assertOpen(): void {
    if (this.closed) throw new ScholarError('E_WRITER_CLOSED', 'the storage writer is closed');
  }

  private enqueue(op: Op<I>): void {
    this.ops.push(op);
    void this.pump();
  }

  private scheduleSave(): void {
    if (this.saveTimer || this.saveQueued) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.enqueueSave();
    }, this.delayMs);
    // An idle extension host must be able to exit; close()/flush() save what is pending.
    this.saveTimer.unref();
  }

  private enqueueSave(): void {
    if (this.saveQueued) return;
    this.saveQueued = true;
    this.enqueue({ kind: 'saveIndex' });
  }

  private markIndexDirty(): void {
    this.indexDirty = true;
    this.scheduleSave();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let op = this.ops.shift(); op; op = this.ops.shift()) {
        if (op.kind === 'metadata' && this.openMeta.get(op.key) === op) this.openMeta.delete(op.key);
        if (op.kind === 'job' && this.openJobs.get(op.id) === op) this.openJobs.delete(op.id);
        await this.apply(op);
      }
    } finally {
      this.running = false;
    }
  }

  private async apply(op: Op<I>): Promise<void> {
    switch (op.kind) {
      case 'metadata': {
        try {
          const { meta, applied } = await this.withMetaLock(op.key, () => this.updateMetadata(op.key, op.patches.map((p) => p.patch)));
          op.patches.forEach((p, i) => (applied[i] === true ? p.done.resolve(meta) : p.done.reject(applied[i])));
          this.opts.onApplied?.({ kind: 'metadata', key: op.key, patches: op.patches.length });
        } catch (err) {
          for (const p of op.patches) p.done.reject(err);
        }
        return;
      }
      case 'pdf': {
        try {
          const meta = await this.withMetaLock(op.key, async () => {
            const st = await fsp.stat(op.tempPath);
            if (st.size !== op.pdf.size) {
              throw new ScholarError('E_PDF_SIZE', `temp file is ${st.size} bytes, pdf info says ${op.pdf.size}`, { key: op.key });
            }
            const dir = entryDir(this.root, op.key);
            await fsp.mkdir(dir, { recursive: true });
            await this.dropStaleFulltext(op.key, dir, op.pdf.sha256);
            await atomicMoveInto(op.tempPath, path.join(dir, PDF_FILE), { fsync: this.fsync });
            const r = await this.updateMetadata(op.key, [{ pdf: op.pdf }, ...(op.extra ?? [])]);
            if (r.applied[0] !== true) throw r.applied[0];
            return r.meta;
          });
          op.done.resolve(meta);
          this.opts.onApplied?.({ kind: 'pdf', key: op.key });
        } catch (err) {
          op.done.reject(err);
        }
        return;
      }
      case 'remove': {
        try {
          const existed = await this.withMetaLock(op.key, async () => {
            const dir = entryDir(this.root, op.key);
            const there = await fsp.stat(dir).then(
              () => true,
              () => false,
            );
            // Rename first so a crash mid-delete never leaves a half-entry that looks valid.
            if (there) {
              const trash = path.join(storagePaths(this.root).tmp, `${process.pid}-${HOST_TAG}-rm-${Date.now()}-${Math.random().toString(16).slice(2)}`);
              await fsp.rename(dir, trash);
              await fsp.rm(trash, { recursive: true, force: true });
            }
            if (this.index?.remove(op.key)) this.markIndexDirty();
            return there;
          });
          op.done.resolve(existed);
          this.opts.onApplied?.({ kind: 'remove', key: op.key });
        } catch (err) {
          op.done.reject(err);
        }
        return;
      }
      case 'fulltext': {
        try {
          await this.withMetaLock(op.key, async () => {
            const dir = entryDir(this.root, op.key);
            let meta: Metadata | undefined;
            try {
              meta = validateMetadata(JSON.parse(await fsp.readFile(path.join(dir, METADATA_FILE), 'utf8')));
            } catch {
              meta = undefined;
            }
            if (!meta?.pdf || meta.pdf.sha256 !== op.record.sha256) {
              throw new ScholarError('E_FULLTEXT_STALE', `${op.key}: the PDF changed while its text was extracted`, { key: op.key });
            }
            await atomicWriteFile(path.join(dir, FULLTEXT_FILE), formatFulltext(op.record), { fsync: this.fsync });
            this.index?.setFullText(op.key, op.record.text);
          });
          op.done.resolve();
          this.opts.onApplied?.({ kind: 'fulltext', key: op.key });
        } catch (err) {
          op.done.reject(err);
        }
        return;
      }
      case 'job': {
        try {
          const state = { ...op.state, version: JOB_STATE_VERSION, updatedAt: op.state.updatedAt ?? this.now().toISOString() };
          // The file is the job's only home: the index reads jobs from the folder (see index/library.ts).
          await atomicWriteFile(jobStatePath(this.root, op.id), `${JSON.stringify(state, null, 2)}\n`, { fsync: this.fsync });
          op.done.resolve();
          this.opts.onApplied?.({ kind: 'job', id: op.id });
        } catch (err) {
          op.done.reject(err);
        }
        return;
      }
      case 'saveIndex': {
        this.saveQueued = false;
        const waiters = this.saveWaiters;
        this.saveWaiters = [];
        if (!this.index || !this.indexDirty) {
          for (const w of waiters) w.resolve();
          return;
        }
        try {
          this.indexDirty = false;
          const bytes = this.index.exportBytes();
          await atomicWriteFile(storagePaths(this.root).index, bytes, { fsync: this.fsync });
          for (const w of waiters) w.resolve();
          this.opts.onApplied?.({ kind: 'saveIndex', bytes: bytes.byteLength });
        } catch (err) {
          this.indexDirty = true;
          for (const w of waiters) w.reject(err);
          if (!waiters.length) this.opts.onError?.(err);
        }
        return;
      }
      case 'indexTask': {
        try {
          const r = await op.run(this.index!);
          this.markIndexDirty();
          op.done.resolve(r);
          this.opts.onApplied?.({ kind: 'indexTask' });
        } catch (err) {
          op.done.reject(err);
        }
        return;
      }
      case 'barrier':
        op.done.resolve();
        this.opts.onApplied?.({ kind: 'barrier' });
        return;
    }
  }

  /** A text extracted from another PDF than `sha256` goes before that PDF moves in. */
  private async dropStaleFulltext(key: string, dir: string, sha256: string): Promise<void> {
    const file = path.join(dir, FULLTEXT_FILE);
    const fh = await fsp.open(file, 'r').catch(() => undefined);
    if (!fh) return;
    let head = '';
    try {
      const buf = Buffer.alloc(128);
      const { bytesRead } = await fh.read(buf, 0, 128, 0);
      head = buf.toString('utf8', 0, bytesRead);
    } finally {
      await fh.close();
    }
    if (fulltextSha(head) === sha256) return;
    await fsp.rm(file, { force: true });
    this.index?.setFullText(key, undefined);
  }

  /**
   * The metadata lock makes the read-modify-write atomic across processes. If this process
   * already holds it (nested use), the writer's serial queue is protection enough.
   */
  private async withMetaLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lock = await this.locks.acquire(key, { kind: 'meta', timeoutMs: this.lockTimeoutMs });
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  /** Read, merge each patch (rejecting only those that make the entry invalid), write, index. */
  private async updateMetadata(key: string, patches: MetadataPatch[]): Promise<{ meta: Metadata; applied: (true | unknown)[] }> {
    const dir = entryDir(this.root, key);
    const file = path.join(dir, METADATA_FILE);
    let current: Metadata;
    try {
      current = validateMetadata(JSON.parse(await fsp.readFile(file, 'utf8')), file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        // Never overwrite a file we cannot read: it may be a user's hand edit.
        throw err instanceof ScholarError ? err : new ScholarError('E_BAD_METADATA', `cannot read ${file}: ${(err as Error).message}`, { key }, { cause: err });
      }
      current = emptyMetadata(key, this.now().toISOString());
    }
    if (current.key !== key) {
      throw new ScholarError('E_KEY_COLLISION', `folder ${path.basename(dir)} holds ${JSON.stringify(current.key)}, not ${JSON.stringify(key)}`, { key });
    }
    const applied: (true | unknown)[] = [];
    for (const patch of patches) {
      try {
        current = validateMetadata(mergeMetadata(current, patch), `patch of ${key}`);
        applied.push(true);
      } catch (err) {
        applied.push(err);
      }
    }
    if (!applied.includes(true)) return { meta: current, applied };
    current = { ...current, updatedAt: this.now().toISOString() };
    await fsp.mkdir(dir, { recursive: true });
    await atomicWriteFile(file, `${JSON.stringify(current, null, 2)}\n`, { fsync: this.fsync });
    if (this.index) {
      const st = await fsp.stat(file).catch(() => undefined);
      this.index.upsert(current, st?.mtimeMs ?? null);
      this.markIndexDirty();
    }
    return { meta: current, applied };
  }
}
