/**
 * Tolerant BibTeX/BibLaTeX parser with source spans.
 *
 * Written for speed on large bibliographies (one linear pass over char codes, no regex per
 * character) and for keeping the rest of a file when one entry is broken: a failing entry
 * yields a `BibError` and parsing resumes at the next `@` that starts a line.
 *
 * Offsets are UTF-16 indices into the text given to `parseBib`; lines and columns are 1-based
 * (column counted in UTF-16 units). Entry types, field names and `@string` names are
 * lower-cased; citation keys are kept as written.
 *
 * Text outside entries is free text. A `%` at top level comments out the rest of its line
 * (biber behaviour), so a line-by-line commented entry (`%@article{...`) is not an entry.
 * `@comment` followed by `{`/`(` skips the balanced block; without a delimiter it skips the line.
 */

export interface Span {
  start: number;
  end: number;
}

export interface BibField {
  /** Lower-cased field name. */
  name: string;
  /** Value as written, including delimiters (text of `valueSpan`). */
  raw: string;
  /** Macros expanded, `#` parts concatenated, outer delimiters removed; LaTeX kept. */
  value: string;
  /** From the first character of the name to the end of the value (comma excluded). */
  span: Span;
  nameSpan: Span;
  valueSpan: Span;
  delimiter: '{' | '"' | 'bare' | 'concat';
}

export interface BibEntry {
  /** Lower-cased entry type (`article`, `inproceedings`, …). */
  type: string;
  key: string;
  /** Keyed by lower-cased name; on duplicate fields the first one is kept (and a warning recorded). */
  fields: Map<string, BibField>;
  /** From `@` to the closing delimiter, inclusive. */
  span: Span;
  keySpan: Span;
  /** Between the opening and the closing delimiter. */
  bodySpan: Span;
  /** Line and column of the `@`, 1-based. */
  line: number;
  column: number;
}

export interface BibError {
  /** Stable code, e.g. `E_BIB_UNTERMINATED`, `E_BIB_DUP_KEY`, `W_BIB_UNDEFINED_MACRO`. */
  code: string;
  severity: 'error' | 'warning';
  message: string;
  line: number;
  column: number;
  offset: number;
}

export interface BibFile {
  text: string;
  entries: BibEntry[];
  /** User `@string` macros, lower-cased names → expanded value. */
  strings: Map<string, string>;
  preambles: string[];
  errors: BibError[];
  /** EOL of the first line break ('\n' when the file has none). */
  eol: '\n' | '\r\n';
}

/** BibTeX's standard month macros (as defined by the standard styles). */
export const MONTH_MACROS: ReadonlyMap<string, string> = new Map([
  ['jan', 'January'],
  ['feb', 'February'],
  ['mar', 'March'],
  ['apr', 'April'],
  ['may', 'May'],
  ['jun', 'June'],
  ['jul', 'July'],
  ['aug', 'August'],
  ['sep', 'September'],
  ['oct', 'October'],
  ['nov', 'November'],
  ['dec', 'December'],
]);

const AT = 64;
const LBRACE = 123;
const RBRACE = 125;
const LPAREN = 40;
const RPAREN = 41;
const QUOTE = 34;
const COMMA = 44;
const EQ = 61;
const HASH = 35;
const PCT = 37;
const NL = 10;
const CR = 13;
const SP = 32;
const TAB = 9;

function isWs(c: number): boolean {
  return c === SP || c === NL || c === CR || c === TAB || c === 12 || c === 11 || c === 0xa0 || c === 0xfeff;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Characters allowed in entry types. */
function isTypeChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45;
}

/** Field names and macro names: anything but whitespace and BibTeX syntax characters. */
function isNameChar(c: number): boolean {
  if (isWs(c)) return false;
  switch (c) {
    case LBRACE:
    case RBRACE:
    case LPAREN:
    case RPAREN:
    case QUOTE:
    case COMMA:
    case EQ:
    case HASH:
    case PCT:
    case AT:
    case 39: // '
      return false;
  }
  return true;
}

