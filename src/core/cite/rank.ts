/**
 * Ranking of citation candidates for completion and *Insert Citation…*: the keys of a document's
 * bibliography and of the library, matched fuzzily over key, title, authors, year and venue.
 * Candidates are normalised once when the ranker is built, so a keystroke costs one pass of
 * string comparisons over prepared arrays (10,000 entries in a few milliseconds).
 */
import { parseQuery } from '../index/library';
import { normText, tokenize, type Filter, type Query } from '../index/textSearch';

export interface CiteCandidate {
  key: string;
  title?: string;
  /** Display names, first author first ("Steven Weinberg" or "Weinberg, Steven"). */
  authors: string[];
  /** Family names, for `author:` and for matching (derived from `authors` when absent). */
  families?: string[];
  year?: number;
  venue?: string;
  type?: string;
  doi?: string;
  hasPdf?: boolean;
  hasAbstract?: boolean;
  /** Notice types: retraction, correction, expression_of_concern, … */
  notices?: string[];
  tags?: string[];
  /** DOI outcome and PDF verification, for `status:`. */
  statuses?: string[];
  /** Defined in the document's bibliography (else only in the library). */
  inBibliography: boolean;
  inLibrary: boolean;
}

export interface Ranked {
  candidate: CiteCandidate;
  score: number;
}

interface Prepared {
  c: CiteCandidate;
  key: string;
  families: string[];
  titleWords: string[];
  venueWords: string[];
  year: string;
  titleNorm: string;
  /** Every searchable word in one string: a token found nowhere in it matches no field. */
  hay: string;
  /** ' w1 w2 …': a word prefix is one native search for ' ' + prefix. */
  titleHay: string;
  venueHay: string;
  familyHay: string;
}

/** Family name of "Weinberg, Steven" or "Steven Weinberg". */
export function familyOf(name: string): string {
  const n = name.trim();
  if (n.includes(',')) return n.slice(0, n.indexOf(',')).trim();
  const parts = n.split(/\s+/);
  return parts[parts.length - 1] ?? n;
}

/** Characters of `q` appear in `s` in order; a score that favours adjacent runs, or 0. */
function subsequence(s: string, q: string): number {
  let j = 0;
  let run = 0;
  let score = 0;
  for (let i = 0; i < s.length && j < q.length; i++) {
    if (s.charCodeAt(i) === q.charCodeAt(j)) {
      j++;
      run++;
      score += run;
    } else run = 0;
  }
  return j === q.length ? score : 0;
}

function wordPrefix(words: string[], t: string): boolean {
  for (const w of words) if (w.startsWith(t)) return true;
  return false;
}

/** Splits "einstein2005" into "einstein" and "2005" as well as on punctuation. */
function queryTokens(s: string): string[] {
  return tokenize(s).flatMap((t) => t.match(/[a-z\p{L}]+|[0-9]+/gu) ?? [t]);
}

export class CiteRanker {
  private readonly items: Prepared[];
  private last: { raw: string; matched: Int32Array } | undefined;
  /** Results of the shortest fragments (the costliest: nearly every entry matches), per ranker. */
  private readonly short = new Map<string, { top: Ranked[]; matched: Int32Array }>();

  constructor(candidates: readonly CiteCandidate[]) {
    this.items = candidates.map((c) => {
      const families = (c.families ?? c.authors.map(familyOf)).map(normText);
      const titleWords = tokenize(c.title);
      return {
        c,
        key: c.key.toLowerCase(),
        families,
        titleWords,
        venueWords: tokenize(c.venue),
        year: c.year ? String(c.year) : '',
        titleNorm: titleWords.join(' '),
        hay: [c.key.toLowerCase(), ...families, ...titleWords, ...tokenize(c.venue), c.year ? String(c.year) : ''].join(' '),
        titleHay: ' ' + titleWords.join(' '),
        venueHay: ' ' + tokenize(c.venue).join(' '),
        familyHay: ' ' + families.join(' '),
      };
    });
  }

  get size(): number {
    return this.items.length;
  }

