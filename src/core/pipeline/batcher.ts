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
  private readonly watched = new Map<AbortSignal, { callbacks: Set<() => void>; listener: () => void }>();
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
      const unwatch = signal ? this.watch(signal, onAbort) : () => undefined;
      w.resolve = (v) => {
        unwatch();
        resolve(v);
      };
      w.reject = (e) => {
        unwatch();
        reject(e);
      };
      const list = this.pending.get(key);
      if (list) list.push(w);
      else this.pending.set(key, [w]);
      if (this.pending.size >= this.opts.size) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.maxWaitMs);
    });
  }

  /**
   * One abort listener per signal, however many keys wait on it: a job primes its 5,000 DOIs with
   * its one signal, and an AbortSignal's listener list is scanned on every add and remove, which
   * made priming quadratic (1.5 s of a 5,000-entry fetch's start went to addEventListener alone).
   */
  private watch(signal: AbortSignal, onAbort: () => void): () => void {
    let w = this.watched.get(signal);
    if (!w) {
      const callbacks = new Set<() => void>();
      const listener = () => {
        this.watched.delete(signal);
        for (const cb of callbacks) cb();
      };
      w = { callbacks, listener };
      this.watched.set(signal, w);
      signal.addEventListener('abort', listener, { once: true });
    }
    const watched = w;
    watched.callbacks.add(onAbort);
    return () => {
      watched.callbacks.delete(onAbort);
      if (watched.callbacks.size === 0 && this.watched.get(signal) === watched) {
        this.watched.delete(signal);
        signal.removeEventListener('abort', watched.listener);
      }
    };
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