/** Longest value (after macro expansion) the parser keeps; real fields are a few KB at most. */
const MAX_VALUE_LENGTH = 1 << 24;

class EntryFailure {
  constructor(
    readonly code: string,
    readonly message: string,
    readonly offset: number,
  ) {}
}

/** Line-start offsets for 1-based line/column lookup. */
export class LineIndex {
  private readonly starts: number[] = [0];
  /** Lines of the text, counting the empty one after a final newline. */
  get lineCount(): number {
    return this.starts.length;
  }
  /** Offset where a 0-based line starts. */
  lineStart(line: number): number {
    return this.starts[line];
  }
  constructor(text: string) {
    let i = text.indexOf('\n');
    while (i >= 0) {
      this.starts.push(i + 1);
      i = text.indexOf('\n', i + 1);
    }
  }
  position(offset: number): { line: number; column: number } {
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - s[lo] + 1 };
  }
}

export function parseBib(text: string): BibFile {
  return new Parser(text).run();
}

class Parser {
  private pos = 0;
  private readonly len: number;
  private readonly lines: LineIndex;
  private readonly entries: BibEntry[] = [];
  private readonly strings = new Map<string, string>();
  private readonly preambles: string[] = [];
  private readonly errors: BibError[] = [];
  private readonly keys = new Map<string, BibEntry>();

  constructor(private readonly text: string) {
    this.len = text.length;
    this.lines = new LineIndex(text);
  }

  run(): BibFile {
    const { text } = this;
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
    while (this.pos < this.len) {
      const at = text.indexOf('@', this.pos);
      if (at < 0) break;
      if (this.inTopLevelComment(at)) {
        const nl = text.indexOf('\n', at);
        this.pos = nl < 0 ? this.len : nl + 1;
        continue;
      }
      this.pos = at + 1;
      try {
        this.parseAt(at);
      } catch (e) {
        if (!(e instanceof EntryFailure)) throw e;
        this.error(e.code, e.message, e.offset);
        this.pos = this.nextLineStartAt(at + 1);
      }
    }
    const nl = text.indexOf('\n');
    return {
      text,
      entries: this.entries,
      strings: this.strings,
      preambles: this.preambles,
      errors: this.errors,
      eol: nl > 0 && text.charCodeAt(nl - 1) === CR ? '\r\n' : '\n',
    };
  }

  private error(code: string, message: string, offset: number, severity: 'error' | 'warning' = 'error'): void {
    const { line, column } = this.lines.position(offset);
    this.errors.push({ code, severity, message: `${message} (line ${line}, column ${column})`, line, column, offset });
  }

  /** How far inTopLevelComment has scanned, and the first unescaped `%` of that line (-1: none). */
  private commentScan = 0;
  private commentPct = -1;

  /**
   * True if a `%` precedes `at` on its line (outside entries, `%` comments out the line).
   * Scans forward from where the last call stopped (`at` only grows), so a long line full of
   * `@` costs linear time, not quadratic.
   */
  private inTopLevelComment(at: number): boolean {
    const { text } = this;
    if (at < this.commentScan) {
      this.commentScan = text.lastIndexOf('\n', at - 1) + 1;
      this.commentPct = -1;
    }
    for (let i = this.commentScan; i < at; i++) {
      const c = text.charCodeAt(i);
      if (c === NL) this.commentPct = -1;
      else if (c === PCT && this.commentPct < 0 && (i === 0 || text.charCodeAt(i - 1) !== 92)) this.commentPct = i;
    }
    this.commentScan = at;
    return this.commentPct >= 0;
  }

  private nextLineStartAt(from: number): number {
    const i = this.text.indexOf('\n@', from - 1);
    return i < 0 ? this.len : i + 1;
  }

