/**
 * The in-memory search side of the library index: an inverted index over title, authors,
 * abstract and venue with BM25 ranking, plus the per-entry columns the query filters test.
 *
 * Why it exists (measured, see docs/decisions.md): sql.js's FTS4 needs ~10 ms only to list the
 * rows of a 3-letter prefix at 50,000 entries, and 70–200 ms to rank them through matchinfo()
 * and a JS function; the target is a p95 under 10 ms. The entries table in sql.js stays the store
 * (and the file that persists); this structure is derived from it, built when first needed and
 * kept current by LibraryIndex on every insert and delete.
 *
 * Layout: postings in one compressed-sparse-row block (term → [slot, packed tf per column]) plus
 * an append-only log of (term, slot, tf) triples for what was added since; a merge folds the log
 * in and drops deleted slots. A slot is one version of one entry; deleting marks it dead.
 */

import type { FullTextColumn, TermHits } from './fullText';
import { Dictionary, normText, tokenize } from './terms';

// Where they were first defined; the full-text column uses them too (./terms.ts, so that neither imports the other).
export { Dictionary, normText, tokenize };

/** Columns, in this order everywhere: title, authors, abstract, venue. A hit in the title counts more than one in the abstract. */
const WEIGHTS = [3, 2, 1, 1];
/**
 * The full-text column (./fullText.ts): a bare word found only in a paper's text ranks below a hit
 * in any metadata column; a `text:` term (full text only) counts as much as an abstract hit.
 */
export const FULLTEXT_WEIGHT_BARE = 0.5;
export const FULLTEXT_WEIGHT_SCOPED = 1;
const K1 = 1.2;
const B = 0.75;
/** Per-column term frequencies packed into 16 bits: title 4 bits, authors 3, venue 3, abstract 6 (saturating). */
const SHIFT = [0, 4, 10, 7];
const MAX = [15, 7, 63, 7];
const VENUE_COLUMN = 3;
const ALL_COLUMNS = 0b1111;
const NO_YEAR = -2147483648;
const FLAG_PDF = 1;
const FLAG_DOI = 2;
const FLAG_ABSTRACT = 4;
const FLAG_RETRACTED = 8;

/** What the search needs of one entry (all strings as stored; tags and families already normalised). */
export interface SearchDoc {
  key: string;
  title: string | null;
  authors: string;
  abstract: string;
  venue: string | null;
  year: number | null;
  hasPdf: boolean;
  doi: string | null;
  doiStatus: string;
  pdfStatus: string;
  retracted: boolean;
  type: string | null;
  tags: string[];
  families: string[];
  /** Family names as a result row shows them ("Smith; Jones"). */
  names: string;
}

/** What a result row shows of an entry, as stored (LibraryIndex.search's SearchHit without its folder, score and snippet). */
export interface HitRow {
  key: string;
  title: string | null;
  authors: string;
  year: number | null;
  venue: string | null;
  type: string | null;
  doi: string | null;
  hasPdf: boolean;
  doiStatus: string;
  pdfStatus: string;
}

/**
 * A free-text part of a query: one word (as a prefix or exact) or a "quoted phrase". `scope:
 * 'text'` (from `text:…`) looks in the full text only; otherwise words look in the metadata
 * columns and, as whole words, in the full text.
 */
export type TextTerm = ({ kind: 'prefix' | 'word'; token: string } | { kind: 'phrase'; tokens: string[] }) & { scope?: 'text' };

/**
 * The full-text column. A `text:"phrase"` matches the papers its pair filters admit (a few
 * percent false positives: the caller checks the rows it shows on their text).
 */
export interface FullTextSource {
  column: FullTextColumn;
}

export type Filter = { neg: boolean } & (
  | { kind: 'author'; prefix: string }
  | { kind: 'year'; from?: number; to?: number }
  | { kind: 'tag'; tag: string }
  | { kind: 'has'; what: 'pdf' | 'doi' | 'abstract' }
  | { kind: 'status'; status: string }
  | { kind: 'type'; type: string }
  | { kind: 'venue'; prefixes: string[] }
  | { kind: 'doi'; doi: string }
  | { kind: 'key'; key: string }
);

export interface Query {
  text: TextTerm[];
  filters: Filter[];
}

