/**
 * The full-text column of the search: the words of each stored PDF's text (by_key/<folder>/fulltext.txt),
 * kept in memory beside TextSearch and joined to it by citation key.
 *
 * Why segments: a library of 10,000 PDFs holds some 15 million (word, paper) pairs. Postings are
 * grouped in sealed segments of up to SEGMENT_DOCS papers, each a compressed-sparse-row block
 * (its sorted word ids → local paper numbers, frequencies and where the word first occurs, 4 bytes
 * a posting); the papers added
 * since the last seal sit in a small log scanned by every query. Sealing costs a sort of one
 * segment, never of the whole column, so adding a paper stays cheap at any size, and no step of a
 * build holds the event loop for long. A paper removed is only marked dead (texts are replaced
 * rarely: once per new PDF).
 *
 * The text itself is not kept here (10,000 papers' texts are half a gigabyte). Phrases are
 * answered by a per-paper Bloom filter of adjacent word pairs (14 bits a pair, some 10 KB a paper:
 * about 0.2 % of false positives, which LibraryIndex.search removes by reading the rows' files);
 * snippets read the files of the rows shown only.
 */
import { Dictionary, normText } from './terms';

const SEGMENT_DOCS = 64;
/** A segment's local paper numbers are 16 bits: a merge never makes one larger. */
const MAX_SEGMENT_DOCS = 65_535;
/** Segments merged when this many small ones have piled up behind the larger ones (compactionDue). */
const MERGE_FAN_IN = 8;
const SKIP = 64;
const K1 = 1.2;
const B = 0.75;
/** Words longer than this are not words (hashes, base64, run-together columns). */
const MAX_TOKEN = 40;
/**
 * Bloom filter of a paper's adjacent word pairs: bits per pair and probes per pair (about 0.2 % of
 * false positives; 6 bits and 3 probes gave 6 %, and each false positive costs a whole file read
 * when a phrase's rows are checked: with two common words, whose phrase only 1–2 % of the papers
 * holding both have, false positives were most of the rows checked; profile of the fulltext bench).
 */
const PAIR_BITS = 14;
const PAIR_PROBES = 9;
/** The filter is made of blocks of 16 words (512 bits, a cache line). */
const BLOCK_WORDS = 16;
const BLOCK_MASK = BLOCK_WORDS * 32 - 1;

interface Segment {
  /** Global doc numbers of its papers, by local number. */
  docs: Int32Array;
  /** Sorted distinct word ids, and for each the start of its postings (length + 1). */
  terms: Int32Array;
  /**
   * Every SKIP-th of `terms`: a query word is looked for in this small array first (it stays in
   * the CPU cache), then in one block of SKIP terms. A plain binary search over 30,000 terms per
   * segment was most of a search's time (cache misses, profile of the bench's text:prefix queries).
   */
  skip: Int32Array;
  starts: Int32Array;
  local: Uint16Array;
  tf: Uint8Array;
  /** Where the word first occurs in the paper's text, in 256ths of its length (a hint for snippets). */
  first: Uint8Array;
}

/** Paper numbers and their BM25 score for one query word (`n` of them are valid). */
export interface TermHits {
  docs: Int32Array;
  scores: Float64Array;
  n: number;
}

export class FullTextColumn {
  private readonly words = new Dictionary();
  private readonly docKeys: string[] = [];
  private readonly docOfKey = new Map<string, number>();
  private alive = new Uint8Array(0);
  private lens = new Uint32Array(0);
  /** Characters of each paper's text (where a place in 256ths of it is, in the file). */
  private chars = new Uint32Array(0);
  private liveDocs = 0;
  private lenSum = 0;
  private segments: Segment[] = [];
  /** Papers since the last seal, and their (word, doc, tf) triples. */
  private openDocs: number[] = [];
  private log = new Int32Array(0);
  private logLen = 0;
  /** Per paper, its pair filter: words [pairAt[d], pairAt[d] + pairLen[d]) of `pairs`. */
  private pairs = new Int32Array(0);
  private pairsUsed = 0;
  private pairAt = new Int32Array(0);
  private pairLen = new Int32Array(0);
  // Scratch.
  private mark = new Int32Array(0);
  private gen = 0;
  private tfAcc = new Int32Array(0);
  private seenDoc = new Int32Array(0);
  private found = new Int32Array(0);
  /** Per paper, the earliest place of the words hits() found in it since beginQuery(), valid where placeGen is queryGen. */
  private place = new Uint8Array(0);
  private placeGen = new Int32Array(0);
  private queryGen = 1;
  private sealSlot = new Int32Array(0);
  private sealLocal = new Int32Array(0);
  /** Bumped by clear(): paper numbers are given again from 0, and a merge started before must not put its segment back. */
  epoch = 0;
  private merging = false;