  /** Is `i` (just after a newline) the start of a new entry header `@type{` / `@type(`? */
  private looksLikeEntryStart(i: number): boolean {
    const { text } = this;
    if (text.charCodeAt(i) !== AT) return false;
    let j = i + 1;
    while (j < this.len && isTypeChar(text.charCodeAt(j))) j++;
    if (j === i + 1) return false;
    while (j < this.len && (text.charCodeAt(j) === SP || text.charCodeAt(j) === TAB)) j++;
    const c = text.charCodeAt(j);
    return c === LBRACE || c === LPAREN;
  }

  private skipWs(): void {
    const { text } = this;
    while (this.pos < this.len && isWs(text.charCodeAt(this.pos))) this.pos++;
  }

  /** Whitespace and `%` line comments between fields. */
  private skipWsAndComments(): void {
    const { text } = this;
    for (;;) {
      this.skipWs();
      if (text.charCodeAt(this.pos) !== PCT) return;
      const nl = text.indexOf('\n', this.pos);
      this.pos = nl < 0 ? this.len : nl + 1;
    }
  }

  private parseAt(at: number): void {
    const { text } = this;
    let p = at + 1;
    while (p < this.len && isWs(text.charCodeAt(p))) p++;
    const typeStart = p;
    while (p < this.len && isTypeChar(text.charCodeAt(p))) p++;
    if (p === typeStart) return; // a stray '@' in free text
    const type = text.slice(typeStart, p).toLowerCase();
    while (p < this.len && isWs(text.charCodeAt(p))) p++;
    const open = text.charCodeAt(p);
    if (open !== LBRACE && open !== LPAREN) {
      if (type === 'comment') {
        const nl = text.indexOf('\n', p);
        this.pos = nl < 0 ? this.len : nl + 1;
        return;
      }
      // Mid-line `@word` is free text (e-mail addresses and the like); at a line start it is a broken header.
      if (at === 0 || text.charCodeAt(at - 1) === NL) {
        throw new EntryFailure('E_BIB_SYNTAX', `expected '{' or '(' after @${type}`, p);
      }
      return;
    }
    const close = open === LBRACE ? RBRACE : RPAREN;
    this.pos = p + 1;
    if (type === 'comment') {
      this.pos = this.skipBalanced(p, close) + 1;
    } else if (type === 'preamble') {
      this.skipWs();
      const v = this.parseValue(close);
      this.preambles.push(v.value);
      this.expectClose(close, p);
    } else if (type === 'string') {
      this.parseString(close, p);
    } else {
      this.parseEntry(at, type, p, close);
    }
  }

  /** Skips a `{…}` or `(…)` block opened at `openPos`; returns the offset of its closing delimiter. */
  private skipBalanced(openPos: number, close: number): number {
    const { text } = this;
    let depth = 0;
    for (let i = openPos + 1; i < this.len; i++) {
      const c = text.charCodeAt(i);
      if (c === LBRACE) depth++;
      else if (c === RBRACE) {
        if (depth === 0 && close === RBRACE) return i;
        depth--;
      } else if (c === RPAREN && close === RPAREN && depth <= 0) return i;
      else if (c === NL && this.looksLikeEntryStart(i + 1)) break;
    }
    throw new EntryFailure('E_BIB_UNTERMINATED', 'unterminated block (missing closing delimiter)', openPos);
  }

  private expectClose(close: number, openPos: number): void {
    this.skipWsAndComments();
    if (this.text.charCodeAt(this.pos) === COMMA) {
      this.pos++;
      this.skipWsAndComments();
    }
    if (this.text.charCodeAt(this.pos) !== close) {
      throw this.unexpected(`'${String.fromCharCode(close)}' closing the block opened at ${this.where(openPos)}`);
    }
    this.pos++;
  }

  private where(offset: number): string {
    const { line, column } = this.lines.position(offset);
    return `${line}:${column}`;
  }

  private unexpected(expected: string): EntryFailure {
    if (this.pos >= this.len) return new EntryFailure('E_BIB_EOF', `unexpected end of file, expected ${expected}`, this.len);
    const c = this.text[this.pos];
    const shown = c === '\n' || c === '\r' ? 'line break' : `'${c}'`;
    return new EntryFailure('E_BIB_SYNTAX', `unexpected ${shown}, expected ${expected}`, this.pos);
  }