/** Reads title, authors, abstract and venue of entries by id (to check phrases word by word). */
export type TextLoader = (ids: number[]) => Map<number, [string, string, string, string]>;

export interface RankedPage {
  ids: number[];
  /** Citation keys of `ids`. */
  keys: string[];
  scores: number[];
  /**
   * How many entries matched in all (before limit and offset); with a `text:` phrase, an upper
   * bound (its pair filters are asked only of the rows that could enter the page).
   */
  total: number;
}

function growI32(a: Int32Array, need: number): Int32Array {
  if (need <= a.length) return a;
  const b = new Int32Array(Math.max(need, a.length * 2, 1024));
  b.set(a);
  return b;
}

export class TextSearch {
  private terms = new Dictionary();
  // Author family names (normalised): the dictionary and, per family, the slots that have it.
  private familyNames = new Dictionary();
  private familySlots: number[][] = [];

  // Slots.
  private slots = 0;
  private liveCount = 0;
  private deadCount = 0;
  private slotId: Int32Array = new Int32Array(0);
  private alive: Uint8Array = new Uint8Array(0);
  private lens: Uint16Array = new Uint16Array(0);
  private years: Int32Array = new Int32Array(0);
  private flags: Uint8Array = new Uint8Array(0);
  private keys: string[] = [];
  private titles: (string | null)[] = [];
  private doiStatus: string[] = [];
  private pdfStatus: string[] = [];
  private types: (string | null)[] = [];
  private tags: (string[] | undefined)[] = [];
  private dois: (string | null)[] = [];
  // What result rows show (reading them back from sql.js cost about 1 ms per page of 50).
  private venues: (string | null)[] = [];
  private rawTypes: (string | null)[] = [];
  private names: string[] = [];
  private idToSlot = new Map<number, number>();
  private slotOfKey = new Map<string, number>();
  private lenSum = [0, 0, 0, 0];

  // Postings: the merged block and the log since.
  private csrTerms = 0;
  private csrStart: Int32Array = new Int32Array(1);
  private csrSlot: Int32Array = new Int32Array(0);
  private csrTf: Uint16Array = new Uint16Array(0);
  private log: Int32Array = new Int32Array(0);
  private logLen = 0;

  // Scratch for queries, stamped with generations so nothing is cleared per query.
  private gen = 0;
  private seen: Int32Array = new Int32Array(0);
  private acc: Int32Array = new Int32Array(0);
  private touched: Int32Array = new Int32Array(0);
  private cand: Int32Array = new Int32Array(0);
  private qgen = 0;
  private qseen: Int32Array = new Int32Array(0);
  private qcount: Int32Array = new Int32Array(0);
  private qscore: Float64Array = new Float64Array(0);
  private termMark: Int32Array = new Int32Array(0);
  // Scratch for add().
  private addStamp = 0;
  private addMark: Int32Array = new Int32Array(0);
  private addTf: Int32Array = new Int32Array(0);
  private addList: Int32Array = new Int32Array(0);
  /** True while a bulk build runs: no merges until it ends. */
  bulk = false;

  get size(): number {
    return this.liveCount;
  }

  /** Postings held (merged block + log): for memory reports. */
  get postings(): number {
    return this.csrSlot.length + this.logLen / 3;
  }

  /** Bytes held in typed arrays (postings, per-entry columns, scratch); strings and maps not counted. */
  get typedArrayBytes(): number {
    let n = 0;
    for (const v of Object.values(this)) if (ArrayBuffer.isView(v)) n += v.byteLength;
    return n;
  }

  has(id: number): boolean {
    return this.idToSlot.has(id);
  }

