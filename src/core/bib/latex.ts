/**
 * LaTeX-in-BibTeX to plain Unicode, for display and matching. Not a TeX interpreter: it knows
 * accents, the usual special letters and escapes, drops unknown command names (keeping their
 * arguments' text) and all grouping braces. Math (`$…$`, `\(…\)`) is kept verbatim.
 */
import type { BibEntry } from './parse';

const ACCENT_SYMBOL: Record<string, string> = {
  '"': '\u0308',
  "'": '\u0301',
  '`': '\u0300',
  '^': '\u0302',
  '~': '\u0303',
  '=': '\u0304',
  '.': '\u0307',
};

const ACCENT_WORD: Record<string, string> = {
  c: '\u0327',
  v: '\u030c',
  u: '\u0306',
  H: '\u030b',
  k: '\u0328',
  r: '\u030a',
  d: '\u0323',
  b: '\u0331',
  t: '\u0361',
};

const WORDS: Record<string, string> = {
  ss: 'ß',
  SS: 'SS',
  o: 'ø',
  O: 'Ø',
  aa: 'å',
  AA: 'Å',
  ae: 'æ',
  AE: 'Æ',
  oe: 'œ',
  OE: 'Œ',
  l: 'ł',
  L: 'Ł',
  i: 'ı',
  j: 'ȷ',
  dh: 'ð',
  DH: 'Ð',
  th: 'þ',
  TH: 'Þ',
  ng: 'ŋ',
  NG: 'Ŋ',
  dj: 'đ',
  DJ: 'Đ',
  textendash: '–',
  textemdash: '—',
  ldots: '…',
  dots: '…',
  textellipsis: '…',
  textquoteleft: '‘',
  textquoteright: '’',
  textquotedblleft: '“',
  textquotedblright: '”',
  textasciitilde: '~',
  textbackslash: '\\',
  textunderscore: '_',
  textbar: '|',
  textless: '<',
  textgreater: '>',
  copyright: '©',
  textcopyright: '©',
  textregistered: '®',
  texttrademark: '™',
  textdegree: '°',
  S: '§',
  P: '¶',
  pounds: '£',
  euro: '€',
  LaTeX: 'LaTeX',
  TeX: 'TeX',
  BibTeX: 'BibTeX',
  par: ' ',
  newline: ' ',
  quad: ' ',
  qquad: ' ',
  space: ' ',
  relax: '',
  protect: '',
  noopsort: '',
};

/** Commands whose (first) argument is not text to show. */
const DROP_FIRST_ARG = new Set(['href', 'noopsort', 'label', 'ref', 'cite', 'hspace', 'vspace', 'color']);

const ESCAPES: Record<string, string> = {
  '&': '&',
  '%': '%',
  $: '$',
  _: '_',
  '#': '#',
  '{': '{',
  '}': '}',
  ' ': ' ',
  ',': ' ',
  ';': ' ',
  ':': ' ',
  '!': '',
  '-': '',
  '/': '',
  '\\': ' ',
  '@': '',
};

function isLetter(ch: string | undefined): boolean {
  return ch !== undefined && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'));
}