  private readName(): string {
    const { text } = this;
    const start = this.pos;
    while (this.pos < this.len && isNameChar(text.charCodeAt(this.pos))) this.pos++;
    return text.slice(start, this.pos);
  }

  private parseString(close: number, openPos: number): void {
    this.skipWsAndComments();
    const namePos = this.pos;
    const name = this.readName();
    if (!name) throw this.unexpected('a macro name');
    this.skipWs();
    if (this.text.charCodeAt(this.pos) !== EQ) throw this.unexpected(`'=' after @string name`);
    this.pos++;
    this.skipWs();
    const v = this.parseValue(close);
    this.expectClose(close, openPos);
    const lower = name.toLowerCase();
    if (this.strings.has(lower)) this.error('W_BIB_DUP_STRING', `@string ${name} redefined`, namePos, 'warning');
    this.strings.set(lower, v.value);
  }

  private parseEntry(at: number, type: string, openPos: number, close: number): void {
    const { text } = this;
    this.skipWs();
    const keyStart = this.pos;
    while (this.pos < this.len) {
      const c = text.charCodeAt(this.pos);
      if (c === COMMA || c === close || isWs(c) || c === LBRACE || c === RBRACE) break;
      this.pos++;
    }
    const keyEnd = this.pos;
    const key = text.slice(keyStart, keyEnd);
    if (!key) throw this.unexpected('a citation key');
    this.skipWsAndComments();
    const afterKey = text.charCodeAt(this.pos);
    if (afterKey !== COMMA && afterKey !== close) throw this.unexpected(`',' after the key '${key}'`);

    const fields = new Map<string, BibField>();
    for (;;) {
      this.skipWsAndComments();
      const c = text.charCodeAt(this.pos);
      if (c === close) break;
      if (c === COMMA) {
        this.pos++;
        continue;
      }
      const nameStart = this.pos;
      const rawName = this.readName();
      if (!rawName) throw this.unexpected(`a field name or '${String.fromCharCode(close)}'`);
      const nameEnd = this.pos;
      this.skipWs();
      if (text.charCodeAt(this.pos) !== EQ) throw this.unexpected(`'=' after field name '${rawName}'`);
      this.pos++;
      this.skipWs();
      const v = this.parseValue(close);
      const name = rawName.toLowerCase();
      const field: BibField = {
        name,
        raw: text.slice(v.start, v.end),
        value: v.value,
        span: { start: nameStart, end: v.end },
        nameSpan: { start: nameStart, end: nameEnd },
        valueSpan: { start: v.start, end: v.end },
        delimiter: v.delimiter,
      };
      if (fields.has(name)) this.error('W_BIB_DUP_FIELD', `duplicate field '${rawName}' in '${key}' (first one kept)`, nameStart, 'warning');
      else fields.set(name, field);
      this.skipWsAndComments();
      const after = text.charCodeAt(this.pos);
      if (after !== COMMA && after !== close) {
        throw this.unexpected(`',' or '${String.fromCharCode(close)}' after the value of '${rawName}' (value starts at ${this.where(v.start)})`);
      }
    }
    const end = this.pos + 1;
    this.pos = end;
    const { line, column } = this.lines.position(at);
    const entry: BibEntry = {
      type,
      key,
      fields,
      span: { start: at, end },
      keySpan: { start: keyStart, end: keyEnd },
      bodySpan: { start: openPos + 1, end: end - 1 },
      line,
      column,
    };
    const prev = this.keys.get(key);
    if (prev) {
      this.error('E_BIB_DUP_KEY', `duplicate key '${key}' (first defined at line ${prev.line})`, keyStart);
    } else {
      this.keys.set(key, entry);
    }
    this.entries.push(entry);
  }