  add(id: number, doc: SearchDoc): void {
    if (this.idToSlot.has(id)) this.remove(id);
    const slot = this.slots++;
    this.ensureSlots(this.slots);
    this.idToSlot.set(id, slot);
    this.slotId[slot] = id;
    this.alive[slot] = 1;
    this.liveCount++;
    this.years[slot] = doc.year ?? NO_YEAR;
    this.flags[slot] = (doc.hasPdf ? FLAG_PDF : 0) | (doc.doi ? FLAG_DOI : 0) | (doc.abstract ? FLAG_ABSTRACT : 0) | (doc.retracted ? FLAG_RETRACTED : 0);
    this.keys[slot] = doc.key;
    this.slotOfKey.set(doc.key, slot);
    this.titles[slot] = doc.title;
    this.doiStatus[slot] = doc.doiStatus;
    this.pdfStatus[slot] = doc.pdfStatus;
    this.types[slot] = doc.type?.toLowerCase() ?? null;
    this.tags[slot] = doc.tags.length ? doc.tags : undefined;
    for (const f of new Set(doc.families)) {
      const fid = this.familyNames.intern(f);
      (this.familySlots[fid] ??= []).push(slot);
    }
    this.dois[slot] = doc.doi;
    this.venues[slot] = doc.venue;
    this.rawTypes[slot] = doc.type;
    this.names[slot] = doc.names;
    // Per-term packed frequencies of this entry, in scratch arrays indexed by term id.
    const stamp = ++this.addStamp;
    const texts = [doc.title, doc.authors, doc.abstract, doc.venue];
    let distinct = 0;
    for (let col = 0; col < 4; col++) {
      const toks = tokenize(texts[col]);
      const len = Math.min(toks.length, 0xffff);
      this.lens[slot * 4 + col] = len;
      this.lenSum[col]! += len;
      const s = SHIFT[col]!;
      const max = MAX[col]!;
      for (const tok of toks) {
        const tid = this.termId(tok);
        if (this.addMark[tid] !== stamp) {
          this.addMark[tid] = stamp;
          this.addTf[tid] = 0;
          this.addList[distinct++] = tid;
        }
        const p = this.addTf[tid]!;
        if (((p >> s) & max) < max) this.addTf[tid] = p + (1 << s);
      }
    }
    this.log = growI32(this.log, this.logLen + distinct * 3);
    for (let i = 0; i < distinct; i++) {
      const tid = this.addList[i]!;
      this.log[this.logLen++] = tid;
      this.log[this.logLen++] = slot;
      this.log[this.logLen++] = this.addTf[tid]!;
    }
    // Keep the log (scanned whole by every query) small relative to the merged block. A bulk
    // build merges once, at its end.
    if (!this.bulk && this.logLen / 3 > Math.max(1 << 20, this.csrSlot.length / 2)) this.merge();
  }

  remove(id: number): boolean {
    const slot = this.idToSlot.get(id);
    if (slot === undefined) return false;
    this.idToSlot.delete(id);
    this.alive[slot] = 0;
    this.liveCount--;
    this.deadCount++;
    for (let col = 0; col < 4; col++) this.lenSum[col]! -= this.lens[slot * 4 + col]!;
    if (this.slotOfKey.get(this.keys[slot]!) === slot) this.slotOfKey.delete(this.keys[slot]!);
    this.keys[slot] = '';
    this.titles[slot] = null;
    this.tags[slot] = undefined;
    this.dois[slot] = null;
    this.venues[slot] = null;
    this.rawTypes[slot] = null;
    this.names[slot] = '';
    return true;
  }

  /** The row of entry `id` as a result shows it (undefined when it is not here). */
  hitRow(id: number): HitRow | undefined {
    const s = this.idToSlot.get(id);
    if (s === undefined) return undefined;
    const year = this.years[s]!;
    return {
      key: this.keys[s]!,
      title: this.titles[s] ?? null,
      authors: this.names[s]!,
      year: year === NO_YEAR ? null : year,
      venue: this.venues[s] ?? null,
      type: this.rawTypes[s] ?? null,
      doi: this.dois[s] ?? null,
      hasPdf: (this.flags[s]! & FLAG_PDF) !== 0,
      doiStatus: this.doiStatus[s]!,
      pdfStatus: this.pdfStatus[s]!,
    };
  }