  get size(): number {
    return this.liveDocs;
  }

  /** Postings held, and bytes of typed arrays: for reports. */
  footprint(): { papers: number; words: number; postings: number; typedArrayBytes: number } {
    let postings = this.logLen / 3;
    let bytes = this.log.byteLength + this.alive.byteLength + this.lens.byteLength + this.pairsUsed * 4 + this.pairAt.byteLength + this.pairLen.byteLength;
    for (const s of this.segments) {
      postings += s.local.length;
      bytes += s.docs.byteLength + s.terms.byteLength + s.skip.byteLength + s.starts.byteLength + s.local.byteLength + s.tf.byteLength + s.first.byteLength;
    }
    return { papers: this.liveDocs, words: this.words.size, postings, typedArrayBytes: bytes };
  }

  has(key: string): boolean {
    return this.docOfKey.has(key);
  }

  keyOf(doc: number): string {
    return this.docKeys[doc]!;
  }

  /** Sets the text of `key` (replacing an earlier one). */
  set(key: string, text: string): void {
    this.remove(key);
    const doc = this.docKeys.length;
    this.docKeys.push(key);
    this.docOfKey.set(key, doc);
    if (doc >= this.alive.length) {
      const cap = Math.max(256, doc * 2);
      const a = new Uint8Array(cap);
      a.set(this.alive);
      this.alive = a;
      const l = new Uint32Array(cap);
      l.set(this.lens);
      this.lens = l;
      const ch = new Uint32Array(cap);
      ch.set(this.chars);
      this.chars = ch;
      const pa = new Int32Array(cap);
      pa.set(this.pairAt);
      this.pairAt = pa;
      const pl = new Int32Array(cap);
      pl.set(this.pairLen);
      this.pairLen = pl;
    }
    this.alive[doc] = 1;
    this.chars[doc] = text.length;
    this.liveDocs++;
    // Per word: (count << 8) | where it first occurs, in 256ths of the text.
    const counts = new Map<number, number>();
    let len = 0;
    const seq = new Int32Array((text.length >> 1) + 1);
    // The tokenizer's words (terms.ts tokenize), with where they are.
    const ascii = ASCII_RE.test(text);
    const src = ascii ? text.toLowerCase() : normText(text);
    const re = ascii ? /[a-z0-9]+/g : /[\p{L}\p{N}]+/gu;
    const scale = 256 / Math.max(1, src.length);
    for (let m = re.exec(src); m; m = re.exec(src)) {
      const tok = m[0];
      // A word too long to index breaks a phrase there (-1: no pair across it).
      if (tok.length > MAX_TOKEN) {
        if (len && seq[len - 1] !== -1) seq[len++] = -1;
        continue;
      }
      const id = this.words.intern(tok);
      seq[len++] = id;
      const c = counts.get(id);
      counts.set(id, c === undefined ? 256 | Math.min(255, (m.index * scale) | 0) : c + 256);
    }
    this.addPairs(doc, seq, len);
    let words = 0;
    for (let i = 0; i < len; i++) if (seq[i] !== -1) words++;
    len = words;
    this.lens[doc] = len;
    this.lenSum += len;
    if (this.logLen + counts.size * 3 > this.log.length) {
      const b = new Int32Array(Math.max(this.logLen + counts.size * 3, this.log.length * 2, 1 << 16));
      b.set(this.log.subarray(0, this.logLen));
      this.log = b;
    }
    // The third of each triple: frequency (saturating at 255) | first place << 8.
    for (const [id, c] of counts) {
      this.log[this.logLen++] = id;
      this.log[this.logLen++] = doc;
      this.log[this.logLen++] = Math.min(c >>> 8, 255) | ((c & 255) << 8);
    }
    this.openDocs.push(doc);
    if (this.openDocs.length >= SEGMENT_DOCS) this.seal();
  }