export function latexToUnicode(s: string): string {
  if (!/[\\{}~$`'-]/.test(s)) return s;
  const out: string[] = [];
  convert(s, 0, s.length, out);
  return out.join('').normalize('NFC');
}

/** Index just after the argument starting at `i` (a `{group}`, a control sequence, or one character), with its text. */
function readArg(s: string, i: number, end: number): { next: number; text: string } {
  while (i < end && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  if (i >= end) return { next: i, text: '' };
  if (s[i] === '{') {
    const close = matchBrace(s, i, end);
    const out: string[] = [];
    convert(s, i + 1, close, out);
    return { next: Math.min(close + 1, end), text: out.join('') };
  }
  if (s[i] === '\\') {
    let j = i + 1;
    if (isLetter(s[j])) while (j < end && isLetter(s[j])) j++;
    else j++;
    const out: string[] = [];
    convert(s, i, j, out);
    return { next: j, text: out.join('') };
  }
  const cp = s.codePointAt(i)!;
  const ch = String.fromCodePoint(cp);
  return { next: i + ch.length, text: ch };
}

function matchBrace(s: string, open: number, end: number): number {
  let depth = 0;
  for (let i = open; i < end; i++) {
    if (s[i] === '\\') {
      i++;
      continue;
    }
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return end;
}

function accent(base: string, mark: string): string {
  if (!base) return '';
  // Accents go on dotless i/j as on i/j.
  const b = base[0] === 'ı' ? 'i' + base.slice(1) : base[0] === 'ȷ' ? 'j' + base.slice(1) : base;
  const first = String.fromCodePoint(b.codePointAt(0)!);
  return first + mark + b.slice(first.length);
}

function convert(s: string, i: number, end: number, out: string[]): void {
  while (i < end) {
    const ch = s[i];
    if (ch === '\\') {
      const next = s[i + 1];
      if (next === undefined || i + 1 >= end) {
        i++;
        continue;
      }
      if (next === '(') {
        const close = s.indexOf('\\)', i + 2);
        const stop = close < 0 || close >= end ? end : close + 2;
        out.push(s.slice(i, stop));
        i = stop;
        continue;
      }
      if (ACCENT_SYMBOL[next] !== undefined) {
        const arg = readArg(s, i + 2, end);
        out.push(accent(arg.text, ACCENT_SYMBOL[next]));
        i = arg.next;
        continue;
      }
      if (ESCAPES[next] !== undefined) {
        out.push(ESCAPES[next]);
        i += 2;
        continue;
      }
      if (!isLetter(next)) {
        out.push(next);
        i += 2;
        continue;
      }
      let j = i + 1;
      while (j < end && isLetter(s[j])) j++;
      const word = s.slice(i + 1, j);
      if (ACCENT_WORD[word] !== undefined) {
        const arg = readArg(s, j, end);
        out.push(accent(arg.text, ACCENT_WORD[word]));
        i = arg.next;
        continue;
      }
      // TeX swallows spaces after a control word.
      let k = j;
      while (k < end && (s[k] === ' ' || s[k] === '\t')) k++;
      if (WORDS[word] !== undefined) {
        out.push(WORDS[word]);
        // `\ss{}` / `\LaTeX{}`: the empty group only ends the control word.
        if (s[k] === '{' && s[k + 1] === '}') k += 2;
        i = k;
        continue;
      }
      if (DROP_FIRST_ARG.has(word) && s[k] === '{') {
        i = readArg(s, k, end).next;
        continue;
      }
      i = k; // unknown command: drop its name, keep its arguments' text
      continue;
    }
    if (ch === '{' || ch === '}') {
      i++;
      continue;
    }
    if (ch === '$') {
      const dbl = s[i + 1] === '$';
      const close = s.indexOf(dbl ? '$$' : '$', i + (dbl ? 2 : 1));
      const stop = close < 0 || close >= end ? end : close + (dbl ? 2 : 1);
      out.push(s.slice(i, stop));
      i = stop;
      continue;
    }
    if (ch === '~') {
      out.push(' ');
      i++;
      continue;
    }
    if (ch === '-' && s[i + 1] === '-') {
      if (s[i + 2] === '-') {
        out.push('—');
        i += 3;
      } else {
        out.push('–');
        i += 2;
      }
      continue;
    }
    if (ch === '`' && s[i + 1] === '`') {
      out.push('“');
      i += 2;
      continue;
    }
    if (ch === "'" && s[i + 1] === "'") {
      out.push('”');
      i += 2;
      continue;
    }
    // Copy a run of ordinary characters at once.
    let j = i + 1;
    while (j < end && !'\\{}$~-`\''.includes(s[j])) j++;
    out.push(s.slice(i, j));
    i = j;
  }
}

const NON_DECOMPOSING: Record<string, string> = {
  ø: 'o',
  Ø: 'o',
  ł: 'l',
  Ł: 'l',
  ß: 'ss',
  æ: 'ae',
  Æ: 'ae',
  œ: 'oe',
  Œ: 'oe',
  ı: 'i',
  ȷ: 'j',
  đ: 'd',
  Đ: 'd',
  ð: 'd',
  Ð: 'd',
  þ: 'th',
  Þ: 'th',
  ŋ: 'ng',
  Ŋ: 'ng',
};

/** Matching key: plain text, no diacritics, lower case, punctuation as spaces, single spaces. */
export function normalizeForMatch(s: string): string {
  return latexToUnicode(s)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[øØłŁßæÆœŒıȷđĐðÐþÞŋŊ]/g, (c) => NON_DECOMPOSING[c])
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** A field's value as plain Unicode text with whitespace collapsed, or undefined when absent. */
export function fieldText(entry: BibEntry, name: string): string | undefined {
  const f = entry.fields.get(name.toLowerCase());
  if (!f) return undefined;
  return latexToUnicode(f.value).replace(/\s+/g, ' ').trim();
}