  /** Parses `part (# part)*`; leaves `pos` after the last part. */
  private parseValue(close: number): { start: number; end: number; value: string; delimiter: BibField['delimiter'] } {
    const { text } = this;
    const start = this.pos;
    let value = '';
    let parts = 0;
    let kind: BibField['delimiter'] = 'bare';
    let end = start;
    for (;;) {
      const c = text.charCodeAt(this.pos);
      if (c === LBRACE) {
        const stop = this.scanBraced(this.pos);
        value += text.slice(this.pos + 1, stop);
        this.pos = stop + 1;
        kind = '{';
      } else if (c === QUOTE) {
        const stop = this.scanQuoted(this.pos);
        value += text.slice(this.pos + 1, stop);
        this.pos = stop + 1;
        kind = '"';
      } else if (isDigit(c)) {
        const s = this.pos;
        while (this.pos < this.len && isDigit(text.charCodeAt(this.pos))) this.pos++;
        // `2001a` style bare values: treat as a macro name rather than a number.
        if (this.pos < this.len && isNameChar(text.charCodeAt(this.pos))) {
          this.pos = s;
          value += this.macro();
        } else value += text.slice(s, this.pos);
        kind = 'bare';
      } else if (this.pos < this.len && isNameChar(c) && c !== close) {
        value += this.macro();
        kind = 'bare';
      } else {
        throw this.unexpected('a value');
      }
      // `@string{a = a # a}` repeated doubles a value each time: refuse before it exhausts memory.
      if (value.length > MAX_VALUE_LENGTH) {
        throw new EntryFailure('E_BIB_TOO_LONG', `value longer than ${MAX_VALUE_LENGTH} characters (runaway @string expansion?)`, start);
      }
      parts++;
      end = this.pos;
      const save = this.pos;
      this.skipWs();
      if (text.charCodeAt(this.pos) === HASH) {
        this.pos++;
        this.skipWs();
        continue;
      }
      this.pos = save;
      break;
    }
    return { start, end, value, delimiter: parts > 1 ? 'concat' : kind };
  }

  private macro(): string {
    const namePos = this.pos;
    const name = this.readName();
    const lower = name.toLowerCase();
    const v = this.strings.get(lower) ?? MONTH_MACROS.get(lower);
    if (v !== undefined) return v;
    this.error('W_BIB_UNDEFINED_MACRO', `undefined macro '${name}' (kept as text)`, namePos, 'warning');
    return name;
  }

  /** Returns the offset of the `}` matching the `{` at `openPos`. */
  private scanBraced(openPos: number): number {
    const { text } = this;
    let depth = 0;
    for (let i = openPos + 1; i < this.len; i++) {
      const c = text.charCodeAt(i);
      if (c === LBRACE) depth++;
      else if (c === RBRACE) {
        if (depth === 0) return i;
        depth--;
      } else if (c === NL && this.looksLikeEntryStart(i + 1)) break;
    }
    throw new EntryFailure('E_BIB_UNTERMINATED', 'unterminated braced value (unbalanced braces)', openPos);
  }

  /** Returns the offset of the `"` closing the one at `openPos` (quotes inside braces do not count). */
  private scanQuoted(openPos: number): number {
    const { text } = this;
    let depth = 0;
    for (let i = openPos + 1; i < this.len; i++) {
      const c = text.charCodeAt(i);
      if (c === LBRACE) depth++;
      else if (c === RBRACE) {
        if (depth === 0) break;
        depth--;
      } else if (c === QUOTE && depth === 0) return i;
      else if (c === NL && this.looksLikeEntryStart(i + 1)) break;
    }
    throw new EntryFailure('E_BIB_UNTERMINATED', 'unterminated quoted value', openPos);
  }
}