  /** Fills `doc`'s pair filter from its word sequence. */
  private addPairs(doc: number, seq: Int32Array, n: number): void {
    let distinct = 0;
    for (let i = 1; i < n; i++) if (seq[i] !== -1 && seq[i - 1] !== -1) distinct++;
    // Repeated pairs counted as distinct oversize the filter a little: cheaper than a set.
    const blocks = Math.max(1, Math.ceil((distinct * PAIR_BITS) / (BLOCK_WORDS * 32)));
    const words = blocks * BLOCK_WORDS;
    if (this.pairsUsed + words > this.pairs.length) {
      const b = new Int32Array(Math.max(this.pairsUsed + words, this.pairs.length * 2, 1 << 16));
      b.set(this.pairs.subarray(0, this.pairsUsed));
      this.pairs = b;
    }
    const at = this.pairsUsed;
    this.pairsUsed += words;
    this.pairAt[doc] = at;
    this.pairLen[doc] = words;
    const f = this.pairs;
    for (let i = 1; i < n; i++) {
      const a = seq[i - 1]!;
      const b = seq[i]!;
      if (a === -1 || b === -1) continue;
      const h = pairHash(a, b);
      const base = at + ((h >>> 0) % blocks) * BLOCK_WORDS;
      let g = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
      const step = (Math.imul(g ^ (g >>> 12), 0x297a2d39) >>> 0) | 1;
      for (let k = 0; k < PAIR_PROBES; k++) {
        const bit = g & BLOCK_MASK;
        f[base + (bit >>> 5)]! |= 1 << (bit & 31);
        g = (g + step) | 0;
      }
    }
  }

  /**
   * Whether `doc`'s text may hold word `b` right after word `a` (false: certainly not). All probes
   * of a pair fall in one 64-byte block of the filter: one cache miss per paper asked, not one per
   * probe (the probes were most of a phrase's ranking, over the thousands of papers holding both words).
   */
  mayFollow(doc: number, a: number, b: number): boolean {
    const words = this.pairLen[doc]!;
    if (!words) return false;
    const h = pairHash(a, b);
    const base = this.pairAt[doc]! + ((h >>> 0) % (words / BLOCK_WORDS)) * BLOCK_WORDS;
    const f = this.pairs;
    let g = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    const step = (Math.imul(g ^ (g >>> 12), 0x297a2d39) >>> 0) | 1;
    for (let k = 0; k < PAIR_PROBES; k++) {
      const bit = g & BLOCK_MASK;
      if (!(f[base + (bit >>> 5)]! & (1 << (bit & 31)))) return false;
      g = (g + step) | 0;
    }
    return true;
  }

  /** The paper number of `key` (undefined when it has no text here). */
  docOf(key: string): number | undefined {
    return this.docOfKey.get(key);
  }

  /** Whether `key`'s text holds any of word `ids` (a posting lookup, no file read). */
  holdsAny(key: string, ids: number[]): boolean {
    return this.firstPlace(key, ids) >= 0;
  }

  /**
   * Where the first of word `ids` occurs in `key`'s text, in 256ths of its length (the earliest
   * of them); -1 when none does.
   */
  firstPlace(key: string, ids: number[]): number {
    const pc = this.placeAndCount(key, ids);
    return pc < 0 ? -1 : pc & 255;
  }

