/**
 * Text of a PDF through pdf.js, in a worker thread. One pool per process; requests queue and run
 * one at a time per worker (the machine running an editor has other things to do). A PDF that
 * makes pdf.js hang or crash costs its own request (timeout → the worker is replaced), never the
 * caller's thread and never the requests queued behind it.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ScholarError } from '../errors';
import type { TextRequest, TextResponse } from './textItems';

export interface PdfText {
  /** Pages the document has (not only those read). */
  pages: number;
  /** The text of the pages read: lines end with \n, pages are separated by \f\n. */
  text: string;
  /** Fewer pages or characters were read than the document has. */
  truncated: boolean;
  /** sha256 of the bytes pdf.js read. */
  sha256: string;
}

export interface PdfTextOptions {
  /** Read only the first pages (the identity check needs the first page or two). */
  maxPages?: number;
  /** Characters to keep (default 2,000,000: a long thesis; the rest of a larger file is dropped). */
  maxChars?: number;
  signal?: AbortSignal;
}

export interface PdfTextPoolOptions {
  /** The bundled worker script (default: pdfTextWorker.js beside this bundle). */
  workerPath?: string;
  /** Worker threads (default 1). */
  workers?: number;
  /** A request taking longer is abandoned and its worker replaced (default 60 s). */
  timeoutMs?: number;
  /** An idle worker is stopped after this long, so an idle process holds no thread (default 30 s). */
  idleMs?: number;
}

export const DEFAULT_MAX_CHARS = 2_000_000;

interface Job {
  req: TextRequest;
  resolve(r: PdfText): void;
  reject(e: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  timer?: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
}

export function defaultWorkerPath(): string {
  return path.join(__dirname, 'pdfTextWorker.js');
}

export class PdfTextPool {
  private readonly queue: Job[] = [];
  private readonly slots = new Set<Slot>();
  private nextId = 1;
  private closed = false;
  private readonly workerPath: string;
  private readonly size: number;
  private readonly timeoutMs: number;
  private readonly idleMs: number;
  /** Requests served, and workers replaced after a crash or timeout (for reports and tests). */
  readonly stats = { done: 0, failed: 0, restarts: 0 };

  constructor(opts: PdfTextPoolOptions = {}) {
    this.workerPath = opts.workerPath ?? defaultWorkerPath();
    this.size = Math.max(1, opts.workers ?? 1);
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.idleMs = opts.idleMs ?? 30_000;
  }

  /** The text of the PDF at `file`. Fails with E_PDF_TEXT when pdf.js cannot read it. */
  extract(file: string, opts: PdfTextOptions = {}): Promise<PdfText> {
    if (this.closed) return Promise.reject(new ScholarError('E_PDF_TEXT', 'the PDF text pool is closed'));
    opts.signal?.throwIfAborted();
    return new Promise<PdfText>((resolve, reject) => {
      const job: Job = {
        req: { id: this.nextId++, path: path.resolve(file), maxPages: opts.maxPages, maxChars: opts.maxChars ?? DEFAULT_MAX_CHARS },
        resolve,
        reject,
        signal: opts.signal,
      };
      if (opts.signal) {
        job.onAbort = () => this.abort(job);
        opts.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stops the workers; queued requests fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) this.settle(j, new ScholarError('E_PDF_TEXT', 'the PDF text pool was closed'));
    await Promise.all(
      [...this.slots].map((s) => {
        if (s.job) this.settle(s.job, new ScholarError('E_PDF_TEXT', 'the PDF text pool was closed'));
        return this.stop(s);
      }),
    );
  }

  private pump(): void {
    while (this.queue.length) {
      let slot = [...this.slots].find((s) => !s.job);
      if (!slot) {
        if (this.slots.size >= this.size) return;
        try {
          slot = this.spawn();
        } catch (err) {
          for (const j of this.queue.splice(0)) this.settle(j, err);
          return;
        }
      }
      const job = this.queue.shift()!;
      slot.job = job;
      clearTimeout(slot.idle);
      slot.worker.ref();
      slot.timer = setTimeout(() => this.fail(slot, new ScholarError('E_PDF_TEXT', `pdf.js took longer than ${this.timeoutMs} ms`, { path: job.req.path })), this.timeoutMs);
      slot.worker.postMessage(job.req);
    }
  }

  private spawn(): Slot {
    if (!existsSync(this.workerPath)) throw new ScholarError('E_PDF_TEXT', `the PDF text worker is missing: ${this.workerPath}`);
    // stdout/stderr kept apart: pdf.js prints warnings about the canvas polyfills it does not need for text.
    const worker = new Worker(this.workerPath, { resourceLimits: { maxOldGenerationSizeMb: 512 }, stdout: true, stderr: true });
    worker.stdout.resume();
    worker.stderr.resume();
    const slot: Slot = { worker };
    worker.on('message', (r: TextResponse) => {
      const job = slot.job;
      if (!job || job.req.id !== r.id) return;
      clearTimeout(slot.timer);
      slot.job = undefined;
      if (r.ok) {
        this.stats.done++;
        this.settle(job, undefined, { pages: r.pages, text: r.text, truncated: r.truncated, sha256: r.sha256 });
      } else {
        this.stats.failed++;
        this.settle(job, new ScholarError('E_PDF_TEXT', `pdf.js could not read the PDF: ${r.message}`, { path: job.req.path }));
      }
      this.idleOrNext(slot);
    });
    worker.on('error', (err) => this.fail(slot, new ScholarError('E_PDF_TEXT', `the PDF text worker failed: ${err.message}`, {}, { cause: err })));
    worker.on('exit', () => {
      if (this.slots.has(slot)) this.fail(slot, new ScholarError('E_PDF_TEXT', 'the PDF text worker exited'));
    });
    this.slots.add(slot);
    return slot;
  }

  private idleOrNext(slot: Slot): void {
    if (this.queue.length) return this.pump();
    // Nothing to do: let the process exit, and give the thread back after a while.
    slot.worker.unref();
    slot.idle = setTimeout(() => void this.stop(slot), this.idleMs);
    slot.idle.unref();
  }

  /** The worker's current request fails; the worker is replaced (it may be stuck or broken). */
  private fail(slot: Slot, err: unknown): void {
    if (!this.slots.has(slot)) return;
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      this.stats.failed++;
      this.settle(job, err);
    }
    this.stats.restarts++;
    void this.stop(slot);
    if (!this.closed) this.pump();
  }

  private abort(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.settle(job, job.signal!.reason);
      return;
    }
    // Running: the worker cannot be interrupted mid-page, so it is replaced.
    const slot = [...this.slots].find((s) => s.job === job);
    if (slot) {
      slot.job = undefined;
      this.settle(job, job.signal!.reason);
      void this.stop(slot);
      this.pump();
    }
  }

  private settle(job: Job, err: unknown, value?: PdfText): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    if (err !== undefined) job.reject(err);
    else job.resolve(value!);
  }

  private async stop(slot: Slot): Promise<void> {
    if (!this.slots.delete(slot)) return;
    clearTimeout(slot.timer);
    clearTimeout(slot.idle);
    await slot.worker.terminate();
  }
}

let shared: PdfTextPool | undefined;

/** The process's pool (the fetch job, attach, import and the CLI share it). */
export function sharedPdfTextPool(): PdfTextPool {
  if (!shared || shared.isClosed) shared = new PdfTextPool();
  return shared;
}

/** Replaces the shared pool (tests: a worker script in another place; the host: its dist/ folder). */
export function setSharedPdfTextPool(pool: PdfTextPool | undefined): void {
  shared = pool;
}