  /**
   * `text` is what is typed: a key fragment (completion) or a query of the index's language
   * (`weinberg year:1960..1970 has:pdf "model of leptons"`). Throws E_BAD_QUERY on a bad filter.
   */
  rank(text: string, limit = 100, opts: { query?: boolean } = {}): Ranked[] {
    const raw = text.trim();
    // Completion passes a key fragment (keys may hold ':'), Insert Citation a query.
    const q: Query = opts.query && /[:"]/.test(raw) ? parseQuery(raw) : { text: [], filters: [] };
    const whole = raw.toLowerCase();
    // A plain fragment is matched as a key as a whole and, split into words, over the other fields.
    const tokens = q.filters.length || q.text.some((t) => t.kind === 'phrase') ? q.text.flatMap((t) => (t.kind === 'phrase' ? [] : [t.token])) : queryTokens(raw);
    const phrases = q.text.flatMap((t) => (t.kind === 'phrase' ? [t.tokens.join(' ')] : []));
    const plainKey = !q.filters.length && !phrases.length ? whole : '';
    const filters = q.filters.map((f) => this.predicate(f));
    // The best `limit` only, kept sorted while scanning: an empty or one-letter prefix matches
    // nearly everything, and sorting 10,000 results per keystroke would cost more than ranking.
    const top: Ranked[] = [];
    const better = (a: Ranked, b: Ranked): number =>
      b.score - a.score || (b.candidate.year ?? 0) - (a.candidate.year ?? 0) || (a.candidate.key < b.candidate.key ? -1 : a.candidate.key > b.candidate.key ? 1 : 0);
    // Typing extends the fragment, and a longer fragment matches a subset of what a shorter one
    // matched (every test below is monotone): only the previous matches need to be looked at again.
    const cacheable = !opts.query && raw.length <= 2;
    const hit = cacheable ? this.short.get(`${limit}\n${raw}`) : undefined;
    if (hit) {
      this.last = { raw, matched: hit.matched };
      return hit.top.slice();
    }
    const reuse = !opts.query && !!raw && !!this.last && this.last.raw.length > 0 && raw.startsWith(this.last.raw);
    const pool: ArrayLike<number> | undefined = reuse ? this.last!.matched : undefined;
    const count = pool ? pool.length : this.items.length;
    const matched: number[] = [];
    for (let n = 0; n < count; n++) {
      const idx = pool ? pool[n]! : n;
      const p = this.items[idx]!;
      if (filters.length && !filters.every((f) => f(p))) continue;
      let ok = true;
      for (const ph of phrases) if (!p.titleNorm.includes(ph)) ok = false;
      if (!ok) continue;
      let keyScore = 0;
      if (plainKey) {
        if (p.key === plainKey) keyScore = 200;
        else if (p.key.startsWith(plainKey)) keyScore = 120 + 20 * (plainKey.length / p.key.length);
        else if (p.key.includes(plainKey)) keyScore = 70;
        else {
          const sub = subsequence(p.key, plainKey);
          if (sub) keyScore = 10 + (30 * sub) / ((plainKey.length * (plainKey.length + 1)) / 2);
        }
      }
      let fields = 0;
      for (const t of tokens) {
        if (!p.hay.includes(t)) {
          fields = -1;
          break;
        }
        let best = 0;
        if (p.key.includes(t)) best = 30;
        if (p.families.length && p.families[0]!.startsWith(t)) best = 45;
        else if (p.familyHay.includes(' ' + t)) best = Math.max(best, 35);
        if (p.year && p.year.startsWith(t)) best = Math.max(best, p.year === t ? 35 : 15);
        if (best < 25 && p.titleHay.includes(' ' + t)) best = 25;
        if (!best && p.venueHay.includes(' ' + t)) best = 10;
        if (!best) {
          fields = -1;
          break;
        }
        fields += best;
      }
      let score = Math.max(keyScore, fields);
      if (!raw || (!tokens.length && (filters.length || phrases.length))) score = 1;
      if (score <= 0) continue;
      // The document's own bibliography comes before the rest of the library.
      if (p.c.inBibliography) score += 25;
      matched.push(idx);
      if (top.length === limit) {
        const worst = top[limit - 1]!;
        // Most candidates lose to the current last place on the score alone: decided without allocating.
        if (score < worst.score) continue;
        if (score === worst.score && better({ candidate: p.c, score }, worst) >= 0) continue;
      }
      const r: Ranked = { candidate: p.c, score };
      let lo = 0;
      let hi = top.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (better(top[mid]!, r) <= 0) lo = mid + 1;
        else hi = mid;
      }
      top.splice(lo, 0, r);
      if (top.length > limit) top.pop();
    }
    this.last = opts.query ? undefined : { raw, matched: Int32Array.from(matched) };
    if (cacheable) {
      // One- and two-letter fragments match most entries and recur at every citation typed.
      if (this.short.size >= 128) this.short.delete(this.short.keys().next().value!);
      this.short.set(`${limit}\n${raw}`, { top: top.slice(), matched: this.last!.matched });
    }
    return top;
  }

  private predicate(f: Filter): (p: Prepared) => boolean {
    const pos = ((): ((p: Prepared) => boolean) => {
      switch (f.kind) {
        case 'author':
          return (p) => p.families.some((x) => x.startsWith(f.prefix));
        case 'year':
          return (p) => p.c.year !== undefined && (f.from === undefined || p.c.year >= f.from) && (f.to === undefined || p.c.year <= f.to);
        case 'tag':
          return (p) => (p.c.tags ?? []).some((t) => normText(t) === f.tag);
        case 'has':
          return (p) => (f.what === 'pdf' ? !!p.c.hasPdf : f.what === 'doi' ? !!p.c.doi : !!p.c.hasAbstract);
        case 'status':
          return (p) => (f.status === 'retracted' ? (p.c.notices ?? []).includes('retraction') : (p.c.statuses ?? []).some((s) => normText(s) === f.status));
        case 'type':
          return (p) => normText(p.c.type ?? '') === f.type;
        case 'venue':
          return (p) => f.prefixes.every((v) => wordPrefix(p.venueWords, v));
        case 'doi':
          return (p) => (p.c.doi ?? '').toLowerCase() === f.doi;
        case 'key':
          return (p) => p.c.key === f.key;
      }
    })();
    return f.neg ? (p) => !pos(p) : pos;
  }
}