  /**
   * firstPlace, with the frequency of the ids in the paper (saturating at 255) in the bits above
   * the place's 8: -1 when none of them is there.
   */
  placeAndCount(key: string, ids: number[]): number {
    const doc = this.docOfKey.get(key);
    if (doc === undefined || !ids.length) return -1;
    let count = 0;
    let best = -1;
    // Segments hold increasing paper numbers: find the one that would hold `doc`.
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const d = segs[mid]!.docs;
      if (d[d.length - 1]! < doc) lo = mid + 1;
      else hi = mid;
    }
    const s = segs[lo];
    if (s && s.docs[0]! <= doc) {
      const local = lowerBound(s.docs, doc);
      if (s.docs[local] !== doc) return -1;
      for (const id of ids) {
        const at = lowerBound(s.terms, id);
        if (at >= s.terms.length || s.terms[at] !== id) continue;
        // A word's postings are in paper order (seal and merge keep it): a search, not a scan of 10,000.
        let pl = s.starts[at]!;
        let ph = s.starts[at + 1]!;
        while (pl < ph) {
          const mid = (pl + ph) >> 1;
          if (s.local[mid]! < local) pl = mid + 1;
          else ph = mid;
        }
        if (pl < s.starts[at + 1]! && s.local[pl] === local) {
          count += s.tf[pl]!;
          if (best < 0 || s.first[pl]! < best) best = s.first[pl]!;
        }
      }
      return best < 0 ? -1 : best | (Math.min(255, count) << 8);
    }
    const log = this.log;
    for (let i = 0; i < this.logLen; i += 3) {
      if (log[i + 1] !== doc || !ids.includes(log[i]!)) continue;
      const f = (log[i + 2]! >>> 8) & 255;
      count += log[i + 2]! & 255;
      if (best < 0 || f < best) best = f;
    }
    return best < 0 ? -1 : best | (Math.min(255, count) << 8);
  }

  /**
   * The word of `tokens` (a phrase) that the fewest papers hold, its id and how many papers hold
   * it (undefined when one is not indexed): where it first is in a paper bounds where the phrase
   * can first be.
   */
  rarestWord(tokens: string[]): { id: number; papers: number } | undefined {
    let best: number | undefined;
    let bestN = Infinity;
    for (const t of tokens) {
      const id = this.words.get(t);
      if (id === undefined) return undefined;
      let n = 0;
      for (const s of this.segments) {
        const at = lowerBound(s.terms, id);
        if (at < s.terms.length && s.terms[at] === id) n += s.starts[at + 1]! - s.starts[at]!;
      }
      if (n < bestN) (best = id), (bestN = n);
    }
    return best === undefined ? undefined : { id: best, papers: bestN };
  }

  /** Starts a query: placeOf() then answers for the words of the hits() calls made from here on. */
  beginQuery(): void {
    this.queryGen++;
  }

  /**
   * Where the first word of this query's hits() calls occurs in `key`'s text (256ths of it), or
   * -1 when none of them does: what firstPlace would say for those words, without a lookup.
   */
  /** Characters of `key`'s text (0 when it has none here). */
  textLength(key: string): number {
    const doc = this.docOfKey.get(key);
    return doc === undefined ? 0 : this.chars[doc]!;
  }

  placeOf(key: string): number {
    const doc = this.docOfKey.get(key);
    if (doc === undefined || doc >= this.placeGen.length || this.placeGen[doc] !== this.queryGen) return -1;
    return this.place[doc]!;
  }

  /**
   * The papers that may hold the phrase `tokens` (exact words, in this order): every word, and
   * every adjacent pair in the paper's pair filter. Scored as the sum of the words' BM25. A few
   * percent are false positives, removed where the text is read (the rows shown).
   */
  phraseHits(tokens: string[]): TermHits | undefined {
    const c = this.phraseCandidates(tokens);
    if (!c) return undefined;
    const out: TermHits = { docs: new Int32Array(c.n), scores: new Float64Array(c.n), n: 0 };
    for (let i = 0; i < c.n; i++) {
      if (!c.admits(c.docs[i]!)) continue;
      out.docs[out.n] = c.docs[i]!;
      out.scores[out.n++] = c.scores[i]!;
    }
    return out.n ? out : undefined;
  }

  /**
   * phraseHits before its pair filters: the papers holding every word, scored, and `admits(doc)`,
   * the filters' verdict, for the caller to ask only of the papers that can still enter a page
   * (TextSearch.search): with two common words that is some hundreds of the 10,000 holding both,
   * each a cache miss.
   */
  phraseCandidates(tokens: string[]): (TermHits & { admits: (doc: number) => boolean }) | undefined {
    const ids: number[] = [];
    for (const t of tokens) {
      const id = this.words.get(t);
      if (id === undefined) return undefined;
      ids.push(id);
    }
    if (!ids.length) return undefined;
    // Rarest word first: the others only narrow its list.
    const lists = ids.map((id) => this.hits([id]));
    const order = lists.map((_, i) => i).sort((a, b) => lists[a]!.n - lists[b]!.n);
    const first = lists[order[0]!]!;
    const nDocs = this.docKeys.length;
    const score = new Float64Array(nDocs);
    const count = new Uint8Array(nDocs);
    for (let i = 0; i < first.n; i++) {
      score[first.docs[i]!] = first.scores[i]!;
      count[first.docs[i]!] = 1;
    }
    for (let j = 1; j < order.length; j++) {
      const l = lists[order[j]!]!;
      for (let i = 0; i < l.n; i++) {
        const d = l.docs[i]!;
        if (count[d] === j) {
          count[d] = j + 1;
          score[d] += l.scores[i]!;
        }
      }
    }
    const all = ids.length;
    const docs = new Int32Array(first.n);
    const scores = new Float64Array(first.n);
    let n = 0;
    for (let i = 0; i < first.n; i++) {
      const d = first.docs[i]!;
      if (count[d] !== all) continue;
      docs[n] = d;
      scores[n++] = score[d]!;
    }
    if (!n) return undefined;
    const admits = (d: number) => {
      for (let k = 1; k < all; k++) if (!this.mayFollow(d, ids[k - 1]!, ids[k]!)) return false;
      return true;
    };
    return { docs, scores, n, admits };
  }

  remove(key: string): boolean {
    const doc = this.docOfKey.get(key);
    if (doc === undefined) return false;
    this.docOfKey.delete(key);
    this.alive[doc] = 0;
    this.liveDocs--;
    this.lenSum -= this.lens[doc]!;
    return true;
  }

  clear(): void {
    const epoch = this.epoch + 1;
    Object.assign(this, new FullTextColumn());
    this.epoch = epoch;
  }

  /** Segments the column is held in (for reports and tests). */
  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Which segments a merge would take: the last ones, back to (and with) the first whose papers are
   * no more than MERGE_FAN_IN times those after it, within the 16-bit limit; undefined when fewer
   * than `min` would be merged. So each paper is rewritten a logarithmic number of times, and a
   * large segment is not rewritten for a few papers added after it.
   */
  private mergePlan(min: number): number | undefined {
    const segs = this.segments;
    if (segs.length < 2) return undefined;
    let from = segs.length - 1;
    let acc = segs[from]!.docs.length;
    while (from > 0) {
      const d = segs[from - 1]!.docs.length;
      if (d > MERGE_FAN_IN * acc || d + acc > MAX_SEGMENT_DOCS) break;
      acc += d;
      from--;
    }
    return segs.length - from >= Math.max(2, min) ? from : undefined;
  }

  /** Whether enough small segments have piled up that a merge (compact()) would pay. */
  compactionDue(): boolean {
    return !this.merging && this.mergePlan(MERGE_FAN_IN) !== undefined;
  }

  /**
   * Merges the last segments into one (see mergePlan; `all`: every segment that can be, as at the
   * end of a load). A generator: it yields after each source segment (some 200,000 postings), so
   * the caller can give the event loop its turn; writes meanwhile are taken (papers set go to new
   * segments, papers removed stay masked by \`alive\`). Why: a query word costs a search and a few
   * cache misses per segment, and a text:prefix expands to tens of words — over 157 segments of
   * 64 papers that was most of a search (profile of the fulltext bench, 10,000 papers).
   */
  *compact(all = false): Generator<void, void, void> {
    if (this.merging) return;
    this.seal();
    const from = this.mergePlan(all ? 2 : MERGE_FAN_IN);
    if (from === undefined) return;
    this.merging = true;
    try {
      yield* this.mergeFrom(from);
    } finally {
      this.merging = false;
    }
  }

  private *mergeFrom(from: number): Generator<void, void, void> {
    const epoch = this.epoch;
    const src = this.segments.slice(from);
    // Papers dead when the merge starts are dropped; those removed during it are masked by `alive`.
    let nDocs = 0;
    for (const s of src) for (let i = 0; i < s.docs.length; i++) if (this.alive[s.docs[i]!]) nDocs++;
    const docs = new Int32Array(nDocs);
    const remaps: Int32Array[] = [];
    let n = 0;
    for (const s of src) {
      const r = new Int32Array(s.docs.length).fill(-1);
      for (let i = 0; i < s.docs.length; i++) if (this.alive[s.docs[i]!]) (r[i] = n), (docs[n++] = s.docs[i]!);
      remaps.push(r);
    }
    // Postings per word (ids are global), counted segment by segment.
    const W = this.words.size;
    const count = new Int32Array(W + 1);
    for (let j = 0; j < src.length; j++) {
      const { terms, starts, local } = src[j]!;
      const r = remaps[j]!;
      for (let t = 0; t < terms.length; t++) {
        let c = 0;
        for (let i = starts[t]!, e = starts[t + 1]!; i < e; i++) if (r[local[i]!]! >= 0) c++;
        count[terms[t]!]! += c;
      }
      yield;
    }
    let nTerms = 0;
    for (let w = 0; w < W; w++) if (count[w]) nTerms++;
    const terms = new Int32Array(nTerms);
    const starts = new Int32Array(nTerms + 1);
    // count[] becomes each word's fill position.
    let at = 0;
    let k = 0;
    for (let w = 0; w < W; w++) {
      const c = count[w]!;
      if (!c) continue;
      terms[k] = w;
      starts[k++] = at;
      count[w] = at;
      at += c;
    }
    starts[nTerms] = at;
    const local = new Uint16Array(at);
    const tf = new Uint8Array(at);
    const first = new Uint8Array(at);
    yield;
    // Source segments in order of paper numbers: each word's postings stay in paper order.
    for (let j = 0; j < src.length; j++) {
      const s = src[j]!;
      const r = remaps[j]!;
      for (let t = 0; t < s.terms.length; t++) {
        const w = s.terms[t]!;
        let f = count[w]!;
        for (let i = s.starts[t]!, e = s.starts[t + 1]!; i < e; i++) {
          const l = r[s.local[i]!]!;
          if (l < 0) continue;
          local[f] = l;
          tf[f] = s.tf[i]!;
          first[f++] = s.first[i]!;
        }
        count[w] = f;
      }
      yield;
    }
    const skip = new Int32Array(Math.ceil(terms.length / SKIP));
    for (let i = 0; i < skip.length; i++) skip[i] = terms[i * SKIP]!;
    // Cleared meanwhile (a reload), or the segments changed under it some other way: drop the result.
    if (epoch !== this.epoch || src.some((s, i) => this.segments[from + i] !== s)) return;
    const merged: Segment = { docs, terms, skip, starts, local, tf, first };
    this.segments.splice(from, src.length, ...(nDocs ? [merged] : []));
    this.words.sortView();
  }

  /** Word ids for a query token: itself, or every word it starts. */
  wordIds(token: string, prefix: boolean): number[] {
    if (prefix) return this.words.withPrefix(token);
    const id = this.words.get(token);
    return id === undefined ? [] : [id];
  }

  /**
   * The papers holding any of `ids`, with BM25 scores (frequencies of the ids summed per paper,
   * idf from how many papers hold any of them). Dead papers are skipped.
   */
  hits(ids: number[]): TermHits {
    const nDocs = this.docKeys.length;
    if (this.seenDoc.length < nDocs) {
      this.seenDoc = new Int32Array(Math.max(nDocs, 1024) * 2);
      this.tfAcc = new Int32Array(this.seenDoc.length);
      this.gen = 0;
    }
    if (this.mark.length < this.words.size) this.mark = new Int32Array(Math.max(this.words.size * 2, 1024));
    const g = ++this.gen;
    const { seenDoc, tfAcc, alive } = this;
    if (this.found.length < nDocs) this.found = new Int32Array(Math.max(1024, nDocs * 2));
    if (this.placeGen.length < nDocs) {
      const pg = new Int32Array(Math.max(1024, nDocs * 2));
      pg.set(this.placeGen);
      this.placeGen = pg;
      const pl = new Uint8Array(pg.length);
      pl.set(this.place);
      this.place = pl;
    }
    const { place, placeGen, queryGen: qg } = this;
    const found = this.found;
    let n = 0;
    if (ids.length) {
      // Ascending ids: in each segment the search for the next one starts where the last one ended.
      const sorted = ids.length > 1 ? [...ids].sort((a, b) => a - b) : ids;
      for (const s of this.segments) {
        const { terms, starts, local, tf, docs, skip } = s;
        let lo = 0;
        for (const id of sorted) {
          // The last block whose first term is <= id (searched from the block of the last word found), then within it.
          let bl = lo >> 6;
          let bh = skip.length;
          while (bl < bh) {
            const mid = (bl + bh) >> 1;
            if (skip[mid]! <= id) bl = mid + 1;
            else bh = mid;
          }
          let hi = Math.min(terms.length, bl * SKIP);
          lo = Math.max(lo, (bl - 1) * SKIP);
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (terms[mid]! < id) lo = mid + 1;
            else hi = mid;
          }
          if (lo >= terms.length) break;
          if (terms[lo] !== id) continue;
          const first = s.first;
          for (let i = starts[lo]!, e = starts[lo + 1]!; i < e; i++) {
            const d = docs[local[i]!]!;
            if (!alive[d]) continue;
            if (seenDoc[d] !== g) {
              seenDoc[d] = g;
              tfAcc[d] = 0;
              found[n++] = d;
            }
            tfAcc[d]! += tf[i]!;
            if (placeGen[d] !== qg) {
              placeGen[d] = qg;
              place[d] = first[i]!;
            } else if (first[i]! < place[d]!) place[d] = first[i]!;
          }
        }
      }
      if (this.logLen) {
        const mark = this.mark;
        for (const id of ids) mark[id] = g;
        const log = this.log;
        for (let i = 0; i < this.logLen; i += 3) {
          if (mark[log[i]!] !== g) continue;
          const d = log[i + 1]!;
          if (!alive[d]) continue;
          if (seenDoc[d] !== g) {
            seenDoc[d] = g;
            tfAcc[d] = 0;
            found[n++] = d;
          }
          tfAcc[d]! += log[i + 2]! & 255;
          const f = log[i + 2]! >>> 8;
          if (placeGen[d] !== qg) {
            placeGen[d] = qg;
            place[d] = f;
          } else if (f < place[d]!) place[d] = f;
        }
      }
    }
    const N = Math.max(1, this.liveDocs);
    const avg = this.lenSum / N || 1;
    // Lucene's idf: positive even for a word most papers have, so frequencies still order a small library.
    const idf = Math.log(1 + (N - n + 0.5) / (n + 0.5));
    const docs = found.slice(0, n);
    const scores = new Float64Array(n);
    const lens = this.lens;
    for (let i = 0; i < n; i++) {
      const d = docs[i]!;
      const tf = tfAcc[d]!;
      scores[i] = idf * ((tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * lens[d]!) / avg)));
    }
    return { docs, scores, n };
  }

  /** Folds the open log into a sealed segment (also called before a bulk build hands over). */
  seal(): void {
    if (!this.openDocs.length) return;
    const docs = Int32Array.from(this.openDocs);
    // Scratch indexed by word id and by doc number (no maps: a seal runs between two yields of a load).
    if (this.sealSlot.length < this.words.size) this.sealSlot = new Int32Array(Math.max(1024, this.words.size * 2)).fill(-1);
    if (this.sealLocal.length < this.docKeys.length) this.sealLocal = new Int32Array(Math.max(1024, this.docKeys.length * 2));
    const slotOf = this.sealSlot;
    const localOf = this.sealLocal;
    docs.forEach((d, i) => (localOf[d] = i));
    const n = this.logLen / 3;
    const log = this.log;
    const distinct: number[] = [];
    for (let i = 0; i < this.logLen; i += 3) {
      const w = log[i]!;
      if (slotOf[w] === -1) {
        slotOf[w] = 0;
        distinct.push(w);
      }
    }
    const terms = Int32Array.from(distinct).sort();
    for (let t = 0; t < terms.length; t++) slotOf[terms[t]!] = t;
    const starts = new Int32Array(terms.length + 1);
    for (let i = 0; i < this.logLen; i += 3) starts[slotOf[log[i]!]! + 1]!++;
    for (let t = 0; t < terms.length; t++) starts[t + 1]! += starts[t]!;
    const fill = starts.slice(0, terms.length);
    const local = new Uint16Array(n);
    const tf = new Uint8Array(n);
    const first = new Uint8Array(n);
    for (let i = 0; i < this.logLen; i += 3) {
      const at = fill[slotOf[log[i]!]!]!++;
      local[at] = localOf[log[i + 1]!]!;
      tf[at] = log[i + 2]! & 255;
      first[at] = log[i + 2]! >>> 8;
    }
    for (let t = 0; t < terms.length; t++) slotOf[terms[t]!] = -1;
    const skip = new Int32Array(Math.ceil(terms.length / SKIP));
    for (let k = 0; k < skip.length; k++) skip[k] = terms[k * SKIP]!;
    this.segments.push({ docs, terms, skip, starts, local, tf, first });
    this.openDocs = [];
    this.log = new Int32Array(0);
    this.logLen = 0;
  }
}

