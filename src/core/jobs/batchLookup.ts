import type { WorkRecord } from '../sources/types';
import { Batcher, type BatchOptions } from '../pipeline/batcher';

/**
 * One service's batch lookups for a job (fetch: Crossref, OpenAlex, Semantic Scholar; resolve:
 * Crossref, arXiv): the answers to the keys asked up front (all leave at once, in batches, through
 * the service's gate), and a micro-batcher for keys found later. An answer is
 * handed out once and then forgotten, so a 5,000-entry job does not hold 5,000 records.
 */
export class BatchLookup<V = WorkRecord> {
  private readonly early = new Map<string, Promise<V | undefined>>();
  private readonly batcher: Batcher<string, V>;

  constructor(
    opts: BatchOptions & { run(keys: string[], signal: AbortSignal | undefined): Promise<Map<string, V>> },
    private readonly batchable: (key: string) => boolean,
  ) {
    this.batcher = new Batcher(opts);
  }

  prime(keys: Iterable<string>, signal: AbortSignal): void {
    for (const k of keys) {
      if (this.early.has(k) || !this.batchable(k) || signal.aborted) continue;
      const p = this.batcher.get(k, signal);
      // An entry that never asks (already stored, failed earlier) must not leave an unhandled rejection.
      p.catch(() => undefined);
      this.early.set(k, p);
    }
  }

  /** The work for `key`; undefined when the service does not know it. `single` answers keys that cannot be batched. */
  async get(key: string, signal: AbortSignal, single: () => Promise<V | null>): Promise<V | undefined> {
    const p = this.early.get(key);
    if (p) {
      this.early.delete(key);
      return p;
    }
    if (!this.batchable(key)) return (await single()) ?? undefined;
    return this.batcher.get(key, signal);
  }
}