  /** Folds the log into the merged block and forgets deleted slots. */
  merge(): void {
    const n = this.slots;
    const remap = new Int32Array(n);
    let live = 0;
    for (let s = 0; s < n; s++) remap[s] = this.alive[s] ? live++ : -1;
    const T = this.terms.size;
    const start = new Int32Array(T + 1);
    const { csrStart, csrSlot, csrTf, log, logLen } = this;
    for (let t = 0; t < this.csrTerms; t++) {
      let c = 0;
      for (let i = csrStart[t]!, e = csrStart[t + 1]!; i < e; i++) if (remap[csrSlot[i]!]! >= 0) c++;
      start[t + 1] = c;
    }
    for (let i = 0; i < logLen; i += 3) if (remap[log[i + 1]!]! >= 0) start[log[i]! + 1]!++;
    for (let t = 0; t < T; t++) start[t + 1]! += start[t]!;
    const total = start[T]!;
    const slot2 = new Int32Array(total);
    const tf2 = new Uint16Array(total);
    const fill = start.slice(0, T);
    for (let t = 0; t < this.csrTerms; t++) {
      for (let i = csrStart[t]!, e = csrStart[t + 1]!; i < e; i++) {
        const ns = remap[csrSlot[i]!]!;
        if (ns < 0) continue;
        const at = fill[t]!++;
        slot2[at] = ns;
        tf2[at] = csrTf[i]!;
      }
    }
    for (let i = 0; i < logLen; i += 3) {
      const ns = remap[log[i + 1]!]!;
      if (ns < 0) continue;
      const at = fill[log[i]!]!++;
      slot2[at] = ns;
      tf2[at] = log[i + 2]!;
    }
    this.csrTerms = T;
    this.csrStart = start;
    this.csrSlot = slot2;
    this.csrTf = tf2;
    this.log = new Int32Array(0);
    this.logLen = 0;
    if (this.deadCount) this.compactSlots(remap, live);
  }

  /**
   * Ranks the entries that match `q`: BM25 over the text terms (all must match), filters applied,
   * newest first when there is no text. Returns the ids of one page.
   */
  search(q: Query, limit: number, offset: number, loadText: TextLoader, full?: FullTextSource): RankedPage {
    if (this.logLen > 3 * 65536 || this.deadCount > Math.max(1000, this.liveCount / 4)) this.merge();
    this.ensureScratch();
    const preds = q.filters.map((f) => this.predicate(f, loadText));
    const pass = (slot: number) => {
      for (const p of preds) if (!p(slot)) return false;
      return true;
    };
    const k = offset + limit;
    let best: number[];
    let total = 0;
    if (q.text.length) {
      const nc = this.scoreText(q.text, ALL_COLUMNS, loadText, full);
      const cand = this.cand;
      const score = this.qscore;
      const years = this.years;
      const keys = this.keys;
      const better = (a: number, b: number) =>
        score[a]! !== score[b]! ? score[a]! > score[b]! : years[a] !== years[b] ? years[a]! > years[b]! : keys[a]! < keys[b]!;
      const heap = new TopK(k, better);
      const lazy = this.lazyChecks;
      const slotDoc = this.slotDoc;
      for (let i = 0; i < nc; i++) {
        const s = cand[i]!;
        if (!pass(s)) continue;
        total++;
        // A phrase's pair filters, only for a row the page would take: the page is that of the
        // filtered rows all the same (a row the page refuses now it would refuse after filtering).
        if (lazy.length && (!heap.accepts(s) || !lazy.every((admits) => admits(slotDoc[s]!)))) continue;
        heap.push(s);
      }
      best = heap.sorted();
    } else {
      const years = this.years;
      const titles = this.titles;
      const keys = this.keys;
      const better = (a: number, b: number) => {
        if (years[a] !== years[b]) return years[a]! > years[b]!;
        const ta = titles[a];
        const tb = titles[b];
        if (ta !== tb) return ta === null ? true : tb === null ? false : ta! < tb!;
        return keys[a]! < keys[b]!;
      };
      const heap = new TopK(k, better);
      for (let s = 0; s < this.slots; s++) if (this.alive[s] && pass(s)) {
        total++;
        heap.push(s);
      }
      best = heap.sorted();
    }
    const page = best.slice(offset);
    return { ids: page.map((s) => this.slotId[s]!), keys: page.map((s) => this.keys[s]!), scores: page.map((s) => (q.text.length ? this.qscore[s]! : 0)), total };
  }

  // ---------------------------------------------------------------- internals

  private termId(tok: string): number {
    const id = this.terms.intern(tok);
    if (id >= this.addMark.length) {
      const cap = Math.max(1024, id * 2);
      const grow = (a: Int32Array) => {
        const b = new Int32Array(cap);
        b.set(a);
        return b;
      };
      this.addMark = grow(this.addMark);
      this.addTf = grow(this.addTf);
      this.addList = grow(this.addList);
    }
    return id;
  }