const ASCII_RE = /^[\x00-\x7f]*$/;

function pairHash(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0xcc9e2d51);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Lower case without diacritics, one UTF-16 unit for one: positions in the folded text are
 * positions in the original, so a hit found in one can be cut out of the other.
 */
export function foldSameLength(s: string): string {
  if (/^[\x00-\x7f]*$/.test(s)) return s.toLowerCase();
  let out = '';
  for (const c of s) {
    const base = c.length === 1 ? (c.normalize('NFKD')[0] ?? c).toLowerCase() : c;
    out += base.length === c.length ? base : c;
  }
  return out;
}

function isWordAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
  return /[\p{L}\p{N}]/u.test(s[i]!);
}

/**
 * Where `tokens` (query words, already folded) occur in `folded` as the tokenizer would see them:
 * whole words (the last one a prefix when `prefix`), separated by anything that is not a word.
 * A scan by indexOf for the first word, so a 50 kB text costs microseconds, not a tokenization.
 */
export function findTerm(folded: string, tokens: string[], prefix: boolean): { at: number; len: number } | undefined {
  const first = tokens[0];
  if (!first) return undefined;
  const n = folded.length;
  for (let i = folded.indexOf(first); i >= 0; i = folded.indexOf(first, i + 1)) {
    if (i > 0 && isWordAt(folded, i - 1)) continue;
    let end = i + first.length;
    let ok = true;
    for (let k = 1; k < tokens.length && ok; k++) {
      if (end < n && isWordAt(folded, end)) ok = false;
      let j = end;
      while (j < n && !isWordAt(folded, j)) j++;
      if (j === end || !folded.startsWith(tokens[k]!, j)) ok = false;
      end = j + tokens[k]!.length;
    }
    if (!ok) continue;
    if (prefix) {
      while (end < n && isWordAt(folded, end)) end++;
    } else if (end < n && isWordAt(folded, end)) continue;
    return { at: i, len: end - i };
  }
  return undefined;
}

