/**
 * Snippets and phrase checks read from a paper's fulltext.txt, for the rows a search returns.
 *
 * Why not decode and fold the whole text: a paper's text is some 50 kB, and decoding plus
 * lower-casing it costs about as much as the rest of a search; a page of 50 rows would cost
 * several milliseconds. Instead the query word is looked for in the file's bytes (Buffer.indexOf,
 * in its lower-case, Capitalised and UPPER forms), and only a few hundred bytes around a candidate
 * are decoded and checked with the same rules as the tokenizer (findTerm). Which bytes are read
 * first: where the column says the word first occurs (its place in 256ths of the text, ±1 kB), or
 * the first 16 kB. A word in another case mix, or with letters outside ASCII, or not found where
 * it was expected, falls back to the whole file.
 */
import { isAscii } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FULLTEXT_MAGIC } from '../storage/fulltext';
import { findTerm, foldSameLength, snippetOf, type Snippet, type SnippetTerm } from './fullText';

const MAGIC = Buffer.from(`${FULLTEXT_MAGIC} `);
/** Bytes decoded each side of a candidate hit (more than a snippet's half width, 80 characters). */
const MARGIN = 320;
const ASCII = /^[\x00-\x7f]*$/;
/**
 * Bytes read first (some 2,500 words): a word most papers hold is found in them, so a page of
 * results for a common word reads 50 × 16 kB, not 50 whole texts; the rest is read when needed.
 */
const FIRST_CHUNK = 16 * 1024;
function termId(t: SnippetTerm): string {
  return (t.prefix ? '*' : '=') + t.tokens.join(' ');
}

/** fastFindIn's "cannot tell from these bytes". */
const UNSURE = -2;

function isWordByte(c: number): boolean {
  // Bytes from 0x80 belong to a non-ASCII character, which may be a letter: treated as one.
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c >= 0x80;
}

function isSpaceByte(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0c || c === 0x09 || c === 0x0d;
}

/**
 * The first chunk of the file read last: one buffer reused (a search reads 50 files in a row;
 * allocating 16 kB for each is a measurable part of it). The TextFile holding it gets a copy
 * of its own when the next one is read.
 */
const scratch = Buffer.allocUnsafe(FIRST_CHUNK);
let scratchOwner: TextFile | undefined;
/** The buffer of readWhole, grown as needed; its holder is scratchOwner too. */
let wholeScratch = Buffer.allocUnsafe(64 * 1024);
/** Bytes read each side of where the column says a word first is (its place is within 1/256 of the text, for ASCII text). */
const AROUND = 1024;
/** The header line is some 110 bytes (storage/fulltext.ts). */
const HEADER_MAX = 256;

/** A stored text, read in part (around a hint, or its beginning), asked several questions, then closed. */
export class TextFile {
  /** File offset of buf[0]; index in buf where the text begins (0 when buf starts inside the text). */
  private base = 0;
  private start: number;
  private textStart: number;
  private reachesEnd: boolean;
  private complete: boolean;
  private whole: { text: string; folded: string } | undefined;

  private constructor(
    private fd: number | undefined,
    private buf: Buffer,
    textStart: number,
    base: number,
    reachesEnd: boolean,
  ) {
    this.textStart = textStart;
    this.base = base;
    this.start = Math.max(0, textStart - base);
    this.reachesEnd = reachesEnd;
    this.complete = base <= textStart && reachesEnd;
  }

  /**
   * The text at `file`, or undefined when there is none (missing, not a fulltext.txt). `place`:
   * where the word asked for first occurs, in 256ths of the text (FullTextColumn.firstPlace).
   * Call close() after use.
   */
  static read(file: string, place?: number, textLength?: number): TextFile | undefined {
    const fd = TextFile.open(file);
    if (fd === undefined) return undefined;
    try {
      // Where the word is expected, in bytes of the text (characters: the same for ASCII text).
      const at = place !== undefined && place > 0 && textLength ? Math.floor((place / 256) * textLength) : 0;
      const span = textLength ? Math.ceil(textLength / 256) : 0;
      if (at + span + AROUND + HEADER_MAX < FIRST_CHUNK) {
        const n = readSync(fd, scratch, 0, FIRST_CHUNK, 0);
        const head = scratch.subarray(0, n);
        const textStart = TextFile.header(head);
        if (textStart < 0) {
          closeSync(fd);
          return undefined;
        }
        const complete = n < FIRST_CHUNK;
        if (complete) closeSync(fd);
        return (scratchOwner = new TextFile(complete ? undefined : fd, head, textStart, 0, complete));
      }
      // Far into the text: its header line, then the window around the place (one byte more, to tell whether the file goes on).
      const n = readSync(fd, scratch, 0, HEADER_MAX, 0);
      const textStart = TextFile.header(scratch.subarray(0, n));
      if (textStart < 0) {
        closeSync(fd);
        return undefined;
      }
      const from = textStart + Math.max(0, at - AROUND);
      const len = span + 2 * AROUND;
      const win = Buffer.allocUnsafe(len + 1);
      let got = 0;
      while (got < win.length) {
        const k = readSync(fd, win, got, win.length - got, from + got);
        if (k === 0) break;
        got += k;
      }
      return new TextFile(fd, win.subarray(0, Math.min(got, len)), textStart, from, got <= len);
    } catch {
      closeSync(fd);
      return undefined;
    }
  }