  /**
   * Sums, per live slot, the term frequencies of `tids` in the columns of `mask` into `acc`
   * (4 per slot). Returns how many slots were touched; they are `touched[0..n)`.
   */
  private gather(tids: number[], mask: number): number {
    const g = ++this.gen;
    const { seen, acc, touched, alive, csrStart, csrSlot, csrTf, log, logLen, termMark } = this;
    let n = 0;
    const mTitle = mask & 1 ? 15 : 0;
    const mAuthors = mask & 2 ? 7 : 0;
    const mAbstract = mask & 4 ? 63 : 0;
    const mVenue = mask & 8 ? 7 : 0;
    // One loop over both the merged block (for each term) and the log (filtered by term mark).
    const visitRange = (slots: Int32Array, tfs: Uint16Array | Int32Array, from: number, to: number, step: number, markCheck: boolean) => {
      for (let i = from; i < to; i += step) {
        if (markCheck && termMark[log[i]!] !== g) continue;
        const slot = markCheck ? log[i + 1]! : slots[i]!;
        if (!alive[slot]) continue;
        const p = markCheck ? log[i + 2]! : tfs[i]!;
        const b = slot << 2;
        if (seen[slot] !== g) {
          seen[slot] = g;
          acc[b] = acc[b + 1] = acc[b + 2] = acc[b + 3] = 0;
          touched[n++] = slot;
        }
        acc[b] += p & mTitle;
        acc[b + 1] += (p >> 4) & mAuthors;
        acc[b + 2] += (p >> 10) & mAbstract;
        acc[b + 3] += (p >> 7) & mVenue;
      }
    };
    for (const t of tids) if (t < this.csrTerms) visitRange(csrSlot, csrTf, csrStart[t]!, csrStart[t + 1]!, 1, false);
    if (logLen) {
      for (const t of tids) termMark[t] = g;
      visitRange(log, log, 0, logLen, 3, true);
    }
    if (mask !== ALL_COLUMNS) {
      // Drop slots whose hits were all in other columns.
      let m = 0;
      for (let i = 0; i < n; i++) {
        const b = touched[i]! * 4;
        if (acc[b]! + acc[b + 1]! + acc[b + 2]! + acc[b + 3]! > 0) touched[m++] = touched[i]!;
      }
      n = m;
    }
    return n;
  }

