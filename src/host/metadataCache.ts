import type { Library } from '../core/jobs/library';
import type { Metadata } from '../core/storage/metadata';

/**
 * Metadata for the views, from one bulk read of the shown index: the tree asks for every entry on
 * each refresh, and 50,000 single-row queries would block the extension host. The cache is filled
 * with every entry at once, so a key missing from it is known to be absent (a .bib of 50,000
 * entries mostly outside the library costs no query per entry). Keys a job touches are invalidated
 * one by one and read again on next use; the whole cache goes when the index changes under it (job
 * end, re-scan, rebuild, reopen) or another index is shown.
 */
export class MetadataCache {
  private cache: Map<string, Metadata> | undefined;
  private cachedFor: Library['index'][] = [];
  private readonly stale = new Set<string>();

  /**
   * `indexes`: the shown index first, then the other open libraries' (a multi-root workspace has
   * one per folder); a key found in an earlier one wins.
   */
  constructor(private readonly indexes: () => Library['index'][]) {}

  get(key: string): Metadata | undefined {
    const indexes = this.indexes();
    if (!indexes.length) {
      this.cache = undefined;
      return undefined;
    }
    if (!this.cache || indexes.length !== this.cachedFor.length || indexes.some((ix, i) => ix !== this.cachedFor[i])) {
      const all = new Map<string, Metadata>();
      for (let i = indexes.length - 1; i >= 0; i--) for (const [k, m] of indexes[i]!.allMetadata()) all.set(k, m);
      this.cache = all;
      this.cachedFor = indexes;
      this.stale.clear();
    }
    if (this.stale.delete(key)) {
      let m: Metadata | undefined;
      for (const ix of indexes) if ((m = ix.get(key))) break;
      if (m) this.cache.set(key, m);
      else this.cache.delete(key);
      return m;
    }
    return this.cache.get(key);
  }

  /** Forget cached metadata (all of it, or one key's). */
  invalidate(key?: string): void {
    if (key === undefined) this.cache = undefined;
    else if (this.cache) {
      this.cache.delete(key);
      this.stale.add(key);
    }
  }
}