export interface Person {
  /** Given names (Unicode). */
  first: string;
  /** Particles such as "van der", "de" (Unicode). */
  von: string;
  /** Surname (Unicode); the whole name for corporate authors. */
  last: string;
  /** "Jr.", "III" (Unicode). */
  jr: string;
  /** Written as one braced group, e.g. `{World Health Organization}`. */
  corporate: boolean;
  /** The name as written (LaTeX). */
  raw: string;
}

export interface AuthorList {
  persons: Person[];
  /** The list ended with "and others" (et al.). */
  others: boolean;
}

/** Splits `s` at depth-0 occurrences of `sep` (a regex matched only at depth 0 positions). */
function splitDepth0(s: string, isSep: (s: string, i: number) => number): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
    else if (depth === 0) {
      const n = isSep(s, i);
      if (n > 0) {
        parts.push(s.slice(start, i));
        i += n - 1;
        start = i + 1;
      }
    }
  }
  parts.push(s.slice(start));
  return parts;
}

const AND_RE = /^\s+and\s+/i;

/** First character that decides a BibTeX name token's case (`{\"u}ber` → u, `{Van}` → caseless). */
function tokenIsLower(tok: string): boolean {
  for (let i = 0; i < tok.length; i++) {
    const c = tok[i];
    if (c === '{') {
      if (tok[i + 1] !== '\\') return false; // braced group: caseless, never a particle
      const m = /^\{\\[a-zA-Z]+\s*\{?\s*([a-zA-Z])|^\{\\[^a-zA-Z]\s*\{?\s*([a-zA-Z])/.exec(tok.slice(i));
      const l = m?.[1] ?? m?.[2];
      return l !== undefined && l === l.toLowerCase();
    }
    if (/\p{L}/u.test(c)) return c === c.toLowerCase() && c !== c.toUpperCase();
  }
  return false;
}

function clean(s: string): string {
  return latexToUnicode(s).replace(/\s+/g, ' ').trim();
}

function parsePerson(raw: string): Person {
  const name = raw.trim();
  if (name.startsWith('{') && name.endsWith('}') && matchBrace(name, 0, name.length) === name.length - 1) {
    return { first: '', von: '', last: clean(name), jr: '', corporate: true, raw: name };
  }
  const parts = splitDepth0(name, (s, i) => (s[i] === ',' ? 1 : 0)).map((p) => p.trim());
  const words = (s: string): string[] => splitDepth0(s, (x, i) => (/[\s~]/.test(x[i]) ? 1 : 0)).filter((w) => w.length > 0);
  let first: string[] = [];
  let von: string[] = [];
  let last: string[] = [];
  let jr = '';
  if (parts.length === 1) {
    const w = words(parts[0]);
    if (w.length === 1) {
      last = w;
    } else {
      const lastIdx = w.length - 1;
      let vs = -1;
      let ve = -1;
      for (let i = 0; i < lastIdx; i++) {
        if (tokenIsLower(w[i])) {
          if (vs < 0) vs = i;
          ve = i;
        }
      }
      if (vs < 0) {
        first = w.slice(0, lastIdx);
        last = w.slice(lastIdx);
      } else {
        first = w.slice(0, vs);
        von = w.slice(vs, ve + 1);
        last = w.slice(ve + 1);
      }
    }
  } else {
    const vl = words(parts[0]);
    if (parts.length >= 3) {
      jr = parts[1];
      first = words(parts.slice(2).join(', '));
    } else {
      first = words(parts[1]);
    }
    let ve = -1;
    for (let i = 0; i < vl.length - 1; i++) if (tokenIsLower(vl[i])) ve = i;
    von = vl.slice(0, ve + 1);
    last = vl.slice(ve + 1);
  }
  return { first: clean(first.join(' ')), von: clean(von.join(' ')), last: clean(last.join(' ')), jr: clean(jr), corporate: false, raw: name };
}

/** Parses a BibTeX name list (`author`, `editor`, …). */
export function parseAuthors(value: string): AuthorList {
  const names = splitDepth0(value, (s, i) => {
    if (!/\s/.test(s[i])) return 0;
    const m = AND_RE.exec(s.slice(i, i + 12));
    return m ? m[0].length : 0;
  })
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  let others = false;
  const persons: Person[] = [];
  for (const n of names) {
    if (n.toLowerCase() === 'others') {
      others = true;
      continue;
    }
    persons.push(parsePerson(n));
  }
  return { persons, others };
}
