/**
 * The concurrent pipeline: a worker pool per stage, bounded queues between stages, and a global cap
 * on items in flight. Workers are pure async functions: they never touch shared state; everything
 * they produce leaves as a typed message to one consumer (the result processor / single writer).
 */
import { setMaxListeners } from 'node:events';
import { BoundedQueue, Semaphore } from './queue';
import { errorCode, errorMessage, isAbortError } from '../errors';

export interface StageContext {
  signal: AbortSignal;
  /** Sends a message to the result processor (progress, partial results). */
  emit(msg: PipelineMessage): void;
}

export type StageResult<T> =
  | { kind: 'next'; item: T }
  /** The item is finished early (e.g. already has a verified PDF). */
  | { kind: 'done'; item: T; outcome: string }
  | { kind: 'fail'; item: T; reason: string; permanent: boolean; message: string };

export interface StageDef<T> {
  name: string;
  concurrency: number;
  run(item: T, ctx: StageContext): Promise<StageResult<T>>;
}

export type PipelineMessage =
  | { type: 'item_started'; key: string; stage: string }
  | { type: 'item_done'; key: string; stage: string; outcome: string }
  | { type: 'item_failed'; key: string; stage: string; reason: string; permanent: boolean; message: string }
  | { type: 'result'; key: string; stage: string; data: unknown }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string };

export interface StageStats {
  name: string;
  concurrency: number;
  queued: number;
  active: number;
  done: number;
  failed: number;
  failedByReason: Record<string, number>;
  /** Items finished by this stage in the last minute. */
  throughputPerMin: number;
}

export interface PipelineStats {
  total: number;
  done: number;
  failed: number;
  inFlight: number;
  paused: boolean;
  cancelled: boolean;
  startedAt: number;
  elapsedMs: number;
  /** Estimated time to completion from the recent rate of finished items. */
  etaMs: number | null;
  stages: StageStats[];
  outcomes: Record<string, number>;
}

export interface PipelineOptions<T> {
  stages: StageDef<T>[];
  keyOf(item: T): string;
  /** Global cap on items admitted at once (across all stages). */
  maxInFlight: number;
  /** Capacity of each queue between stages. */
  queueCapacity?: number;
  onMessage(msg: PipelineMessage): void;
  signal?: AbortSignal;
  /** Wall clock, replaceable for tests of rates. */
  now?: () => number;
}

interface StageState<T> {
  def: StageDef<T>;
  input: BoundedQueue<T>;
  active: number;
  done: number;
  failed: number;
  failedByReason: Record<string, number>;
  finishes: number[];
}

export class Pipeline<T> {
  private readonly controller = new AbortController();
  private readonly stages: StageState<T>[];
  private readonly admit: Semaphore;
  private readonly now: () => number;
  private pauseGate: Promise<void> | null = null;
  private releasePause: (() => void) | null = null;
  private total = 0;
  private doneCount = 0;
  private failedCount = 0;
  private inFlight = 0;
  private startedAt = 0;
  private readonly itemFinishes: number[] = [];
  private readonly outcomes: Record<string, number> = {};
  private finishedResolve!: () => void;
  private readonly finished = new Promise<void>((r) => (this.finishedResolve = r));