/** A query part for snippets: its words and whether the last is a prefix. */
export interface SnippetTerm {
  tokens: string[];
  prefix: boolean;
}

export interface Snippet {
  before: string;
  hit: string;
  after: string;
}

/** About `width` characters of `text` around the first occurrence of any of `terms`, on one line. */
export function snippetOf(text: string, terms: SnippetTerm[], width = 160, folded = foldSameLength(text)): Snippet | undefined {
  let best: { at: number; len: number } | undefined;
  for (const t of terms) {
    const m = findTerm(folded, t.tokens, t.prefix);
    if (m && (!best || m.at < best.at)) best = m;
  }
  if (!best) return undefined;
  const side = Math.max(20, Math.floor((width - best.len) / 2));
  let from = Math.max(0, best.at - side);
  let to = Math.min(text.length, best.at + best.len + side);
  // Whole words at both ends.
  if (from > 0) from = text.indexOf(' ', from) >= 0 && text.indexOf(' ', from) < best.at ? text.indexOf(' ', from) + 1 : from;
  if (to < text.length) {
    const sp = text.lastIndexOf(' ', to);
    if (sp > best.at + best.len) to = sp;
  }
  const flat = (s: string) => s.replace(/\s+/g, ' ');
  return {
    before: (from > 0 ? '…' : '') + flat(text.slice(from, best.at)).trimStart(),
    hit: flat(text.slice(best.at, best.at + best.len)),
    after: flat(text.slice(best.at + best.len, to)).trimEnd() + (to < text.length ? '…' : ''),
  };
}

