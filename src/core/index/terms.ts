/** Words as the search indexes see them, and the dictionary that numbers them: shared by the metadata search (textSearch.ts) and the full-text column (fullText.ts). */

/** Lower case, diacritics removed (NFKD), the same for documents and queries. */
export function normText(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().trim();
}

const ASCII = /^[\x00-\x7f]*$/;
/** Words as the index sees them: runs of letters and digits after normText. */
export function tokenize(s: string | null | undefined): string[] {
  if (!s) return [];
  if (ASCII.test(s)) return s.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return normText(s).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Strings numbered in order of arrival, with prefix lookup over a lazily sorted view. */
export class Dictionary {
  private ids = new Map<string, number>();
  readonly strings: string[] = [];
  private sorted: number[] = [];

  get size(): number {
    return this.strings.length;
  }

  get(s: string): number | undefined {
    return this.ids.get(s);
  }

  /** The id of `s`, numbering it when new. */
  intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  /** Brings the sorted view up to date now (at the end of a load), so that no query pays for it. */
  sortView(): void {
    this.withPrefix('\uffff');
  }

  /** Ids of the strings starting with `prefix`. New strings are merged into the sorted view first. */
  withPrefix(prefix: string): number[] {
    const str = this.strings;
    if (this.sorted.length < str.length) {
      const cmp = (a: number, b: number) => (str[a]! < str[b]! ? -1 : str[a]! > str[b]! ? 1 : 0);
      const fresh: number[] = [];
      for (let i = this.sorted.length; i < str.length; i++) fresh.push(i);
      fresh.sort(cmp);
      const old = this.sorted;
      const merged: number[] = new Array(old.length + fresh.length);
      let i = 0;
      let j = 0;
      let o = 0;
      while (i < old.length && j < fresh.length) merged[o++] = cmp(old[i]!, fresh[j]!) <= 0 ? old[i++]! : fresh[j++]!;
      while (i < old.length) merged[o++] = old[i++]!;
      while (j < fresh.length) merged[o++] = fresh[j++]!;
      this.sorted = merged;
    }
    const sorted = this.sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (str[sorted[mid]!]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < sorted.length && str[sorted[i]!]!.startsWith(prefix); i++) out.push(sorted[i]!);
    return out;
  }
}