  /**
   * Runs the text terms; returns how many slots match all of them: they are `cand[0..n)`, their
   * scores in `qscore`.
   */
  private scoreText(terms: TextTerm[], mask: number, loadText: TextLoader, full?: FullTextSource): number {
    const qg = ++this.qgen;
    this.lazyChecks = [];
    const { qseen, qcount, qscore, acc, lens } = this;
    const N = Math.max(1, this.liveCount);
    const avg = this.lenSum.map((s) => s / N || 1);
    let nc = 0;
    for (let ti = 0; ti < terms.length; ti++) {
      const term = terms[ti]!;
      let n: number;
      if (term.scope === 'text') n = 0;
      else if (term.kind === 'phrase') n = this.gatherPhrase(term.tokens, mask, loadText);
      else {
        const tids = term.kind === 'prefix' ? this.terms.withPrefix(term.token) : this.terms.get(term.token) !== undefined ? [this.terms.get(term.token)!] : [];
        n = this.gather(tids, mask);
      }
      const touched = this.touched;
      const df = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) {
        const b = touched[i]! * 4;
        for (let c = 0; c < 4; c++) if (acc[b + c]! > 0) df[c]!++;
      }
      const idf = df.map((d) => Math.max(1e-6, Math.log((N - d + 0.5) / (d + 0.5))));
      for (let i = 0; i < n; i++) {
        const slot = touched[i]!;
        if (ti === 0) {
          qseen[slot] = qg;
          qcount[slot] = 0;
          qscore[slot] = 0;
        } else if (qseen[slot] !== qg || qcount[slot] !== ti) continue;
        const b = slot * 4;
        let s = 0;
        for (let c = 0; c < 4; c++) {
          const tf = acc[b + c]!;
          if (tf === 0) continue;
          s += WEIGHTS[c]! * idf[c]! * ((tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * lens[b + c]!) / avg[c]!)));
        }
        qscore[slot] += s;
        qcount[slot] = ti + 1;
      }
      if (ti === 0) {
        this.cand.set(touched.subarray(0, n));
        nc = n;
      }
      // The same term in the full text: a paper matches the term in any column.
      const ft = full && this.fullTextHits(term, full);
      if (ft && 'admits' in ft) this.lazyChecks.push(ft.admits as (doc: number) => boolean);
      if (ft) {
        const w = term.scope === 'text' ? FULLTEXT_WEIGHT_SCOPED : FULLTEXT_WEIGHT_BARE;
        for (let i = 0; i < ft.n; i++) {
          const slot = this.slotOfDoc(full.column, ft.docs[i]!);
          if (slot < 0 || !this.alive[slot]) continue;
          if (ti === 0 && qseen[slot] !== qg) {
            qseen[slot] = qg;
            qcount[slot] = 0;
            qscore[slot] = 0;
            this.cand[nc++] = slot;
          }
          if (qseen[slot] !== qg || (qcount[slot] !== ti && qcount[slot] !== ti + 1)) continue;
          qscore[slot] += w * ft.scores[i]!;
          qcount[slot] = ti + 1;
        }
      }
    }
    const all = terms.length;
    const cand = this.cand;
    let m = 0;
    for (let i = 0; i < nc; i++) if (qcount[cand[i]!] === all) cand[m++] = cand[i]!;
    return m;
  }

  /**
   * The slot of full-text paper `doc` (-1: none), looked up by key and remembered both ways
   * (docSlot, slotDoc), so that a known pair costs two integer reads: comparing the two keys as
   * strings for each of 10,000 hits was a fifth of a common word's search (cache misses).
   * A pair stays right: a paper number's key never changes until the column is cleared (its
   * epoch), and a slot's key never changes until slots are renumbered (compactSlots resets both).
   */
  private slotOfDoc(col: FullTextColumn, doc: number): number {
    if (col.epoch !== this.docSlotEpoch) {
      this.docSlot.fill(-1);
      this.docSlotEpoch = col.epoch;
    }
    if (doc >= this.docSlot.length) {
      const b = new Int32Array(Math.max(1024, doc * 2)).fill(-1);
      b.set(this.docSlot);
      this.docSlot = b;
    }
    const s = this.docSlot[doc]!;
    if (s >= 0 && this.slotDoc[s] === doc && this.alive[s]) return s;
    const found = this.slotOfKey.get(col.keyOf(doc)) ?? -1;
    this.docSlot[doc] = found;
    if (found >= 0) this.slotDoc[found] = doc;
    return found;
  }
  private docSlotEpoch = -1;
  /**
   * Checks of the last scoreText's phrases, by paper number (FullTextColumn.phraseCandidates):
   * every one of its rows got its paper number in slotDoc from slotOfDoc.
   */
  private lazyChecks: ((doc: number) => boolean)[] = [];
  private slotDoc = new Int32Array(0);
  private docSlot = new Int32Array(0);

  /**
   * The papers whose full text has `term`. Bare words match whole words only (a prefix of a few
   * letters would touch most papers of a large library while the user is still typing); a
   * `text:` word is a prefix from three letters; a `text:"phrase"` is checked on the text.
   */
  private fullTextHits(term: TextTerm, full: FullTextSource): TermHits | undefined {
    const col = full.column;
    if (!col.size) return undefined;
    if (term.kind !== 'phrase') {
      const ids = col.wordIds(term.token, term.scope === 'text' && term.kind === 'prefix' && term.token.length >= 3);
      return ids.length ? col.hits(ids) : undefined;
    }
    if (term.scope !== 'text') return undefined;
    return col.phraseCandidates(term.tokens);
  }

  /**
   * A "quoted phrase": the entries holding every word in one column are read back and checked
   * word by word; `acc` gets the phrase's occurrences per column. Returns the touched count.
   */
  private gatherPhrase(tokens: string[], mask: number, loadText: TextLoader): number {
    const tids = tokens.map((t) => this.terms.get(t));
    if (!tokens.length || tids.some((t) => t === undefined)) return 0;
    // Columns holding every word, per slot.
    const colsOf = new Map<number, number>();
    for (let j = 0; j < tids.length; j++) {
      const n = this.gather([tids[j]!], mask);
      const next = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const slot = this.touched[i]!;
        const b = slot * 4;
        let cols = 0;
        for (let c = 0; c < 4; c++) if (this.acc[b + c]! > 0) cols |= 1 << c;
        const prev = j === 0 ? ALL_COLUMNS : colsOf.get(slot);
        if (prev !== undefined && prev & cols) next.set(slot, prev & cols);
      }
      colsOf.clear();
      for (const [k, v] of next) colsOf.set(k, v);
      if (!colsOf.size) return 0;
    }
    const texts = loadText([...colsOf.keys()].map((s) => this.slotId[s]!));
    const g = ++this.gen;
    let n = 0;
    for (const [slot, cols] of colsOf) {
      const t = texts.get(this.slotId[slot]!);
      if (!t) continue;
      const b = slot * 4;
      let any = false;
      const counts = [0, 0, 0, 0];
      for (let c = 0; c < 4; c++) {
        if (!(cols & (1 << c))) continue;
        counts[c] = countPhrase(tokenize(t[c]), tokens);
        if (counts[c]) any = true;
      }
      if (!any) continue;
      this.seen[slot] = g;
      for (let c = 0; c < 4; c++) this.acc[b + c] = counts[c]!;
      this.touched[n++] = slot;
    }
    return n;
  }

  private predicate(f: Filter, loadText: TextLoader): (slot: number) => boolean {
    const p = this.positive(f, loadText);
    return f.neg ? (s) => !p(s) : p;
  }

  private positive(f: Filter, loadText: TextLoader): (slot: number) => boolean {
    switch (f.kind) {
      case 'author': {
        const hit = new Uint8Array(this.slots);
        for (const fid of this.familyNames.withPrefix(f.prefix)) for (const s of this.familySlots[fid]!) hit[s] = 1;
        // Dead slots stay in the lists until a merge; they are never candidates.
        return (s) => hit[s] === 1;
      }
      case 'year': {
        const lo = f.from ?? -Infinity;
        const hi = f.to ?? Infinity;
        const y = this.years;
        return (s) => y[s] !== NO_YEAR && y[s]! >= lo && y[s]! <= hi;
      }
      case 'tag': {
        const tags = this.tags;
        return (s) => tags[s]?.includes(f.tag) ?? false;
      }
      case 'has': {
        const bit = f.what === 'pdf' ? FLAG_PDF : f.what === 'doi' ? FLAG_DOI : FLAG_ABSTRACT;
        const flags = this.flags;
        return (s) => (flags[s]! & bit) !== 0;
      }
      case 'status': {
        const v = f.status;
        const { doiStatus, pdfStatus, flags } = this;
        return (s) => doiStatus[s] === v || pdfStatus[s] === v || (v === 'retracted' && (flags[s]! & FLAG_RETRACTED) !== 0);
      }
      case 'type': {
        const types = this.types;
        return (s) => types[s] === f.type;
      }
      case 'venue': {
        if (!f.prefixes.length) return () => false;
        // A text query of its own over the venue column; it uses the q* scratch, so it runs
        // before the main text terms (predicates are built first).
        const hit = new Uint8Array(this.slots);
        const n = this.scoreText(f.prefixes.map((token) => ({ kind: 'prefix', token })), 1 << VENUE_COLUMN, loadText);
        for (let i = 0; i < n; i++) hit[this.cand[i]!] = 1;
        return (s) => hit[s] === 1;
      }
      case 'doi': {
        const dois = this.dois;
        return (s) => dois[s] === f.doi;
      }
      case 'key': {
        const keys = this.keys;
        return (s) => keys[s] === f.key;
      }
    }
  }

  private ensureSlots(need: number): void {
    if (need <= this.alive.length) return;
    const cap = Math.max(need, this.alive.length * 2, 256);
    const grow = <T extends Int32Array | Uint8Array | Uint16Array>(a: T, per: number): T => {
      const b = new (a.constructor as new (n: number) => T)(cap * per);
      b.set(a);
      return b;
    };
    this.slotId = grow(this.slotId, 1);
    const sd = new Int32Array(cap).fill(-1);
    sd.set(this.slotDoc);
    this.slotDoc = sd;
    this.alive = grow(this.alive, 1);
    this.lens = grow(this.lens, 4);
    this.years = grow(this.years, 1);
    this.flags = grow(this.flags, 1);
  }

  private ensureScratch(): void {
    const n = this.alive.length;
    if (this.seen.length < n) {
      this.seen = new Int32Array(n);
      this.acc = new Int32Array(n * 4);
      this.touched = new Int32Array(n);
      this.cand = new Int32Array(n);
      this.qseen = new Int32Array(n);
      this.qcount = new Int32Array(n);
      this.qscore = new Float64Array(n);
      this.gen = 0;
      this.qgen = 0;
    }
    if (this.termMark.length < this.terms.size) {
      this.termMark = new Int32Array(Math.max(this.terms.size, this.termMark.length * 2, 1024));
    }
    // Fresh arrays are zero; generations start above zero so no stale stamp can match.
  }

  private compactSlots(remap: Int32Array, live: number): void {
    const pick = <T>(a: T[]): T[] => {
      const out: T[] = new Array(live);
      for (let s = 0; s < remap.length; s++) if (remap[s]! >= 0) out[remap[s]!] = a[s]!;
      return out;
    };
    const pickTyped = <T extends Int32Array | Uint8Array | Uint16Array>(a: T, per: number): T => {
      const out = new (a.constructor as new (n: number) => T)(Math.max(live, 256) * per);
      for (let s = 0; s < remap.length; s++) {
        const d = remap[s]!;
        if (d < 0) continue;
        for (let j = 0; j < per; j++) out[d * per + j] = a[s * per + j]!;
      }
      return out;
    };
    this.keys = pick(this.keys);
    this.titles = pick(this.titles);
    this.doiStatus = pick(this.doiStatus);
    this.pdfStatus = pick(this.pdfStatus);
    this.types = pick(this.types);
    this.tags = pick(this.tags);
    this.dois = pick(this.dois);
    this.venues = pick(this.venues);
    this.rawTypes = pick(this.rawTypes);
    this.names = pick(this.names);
    this.slotId = pickTyped(this.slotId, 1);
    this.alive = pickTyped(this.alive, 1);
    this.lens = pickTyped(this.lens, 4);
    this.years = pickTyped(this.years, 1);
    this.flags = pickTyped(this.flags, 1);
    for (let fid = 0; fid < this.familySlots.length; fid++) {
      const next: number[] = [];
      for (const s of this.familySlots[fid]!) if (remap[s]! >= 0) next.push(remap[s]!);
      this.familySlots[fid] = next;
    }
    this.idToSlot.clear();
    for (let s = 0; s < live; s++) this.idToSlot.set(this.slotId[s]!, s);
    this.slotOfKey.clear();
    for (let s = 0; s < live; s++) this.slotOfKey.set(this.keys[s]!, s);
    this.slots = live;
    this.deadCount = 0;
    this.slotDoc = new Int32Array(Math.max(live, 256)).fill(-1);
    this.docSlot.fill(-1);
    // Scratch arrays are indexed by slot: force fresh ones so no stale stamp survives renumbering.
    this.seen = new Int32Array(0);
  }
}