  constructor(private readonly opts: PipelineOptions<T>) {
    if (opts.stages.length === 0) throw new RangeError('a pipeline needs at least one stage');
    this.now = opts.now ?? Date.now;
    // Every worker and every request in flight listens to this one signal.
    setMaxListeners(0, this.controller.signal);
    const cap = opts.queueCapacity ?? Math.max(2, opts.maxInFlight);
    this.stages = opts.stages.map((def) => ({
      def,
      input: new BoundedQueue<T>(cap),
      active: 0,
      done: 0,
      failed: 0,
      failedByReason: {},
      finishes: [],
    }));
    this.admit = new Semaphore(Math.max(1, opts.maxInFlight));
    if (opts.signal) {
      if (opts.signal.aborted) this.cancel();
      else opts.signal.addEventListener('abort', () => this.cancel(), { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Runs every item through the stages; resolves when all are done, failed or cancelled. */
  async run(items: Iterable<T>): Promise<PipelineStats> {
    const list = [...items];
    this.total = list.length;
    this.startedAt = this.now();
    const workers: Promise<void>[] = [];
    this.stages.forEach((stage, index) => {
      for (let w = 0; w < Math.max(1, stage.def.concurrency); w++) workers.push(this.worker(stage, index));
    });
    const feeder = this.feed(list);
    if (this.total === 0) this.finishedResolve();
    await this.finished;
    for (const s of this.stages) s.input.close();
    this.releasePause?.();
    await Promise.all([feeder, ...workers]);
    return this.stats();
  }

  pause(): void {
    if (this.pauseGate) return;
    this.pauseGate = new Promise((r) => (this.releasePause = r));
  }

  resume(): void {
    const release = this.releasePause;
    this.pauseGate = null;
    this.releasePause = null;
    release?.();
  }

  /** Cancels: queued items are dropped (reported as cancelled), in-flight work sees the abort. */
  cancel(): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(Object.assign(new Error('cancelled'), { name: 'AbortError', code: 'E_ABORTED' }));
    this.resume();
    for (const s of this.stages) {
      for (const item of s.input.drain()) this.finishItem(item, s.def.name, { cancelled: true });
    }
  }

  stats(): PipelineStats {
    const now = this.now();
    const recent = (ts: number[]) => {
      while (ts.length && ts[0] < now - 60_000) ts.shift();
      return ts.length;
    };
    const elapsed = this.startedAt ? now - this.startedAt : 0;
    const finished = this.doneCount + this.failedCount;
    const remaining = this.total - finished;
    let etaMs: number | null = null;
    if (remaining === 0) etaMs = 0;
    else if (finished > 0 && elapsed > 0) {
      const windowMs = Math.min(60_000, elapsed);
      const rate = recent(this.itemFinishes) / windowMs || finished / elapsed;
      etaMs = rate > 0 ? Math.round(remaining / rate) : null;
    }
    return {
      total: this.total,
      done: this.doneCount,
      failed: this.failedCount,
      inFlight: this.inFlight,
      paused: this.pauseGate !== null,
      cancelled: this.controller.signal.aborted,
      startedAt: this.startedAt,
      elapsedMs: elapsed,
      etaMs,
      outcomes: { ...this.outcomes },
      stages: this.stages.map((s) => ({
        name: s.def.name,
        concurrency: s.def.concurrency,
        queued: s.input.size,
        active: s.active,
        done: s.done,
        failed: s.failed,
        failedByReason: { ...s.failedByReason },
        throughputPerMin: recent(s.finishes),
      })),
    };
  }

  private async feed(items: T[]): Promise<void> {
    const signal = this.controller.signal;
    for (let i = 0; i < items.length; i++) {
      let admitted = false;
      try {
        await this.waitIfPaused();
        await this.admit.acquire(signal);
        admitted = true;
        this.inFlight++;
        await this.stages[0].input.push(items[i], signal);
      } catch (err) {
        if (!signal.aborted) throw err;
        // Everything not yet in a queue is reported as cancelled, so the counts add up.
        this.finishItem(items[i], this.stages[0].def.name, { cancelled: true, admitted });
        for (const rest of items.slice(i + 1)) this.finishItem(rest, this.stages[0].def.name, { cancelled: true, admitted: false });
        return;
      }
    }
  }

  private async waitIfPaused(): Promise<void> {
    while (this.pauseGate) await this.pauseGate;
  }

  private async worker(stage: StageState<T>, index: number): Promise<void> {
    const signal = this.controller.signal;
    const emit = (msg: PipelineMessage) => this.send(msg);
    for (;;) {
      await this.waitIfPaused();
      const item = await stage.input.pop();
      if (item === undefined) return;
      const key = this.opts.keyOf(item);
      if (signal.aborted) {
        this.finishItem(item, stage.def.name, { cancelled: true });
        continue;
      }
      stage.active++;
      this.send({ type: 'item_started', key, stage: stage.def.name });
      let result: StageResult<T>;
      try {
        result = await stage.def.run(item, { signal, emit });
      } catch (err) {
        result = isAbortError(err) || signal.aborted
          ? { kind: 'fail', item, reason: 'E_ABORTED', permanent: false, message: 'cancelled' }
          : { kind: 'fail', item, reason: errorCode(err), permanent: false, message: errorMessage(err) };
      } finally {
        stage.active--;
      }
      stage.finishes.push(this.now());
      if (result.kind === 'next' && index + 1 < this.stages.length) {
        stage.done++;
        try {
          await this.stages[index + 1].input.push(result.item, signal);
        } catch {
          this.finishItem(result.item, stage.def.name, { cancelled: true });
        }
      } else if (result.kind === 'fail') {
        if (result.reason === 'E_ABORTED') {
          this.finishItem(result.item, stage.def.name, { cancelled: true });
          continue;
        }
        stage.failed++;
        stage.failedByReason[result.reason] = (stage.failedByReason[result.reason] ?? 0) + 1;
        this.send({ type: 'item_failed', key, stage: stage.def.name, reason: result.reason, permanent: result.permanent, message: result.message });
        this.finishItem(result.item, stage.def.name, { failed: true });
      } else {
        stage.done++;
        const outcome = result.kind === 'done' ? result.outcome : 'done';
        this.send({ type: 'item_done', key, stage: stage.def.name, outcome });
        this.finishItem(result.item, stage.def.name, { outcome });
      }
    }
  }

  private finishItem(item: T, stage: string, how: { outcome?: string; failed?: boolean; cancelled?: boolean; admitted?: boolean }): void {
    if (how.cancelled) {
      this.failedCount++;
      this.outcomes.cancelled = (this.outcomes.cancelled ?? 0) + 1;
      this.send({ type: 'item_failed', key: this.opts.keyOf(item), stage, reason: 'E_ABORTED', permanent: false, message: 'cancelled' });
    } else if (how.failed) {
      this.failedCount++;
      this.outcomes.failed = (this.outcomes.failed ?? 0) + 1;
    } else {
      this.doneCount++;
      const o = how.outcome ?? 'done';
      this.outcomes[o] = (this.outcomes[o] ?? 0) + 1;
    }
    this.itemFinishes.push(this.now());
    if (how.admitted !== false) {
      this.inFlight--;
      this.admit.release();
    }
    if (this.doneCount + this.failedCount >= this.total) this.finishedResolve();
  }

  private send(msg: PipelineMessage): void {
    try {
      this.opts.onMessage(msg);
    } catch {
      // A failing consumer must not kill a worker; the consumer logs its own errors.
    }
  }
}