/** Decodes a .bib file: UTF-8 unless the bytes are not valid UTF-8, then Latin-1. A UTF-8 BOM is removed from `text`. */
export function decodeBibBytes(buf: Uint8Array): { text: string; encoding: 'utf8' | 'latin1'; bom: boolean } {
  const bom = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
  const body = bom ? buf.subarray(3) : buf;
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body), encoding: 'utf8', bom };
  } catch {
    // Buffer's 'latin1' is true ISO-8859-1 (TextDecoder's is windows-1252), so encoding back is byte-exact.
    return { text: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1'), encoding: 'latin1', bom };
  }
}

/** Inverse of `decodeBibBytes`, for writing a file back in its own encoding. */
export function encodeBibText(text: string, encoding: 'utf8' | 'latin1', bom: boolean): Uint8Array {
  const body = Buffer.from(text, encoding);
  return bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]) : body;
}

/** Fields that biblatex never inherits through crossref/xdata. */
const NOT_INHERITED = new Set([
  'ids',
  'crossref',
  'xref',
  'xdata',
  'entryset',
  'entrysubtype',
  'execute',
  'label',
  'options',
  'presort',
  'related',
  'relatedoptions',
  'relatedstring',
  'relatedtype',
  'shorthand',
  'shorthandintro',
  'sortkey',
]);

const IN_TYPES = new Set(['inproceedings', 'incollection', 'inbook', 'bookinbook', 'suppbook', 'suppcollection', 'inreference', 'conference']);

const keyIndexCache = new WeakMap<BibFile, Map<string, BibEntry>>();

/** Looks an entry up by key (exact match, else case-insensitive). */
export function findEntry(file: BibFile, key: string): BibEntry | undefined {
  let idx = keyIndexCache.get(file);
  if (!idx) {
    idx = new Map();
    for (const e of file.entries) {
      if (!idx.has(e.key)) idx.set(e.key, e);
      const lower = '\0' + e.key.toLowerCase();
      if (!idx.has(lower)) idx.set(lower, e);
    }
    keyIndexCache.set(file, idx);
  }
  return idx.get(key) ?? idx.get('\0' + key.toLowerCase());
}

/**
 * The entry's fields plus those inherited through `crossref` and `xdata` (simplified biblatex
 * rules): the child's own fields win; for in-book types the parent's `title` becomes
 * `booktitle` (and `subtitle`/`titleaddon` likewise) instead of the child's title; an article's
 * parent title becomes `journaltitle`. Chains are followed; cycles are cut.
 */
export function resolvedFields(file: BibFile, entry: BibEntry): Map<string, BibField> {
  const out = new Map(entry.fields);
  const seen = new Set<BibEntry>([entry]);
  const inherit = (child: BibEntry, parent: BibEntry, viaXdata: boolean): void => {
    for (const [name, f] of parent.fields) {
      if (NOT_INHERITED.has(name)) continue;
      let target = name;
      if (!viaXdata && (name === 'title' || name === 'subtitle' || name === 'titleaddon' || name === 'shorttitle')) {
        if (IN_TYPES.has(child.type)) {
          if (name === 'shorttitle') continue;
          target = 'book' + name;
        } else if (child.type === 'article' && parent.type === 'periodical') {
          if (name !== 'title' && name !== 'subtitle') continue;
          target = name === 'title' ? 'journaltitle' : 'journalsubtitle';
        }
      }
      if (!out.has(target)) out.set(target, target === name ? f : { ...f, name: target });
    }
  };
  const visit = (e: BibEntry, depth: number): void => {
    if (depth > 16) return;
    const parents: Array<[BibEntry, boolean]> = [];
    const xdata = e.fields.get('xdata')?.value;
    if (xdata) {
      for (const k of xdata.split(',')) {
        const p = findEntry(file, k.trim());
        if (p) parents.push([p, true]);
      }
    }
    const cr = e.fields.get('crossref')?.value.trim();
    if (cr) {
      const p = findEntry(file, cr);
      if (p) parents.push([p, false]);
    }
    for (const [p, viaXdata] of parents) {
      if (seen.has(p)) continue;
      seen.add(p);
      inherit(e, p, viaXdata);
      visit(p, depth + 1);
    }
  };
  visit(entry, 0);
  return out;
}