function countPhrase(words: string[], phrase: string[]): number {
  let n = 0;
  outer: for (let i = 0; i + phrase.length <= words.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (words[i + j] !== phrase[j]) continue outer;
    n++;
  }
  return n;
}

/** Keeps the k best of a stream (`better(a, b)`: a ranks before b). */
class TopK {
  private h: number[] = [];
  constructor(
    private readonly k: number,
    private readonly better: (a: number, b: number) => boolean,
  ) {}

  /** Whether push(x) would keep x (now). */
  accepts(x: number): boolean {
    return this.h.length < this.k || this.better(x, this.h[0]!);
  }

  push(x: number): void {
    const h = this.h;
    if (h.length < this.k) {
      h.push(x);
      // Sift up: the root is the worst kept.
      let i = h.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.better(h[p]!, h[i]!)) break;
        [h[p], h[i]] = [h[i]!, h[p]!];
        i = p;
      }
      return;
    }
    if (!this.better(x, h[0]!)) return;
    h[0] = x;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < h.length && this.better(h[w]!, h[l]!)) w = l;
      if (r < h.length && this.better(h[w]!, h[r]!)) w = r;
      if (w === i) break;
      [h[w], h[i]] = [h[i]!, h[w]!];
      i = w;
    }
  }

  sorted(): number[] {
    return [...this.h].sort((a, b) => (this.better(a, b) ? -1 : this.better(b, a) ? 1 : 0));
  }
}