  /**
   * The whole text at `file` in one read (a phrase is checked on all of it, so reading its first
   * 16 kB, then the rest, cost a read more for most rows). `textLength`: its characters, from the
   * column (a guess of its bytes; a longer file is read to its end all the same).
   */
  static readWhole(file: string, textLength: number): TextFile | undefined {
    const fd = TextFile.open(file);
    if (fd === undefined) return undefined;
    try {
      const size = HEADER_MAX + textLength + 1;
      // One buffer for every whole text read (a phrase query reads tens of 50 kB texts: fresh
      // buffers for them were a good part of its garbage), as for the first chunks.
      if (wholeScratch.length < size) wholeScratch = Buffer.allocUnsafe(Math.max(size, 2 * wholeScratch.length));
      const buf = wholeScratch;
      let got = 0;
      while (got < size) {
        const k = readSync(fd, buf, got, size - got, got);
        if (k === 0) break;
        got += k;
      }
      const textStart = TextFile.header(buf.subarray(0, Math.min(got, HEADER_MAX)));
      if (textStart < 0) {
        closeSync(fd);
        return undefined;
      }
      const complete = got < size;
      if (complete) closeSync(fd);
      const f = new TextFile(complete ? undefined : fd, buf.subarray(0, got), textStart, 0, complete);
      scratchOwner = f;
      if (!complete) f.readAll();
      return f;
    } catch {
      closeSync(fd);
      return undefined;
    }
  }

