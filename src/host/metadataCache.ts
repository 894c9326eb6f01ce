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
  private cachedFor: Library['index'] | undefined;
  private readonly stale = new Set<string>();

  constructor(private readonly shownIndex: () => Library['index'] | undefined) {}

  get(key: string): Metadata | undefined {
    const index = this.shownIndex();
    if (!index) {
      this.cache = undefined;
      return undefined;
    }
    if (!this.cache || this.cachedFor !== index) {
      this.cache = index.allMetadata();
      this.cachedFor = index;
      this.stale.clear();
    }
    if (this.stale.delete(key)) {
      const m = index.get(key);
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
