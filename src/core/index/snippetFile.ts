/**
 * Snippets and phrase checks read from a paper's fulltext.txt, for the rows a search returns.
 *
 * Why not decode and fold the whole text: a paper's text is some 50 kB, and decoding plus
 * lower-casing it costs about as much as the rest of a search; a page of 50 rows would cost
 * several milliseconds. Instead the query word is looked for in the file's bytes (Buffer.indexOf,
 * in its lower-case, Capitalised and UPPER forms), and only a few hundred bytes around a candidate
 * are decoded and checked with the same rules as the tokenizer (findTerm). A word in another
 * case mix, or with letters outside ASCII, falls back to the whole text.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
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

function isWordByte(c: number): boolean {
  // Bytes from 0x80 belong to a non-ASCII character, which may be a letter: treated as one.
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c >= 0x80;
}

function isSpaceByte(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0c || c === 0x09 || c === 0x0d;
}

/** A stored text, read once (its beginning first), asked several questions. */
export class TextFile {
  private start: number;
  private whole: { text: string; folded: string } | undefined;

  private constructor(
    private readonly file: string,
    private buf: Buffer,
    private complete: boolean,
  ) {
    const nl = buf.indexOf(10);
    this.start = nl < 0 ? buf.length : nl + 1;
  }

  /** The text at `file`, or undefined when there is none (missing, not a fulltext.txt). */
  static read(file: string): TextFile | undefined {
    let buf = Buffer.allocUnsafe(FIRST_CHUNK);
    let n: number;
    try {
      const fd = openSync(file, 'r');
      try {
        n = readSync(fd, buf, 0, FIRST_CHUNK, 0);
      } finally {
        closeSync(fd);
      }
    } catch {
      return undefined;
    }
    buf = buf.subarray(0, n);
    if (buf.length < MAGIC.length || buf.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0) return undefined;
    return new TextFile(file, buf, n < FIRST_CHUNK);
  }

  /** Reads the rest; false when the file has gone meanwhile. */
  private readAll(): boolean {
    if (this.complete) return true;
    try {
      this.buf = readFileSync(this.file);
    } catch {
      return false;
    }
    this.complete = true;
    const nl = this.buf.indexOf(10);
    this.start = nl < 0 ? this.buf.length : nl + 1;
    return true;
  }

  /** Whether `t` occurs in the text (as findTerm defines it). */
  has(t: SnippetTerm): boolean {
    if (this.fastFind(t) !== undefined) return true;
    const w = this.wholeText();
    return findTerm(w.folded, t.tokens, t.prefix) !== undefined;
  }

  /** About `width` characters around the first occurrence of any of `terms` (snippetOf's rules). */
  snippet(terms: SnippetTerm[], width = 160): Snippet | undefined {
    // The first hit of the forms found (a word in another case mix earlier is missed: a later hit still makes a right snippet).
    let best = -1;
    for (const t of terms) {
      const p = this.fastFind(t);
      if (p !== undefined && (best < 0 || p < best)) best = p;
    }
    if (best < 0) {
      const w = this.wholeText();
      return snippetOf(w.text, terms, width, w.folded);
    }
    // The window would reach past the bytes read so far: read the rest, so its end is the text's.
    if (best + MARGIN > this.buf.length) this.readAll();
    const { buf, start } = this;
    let from = Math.max(start, best - MARGIN);
    let to = Math.min(buf.length, best + MARGIN);
    // Cut at spaces, so the window starts and ends on whole characters and whole words.
    if (from > start) {
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
    if (from > start && !s.before.startsWith('…')) s.before = '…' + s.before;
    if (to < buf.length && !s.after.endsWith('…')) s.after += '…';
    return s;
  }

  /**
   * The byte offset of the first occurrence of `t` in its lower-case, Capitalised or UPPER form;
   * undefined when none is found this way (then only the whole text can tell: another case mix,
   * a word outside ASCII, or no occurrence at all).
   */
  private fastFind(t: SnippetTerm): number | undefined {
    const p = this.fastFindIn(t);
    if (p !== undefined || this.complete || !this.readAll()) return p;
    return this.fastFindIn(t);
  }

  private fastFindIn(t: SnippetTerm): number | undefined {
    // A phrase is looked for as written most of the time (one space between its words), so its
    // first word alone, which may be a frequent one, does not have to be checked at every place.
    const first = t.tokens.join(' ');
    if (!first || !ASCII.test(first)) return undefined;
    const forms = new Set([first, first[0]!.toUpperCase() + first.slice(1), first.toUpperCase()]);
    const { buf, start } = this;
    const span = t.tokens.reduce((a, k) => a + k.length + 8, 0) + (t.prefix ? 64 : 8);
    let best = -1;
    for (const form of forms) {
      // Each further form is looked for only before the hit found so far.
      const hay = best < 0 ? buf : buf.subarray(0, best);
      let tries = 0;
      for (let p = hay.indexOf(form, start, 'latin1'); p >= 0; p = hay.indexOf(form, p + 1, 'latin1')) {
        if (p > start && isWordByte(buf[p - 1]!)) continue;
        // Many places that are not whole words (a short word inside longer ones): one pass over the whole text is cheaper.
        if (++tries > 8) return undefined;
        const end = Math.min(buf.length, p + span);
        const sub = buf.toString('utf8', p, end);
        const m = findTerm(foldSameLength(sub), t.tokens, t.prefix);
        if (!m || m.at !== 0) continue;
        // The check ran (almost) to the end of the bytes decoded, maybe into a cut character: the word may go on past them.
        if (m.len >= sub.length - 2 && (end < buf.length || !this.complete)) return undefined;
        best = p;
        break;
      }
    }
    return best < 0 ? undefined : best;
  }

  private wholeText(): { text: string; folded: string } {
    if (!this.whole) {
      this.readAll();
      const text = this.buf.toString('utf8', this.start);
      this.whole = { text, folded: foldSameLength(text) };
    }
    return this.whole;
  }
}