  /** `file` opened for reading, the shared buffers handed back by their holder; undefined when it cannot be opened. */
  private static open(file: string): number | undefined {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return undefined;
    }
    if (scratchOwner) scratchOwner.ownBuffer();
    return fd;
  }

  /** Where the text begins in bytes that start the file, or -1 when they are not a fulltext.txt. */
  private static header(head: Buffer): number {
    if (head.length < MAGIC.length || head.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0) return -1;
    const nl = head.indexOf(10);
    return nl < 0 ? (head.length < HEADER_MAX ? head.length : -1) : nl + 1;
  }

  /** Closes the file (when it was not read to its end). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (scratchOwner === this) scratchOwner = undefined;
  }

  private ownBuffer(): void {
    if (this.buf.buffer === scratch.buffer || this.buf.buffer === wholeScratch.buffer) this.buf = Buffer.from(this.buf);
    scratchOwner = undefined;
  }

  /** Reads the whole file; false when that failed (what was read is then all there is to go on). */
  private readAll(): boolean {
    if (this.complete) return true;
    if (this.fd === undefined) return false;
    try {
      const size = fstatSync(this.fd).size;
      const all = Buffer.allocUnsafe(size);
      let at = 0;
      while (at < all.length) {
        const n = readSync(this.fd, all, at, all.length - at, at);
        if (n === 0) break;
        at += n;
      }
      this.buf = all.subarray(0, at);
      this.found.clear();
    } catch {
      return false;
    } finally {
      this.close();
    }
    if (scratchOwner === this) scratchOwner = undefined;
    this.base = 0;
    this.start = this.textStart;
    this.reachesEnd = true;
    this.complete = true;
    return true;
  }

  /** Whether `t` occurs in the text (as findTerm defines it). */
  has(t: SnippetTerm): boolean {
    // A hit of the byte search also serves the snippet made next (snippet() asks found first).
    const p = this.fastFind(t);
    if (p !== undefined) {
      this.found.set(termId(t), p);
      return true;
    }
    const w = this.wholeText();
    return findTerm(w.folded, t.tokens, t.prefix) !== undefined;
  }

  /** Where has() found a term in buf (by termId), while buf is not replaced. */
  private found = new Map<string, number>();

  /** About `width` characters around the first occurrence of any of `terms` (snippetOf's rules). */
  snippet(terms: SnippetTerm[], width = 160): Snippet | undefined {
    // Already decoded and folded (a phrase checked on the whole text): the definition itself.
    if (this.whole) return snippetOf(this.whole.text, terms, width, this.whole.folded);
    // The first hit of the forms found (a word in another case mix earlier is missed: a later hit still makes a right snippet).
    // First in the bytes read: a term whose forms are certainly not there (not merely undecided)
    // occurs only after them — the bytes start at the text's start, or at the place the column
    // gives for the earliest of the query's words — so it cannot come before a hit found there,
    // and the rest of the file is not read for it (two words: one of them is rarely in the window).
    let best = -1;
    let sure = true;
    for (const t of terms) {
      const p = this.found.get(termId(t)) ?? this.fastFindIn(t);
      if (p === UNSURE) sure = false;
      else if (p !== undefined && (best < 0 || p < best)) best = p;
    }
    if (!sure || best < 0) best = -1;
    for (const t of best < 0 ? terms : []) {
      const p = this.fastFind(t);
      if (p !== undefined && (best < 0 || p < best)) best = p;
    }
    if (best < 0) {
      const w = this.wholeText();
      return snippetOf(w.text, terms, width, w.folded);
    }
    // The window would reach past the bytes read: read the whole file, so its ends are the text's.
    if ((best + MARGIN > this.buf.length && !this.reachesEnd) || (best - MARGIN < this.start && this.base > this.textStart)) {
      const abs = this.base + best;
      if (this.readAll()) best = abs - this.base;
    }
    const { buf, start } = this;
    const atTextStart = this.base <= this.textStart;
    let from = Math.max(start, best - MARGIN);
    let to = Math.min(buf.length, best + MARGIN);
    // Cut at spaces, so the window starts and ends on whole characters and whole words.
    if (from > start || !atTextStart) {
      let i = from;
      while (i < best && !isSpaceByte(buf[i]!)) i++;
      from = i < best ? i + 1 : best;
    }
    if (to < buf.length) {
      let i = to;
      while (i > best && !isSpaceByte(buf[i]!)) i--;
      to = i > best ? i : to;
    }
    const text = buf.toString('utf8', from, to);
    const s = snippetOf(text, terms, width);
    if (!s) {
      const w = this.wholeText();
      return snippetOf(w.text, terms, width, w.folded);
    }
    if ((from > start || !atTextStart) && !s.before.startsWith('…')) s.before = '…' + s.before;
    if ((to < buf.length || !this.reachesEnd) && !s.after.endsWith('…')) s.after += '…';
    return s;
  }

  /**
   * The offset in buf of the first occurrence of `t` in its lower-case, Capitalised or UPPER form;
   * undefined when none is found this way (then only the whole text can tell: another case mix,
   * a word outside ASCII, or no occurrence at all).
   */
  private fastFind(t: SnippetTerm): number | undefined {
    const p = this.fastFindIn(t);
    if ((p !== undefined && p !== UNSURE) || this.complete || !this.readAll()) return p === UNSURE ? undefined : p;
    const q = this.fastFindIn(t);
    return q === UNSURE ? undefined : q;
  }

  /**
   * Where `t` first is in the bytes read, in one of its three forms; undefined when no form is
   * there; UNSURE when this way cannot tell (outside ASCII, too many places that are not whole
   * words, a hit cut at the end of the bytes).
   */
  private fastFindIn(t: SnippetTerm): number | undefined {
    // A phrase is looked for as written most of the time (one space between its words), so its
    // first word alone, which may be a frequent one, does not have to be checked at every place.
    const first = t.tokens.join(' ');
    if (!first || !ASCII.test(first)) return UNSURE;
    const forms = new Set([first, first[0]!.toUpperCase() + first.slice(1), first.toUpperCase()]);
    const { buf, start } = this;
    const atTextStart = this.base <= this.textStart;
    const span = t.tokens.reduce((a, k) => a + k.length + 8, 0) + (t.prefix ? 64 : 8);
    let best = -1;
    for (const form of forms) {
      // Each further form is looked for only before the hit found so far.
      const hay = best < 0 ? buf : buf.subarray(0, best);
      let tries = 0;
      for (let p = hay.indexOf(form, start, 'latin1'); p >= 0; p = hay.indexOf(form, p + 1, 'latin1')) {
        // At the first byte of a window inside the text, the byte before is unknown: not taken.
        if (p > start ? isWordByte(buf[p - 1]!) : !atTextStart) continue;
        // Many places that are not whole words (a short word inside longer ones): one pass over the whole text is cheaper.
        if (++tries > 8) return UNSURE;
        const end = Math.min(buf.length, p + span);
        const sub = buf.toString('utf8', p, end);
        const m = findTerm(foldSameLength(sub), t.tokens, t.prefix);
        if (!m || m.at !== 0) continue;
        // The check ran (almost) to the end of the bytes decoded, maybe into a cut character: the word may go on past them.
        if (m.len >= sub.length - 2 && (end < buf.length || !this.reachesEnd)) return UNSURE;
        best = p;
        break;
      }
    }
    return best < 0 ? undefined : best;
  }

  private wholeText(): { text: string; folded: string } {
    if (!this.whole) {
      this.readAll();
      // ASCII bytes (most texts): latin1 is the same decoding, and folding is lower-casing; telling
      // so from the bytes costs a tenth of foldSameLength's test on the decoded string.
      if (isAscii(this.buf.subarray(this.start))) {
        const text = this.buf.toString('latin1', this.start);
        this.whole = { text, folded: text.toLowerCase() };
      } else {
        const text = this.buf.toString('utf8', this.start);
        this.whole = { text, folded: foldSameLength(text) };
      }
    }
    return this.whole;
  }
}
