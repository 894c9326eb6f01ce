/**
 * Micro-batching for a stage: the stage's workers each ask for one key; the batcher collects the
 * keys asked within `maxWaitMs` (or until `size` are waiting), answers them with one request, and
 * hands each worker its own answer. A failed batch is split in halves down to single keys, so one
 * bad key fails only its own item. Cancel stays per item: a worker whose signal aborts stops
 * waiting at once; backpressure is the stage's (a worker waits for its answer like for any request).
 */
import { isAbortError, isServiceDown } from '../errors';

export interface BatchOptions {
  /** Most keys per request (the service's limit, or less). */
  size: number;
  /** How long the first key waits for company before its batch leaves. */
  maxWaitMs: number;
}

interface Waiter<V> {
  resolve(v: V | undefined): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
}

export class Batcher<K, V> {
  private pending = new Map<K, Waiter<V>[]>();
  private timer: NodeJS.Timeout | undefined;
  /** Requests sent (batches and the halves of failed ones). */
  requests = 0;

  constructor(
    private readonly opts: BatchOptions & {
      /** Answers many keys at once; a key missing from the map has no answer (not an error). */
      run(keys: K[], signal: AbortSignal | undefined): Promise<Map<K, V>>;
    },
  ) {
    if (!(opts.size >= 1)) throw new RangeError('batch size must be at least 1');
  }

  get(key: K, signal?: AbortSignal): Promise<V | undefined> {
    signal?.throwIfAborted();
    return new Promise<V | undefined>((resolve, reject) => {
      const w: Waiter<V> = { resolve, reject, signal };
      const onAbort = () => {
        const list = this.pending.get(key);
        if (list) {
          const i = list.indexOf(w);
          if (i >= 0) list.splice(i, 1);
          if (!list.length) this.pending.delete(key);
        }
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      w.resolve = (v) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      w.reject = (e) => {
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      };
      const list = this.pending.get(key);
      if (list) list.push(w);
      else this.pending.set(key, [w]);
      if (this.pending.size >= this.opts.size) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.maxWaitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.size) {
      const batch = new Map<K, Waiter<V>[]>();
      for (const [k, ws] of this.pending) {
        if (batch.size >= this.opts.size) break;
        batch.set(k, ws);
      }
      for (const k of batch.keys()) this.pending.delete(k);
      void this.send(batch);
      // What is left (more than one batch's worth) goes now too: it has waited as long.
    }
  }

  private async send(batch: Map<K, Waiter<V>[]>): Promise<void> {
    const keys = [...batch.keys()];
    if (!keys.length) return;
    // The request follows the first waiter still waiting: cancelling every item cancels it.
    const signal = [...batch.values()].flat().find((w) => !w.signal?.aborted)?.signal;
    this.requests++;
    try {
      const answers = await this.opts.run(keys, signal);
      for (const [k, ws] of batch) for (const w of ws) w.resolve(answers.get(k));
    } catch (err) {
      // A cancel, an unreachable service or a single key: the answer is the error itself.
      if (keys.length === 1 || isAbortError(err) || isServiceDown(err)) {
        for (const ws of batch.values()) for (const w of ws) w.reject(err);
        return;
      }
      const half = Math.ceil(keys.length / 2);
      const entries = [...batch.entries()];
      await Promise.all([this.send(new Map(entries.slice(0, half))), this.send(new Map(entries.slice(half)))]);
    }
  }
}
