/**
 * Writing a registry record as .bib text in a file's own style (style.ts): values escaped for
 * LaTeX, titles protected as the file protects them, names in the file's order, fields in the
 * file's order and layout.
 */
import type { BibRecord, RecordName } from './record';
import { DEFAULT_ORDER, type FileStyle } from './style';

const SPECIALS: Record<string, string> = {
  '\\': '\\textbackslash{}',
  // BibTeX balances braces even after a backslash: `\{` alone would end or break the value.
  '{': '\\textbraceleft{}',
  '}': '\\textbraceright{}',
  $: '\\$',
  '&': '\\&',
  '%': '\\%',
  '#': '\\#',
  _: '\\_',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
};

const COMBINING: Record<string, string> = {
  '\u0301': "'",
  '\u0300': '`',
  '\u0302': '^',
  '\u0308': '"',
  '\u0303': '~',
  '\u0304': '=',
  '\u0307': '.',
  '\u0327': 'c',
  '\u030c': 'v',
  '\u0306': 'u',
  '\u030b': 'H',
  '\u0328': 'k',
  '\u030a': 'r',
  '\u0323': 'd',
};

const LETTERS: Record<string, string> = {
  ß: '{\\ss}',
  ø: '{\\o}',
  Ø: '{\\O}',
  å: '{\\aa}',
  Å: '{\\AA}',
  æ: '{\\ae}',
  Æ: '{\\AE}',
  œ: '{\\oe}',
  Œ: '{\\OE}',
  ł: '{\\l}',
  Ł: '{\\L}',
  ı: '{\\i}',
  '–': '--',
  '—': '---',
  '‘': '`',
  '’': "'",
  '“': '``',
  '”': "''",
  '…': '\\ldots{}',
};

/** Plain Unicode text → BibTeX value text. With `ascii`, accented letters become `{\"u}` groups. */
export function latexEscape(s: string, ascii = false): string {
  let out = '';
  for (const ch of s.normalize('NFC')) {
    if (SPECIALS[ch]) {
      out += SPECIALS[ch];
      continue;
    }
    // eslint-disable-next-line no-control-regex
    if (!ascii || /[\x00-\x7f]/.test(ch)) {
      out += ch;
      continue;
    }
    if (LETTERS[ch]) {
      out += LETTERS[ch];
      continue;
    }
    const d = ch.normalize('NFD');
    const base = d[0];
    const marks = [...d.slice(1)];
    if (marks.length === 1 && COMBINING[marks[0]] && /[A-Za-z]/.test(base)) {
      const cmd = COMBINING[marks[0]];
      const b = base === 'i' ? '\\i' : base;
      out += /[a-zA-Z]/.test(cmd) ? `{\\${cmd} ${b}}` : `{\\${cmd}${b}}`;
    } else out += ch;
  }
  return out;
}

/** A word whose capitals a style would lower-case wrongly: `DNA`, `mRNA`, `COVID-19`, `iPhone`. */
function needsProtection(word: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(word)) return false;
  // "Group-Like" is two capitalised words, not an acronym.
  return word.split('-').some((p) => /[A-Z].*[A-Z]/.test(p) || /^[a-z0-9]+[A-Z]/.test(p));
}

/** The title as the file writes titles: escaped, and protected per `style.protect`. */
export function formatTitle(title: string, style: Pick<FileStyle, 'protect' | 'asciiOnly'>): string {
  if (style.protect === 'title') return `{${latexEscape(title, style.asciiOnly)}}`;
  if (style.protect === 'none') return latexEscape(title, style.asciiOnly);
  return title
    .split(/(\s+)/)
    .map((tok) => {
      const m = /^([^A-Za-z0-9]*)(.*?)([^A-Za-z0-9]*)$/s.exec(tok)!;
      const [, pre, core, post] = m;
      const esc = (x: string) => latexEscape(x, style.asciiOnly);
      return needsProtection(core) ? `${esc(pre)}{${esc(core)}}${esc(post)}` : esc(tok);
    })
    .join('');
}

function formatName(n: RecordName, comma: boolean, ascii: boolean): string {
  const e = (s: string) => latexEscape(s, ascii);
  if (n.literal) return `{${e(n.family)}}`;
  const family = n.particle ? `${n.particle} ${n.family}` : n.family;
  if (!n.given) return /\s/.test(n.family) && !n.particle ? `{${e(n.family)}}` : e(family);
  // A given name ending in a lower-case word ("Almir de") would lend BibTeX a particle: comma form then.
  // A comma is needed too for a family name carrying its suffix ("Raimundo, Jr."): "Family, Jr., Given" is the only form for it.
  if (comma || /(^|\s)\p{Ll}\S*$/u.test(n.given) || family.includes(',')) return `${e(family)}, ${e(n.given)}`;
  // "Given Family" splits at the last space: a compound family name needs braces.
  return `${e(n.given)} ${n.particle ? `${e(n.particle)} ` : ''}${/\s/.test(n.family) ? `{${e(n.family)}}` : e(n.family)}`;
}

export function formatNames(ns: RecordName[], style: Pick<FileStyle, 'nameComma' | 'asciiOnly'>): string {
  return ns.map((n) => formatName(n, style.nameComma, style.asciiOnly)).join(' and ');
}

export function formatPages(p: string, style: Pick<FileStyle, 'pagesDash'>): string {
  return p.replace(/^(\w+)-(\w+)$/, `$1${style.pagesDash}$2`);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export interface FieldValue {
  name: string;
  /** Text between the delimiters (LaTeX), or the bare token when `bare`. */
  value: string;
  bare?: boolean;
}

/** Field names of the venue for an entry type, in each dialect. */
export function venueField(type: string, dialect: FileStyle['dialect']): string | undefined {
  if (type === 'article') return dialect === 'biblatex' ? 'journaltitle' : 'journal';
  if (type === 'inproceedings' || type === 'incollection' || type === 'inbook') return 'booktitle';
  return undefined;
}

/** The fields a record gives an entry of this file, LaTeX-ready, before ordering. */
export function recordFields(rec: BibRecord, style: FileStyle): FieldValue[] {
  const f: FieldValue[] = [];
  const used = (n: string) => (style.usage.get(n) ?? 0) >= 0.3;
  const number = (name: string, v: string) => f.push({ name, value: v, bare: style.bareNumbers && /^\d+$/.test(v) });
  if (rec.authors.length) f.push({ name: 'author', value: formatNames(rec.authors, style) });
  if (rec.editors.length && (['book', 'incollection', 'proceedings', 'inproceedings'].includes(rec.type) || used('editor'))) f.push({ name: 'editor', value: formatNames(rec.editors, style) });
  if (rec.title) f.push({ name: 'title', value: formatTitle(rec.title, style) });
  const venue = venueField(rec.type, style.dialect);
  if (venue && rec.container) f.push({ name: venue, value: latexEscape(rec.container, style.asciiOnly) });
  if (rec.volume) number('volume', latexEscape(rec.volume, style.asciiOnly));
  if (rec.number) number('number', latexEscape(rec.number, style.asciiOnly));
  if (rec.pages) f.push({ name: 'pages', value: latexEscape(formatPages(rec.pages, style), style.asciiOnly) });
  if (rec.year) {
    if (style.dialect === 'biblatex') {
      const parts = [String(rec.year)];
      if (rec.month) parts.push(String(rec.month).padStart(2, '0'));
      if (rec.month && rec.day) parts.push(String(rec.day).padStart(2, '0'));
      f.push({ name: 'date', value: parts.join('-') });
    } else {
      number('year', String(rec.year));
      if (rec.month && style.month !== 'none') {
        if (style.month === 'macro') f.push({ name: 'month', value: MONTHS[rec.month - 1], bare: true });
        else if (style.month === 'number') number('month', String(rec.month));
        else f.push({ name: 'month', value: MONTH_NAMES[rec.month - 1] });
      }
    }
  }
  if (rec.publisher) {
    if (rec.type === 'techreport') f.push({ name: 'institution', value: latexEscape(rec.publisher, style.asciiOnly) });
    else if (rec.type === 'phdthesis') f.push({ name: 'school', value: latexEscape(rec.publisher, style.asciiOnly) });
    else if (rec.type !== 'article' || used('publisher')) f.push({ name: 'publisher', value: latexEscape(rec.publisher, style.asciiOnly) });
  }
  if (rec.issn.length && used('issn')) f.push({ name: 'issn', value: rec.issn[0] });
  if (rec.isbn.length && (rec.type === 'book' || used('isbn'))) f.push({ name: 'isbn', value: rec.isbn[0] });
  // biblatex reads doi, url and eprint verbatim: `\_` would become part of the DOI.
  if (rec.doi) f.push({ name: 'doi', value: rec.doi.replace(/[{}\\]/g, '') });
  if (rec.url && used('url')) f.push({ name: 'url', value: rec.url.replace(/[{}\\]/g, '') });
  if (rec.arxivId) {
    f.push({ name: 'eprint', value: rec.arxivId });
    if (style.dialect === 'biblatex') f.push({ name: 'eprinttype', value: 'arxiv' });
    else f.push({ name: 'archiveprefix', value: 'arXiv' });
  }
  return f;
}

function orderFields(fields: FieldValue[], style: FileStyle): FieldValue[] {
  if (style.order === 'alphabetical') return [...fields].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const order = style.order;
  const rank = (n: string) => {
    const i = order.indexOf(n);
    return i >= 0 ? i : order.length + DEFAULT_ORDER.indexOf(n);
  };
  return [...fields].sort((a, b) => rank(a.name) - rank(b.name));
}

const CAPITAL_TYPES: Record<string, string> = {
  article: 'Article',
  book: 'Book',
  inproceedings: 'InProceedings',
  incollection: 'InCollection',
  inbook: 'InBook',
  phdthesis: 'PhdThesis',
  mastersthesis: 'MastersThesis',
  techreport: 'TechReport',
  proceedings: 'Proceedings',
  misc: 'Misc',
  online: 'Online',
};

function cased(s: string, c: FileStyle['typeCase']): string {
  if (c === 'upper') return s.toUpperCase();
  if (c === 'capital') return CAPITAL_TYPES[s] ?? s[0].toUpperCase() + s.slice(1);
  return s;
}

function visualCol(s: string): number {
  let col = 0;
  for (const c of s) col = c === '\t' ? (Math.floor(col / 8) + 1) * 8 : col + 1;
  return col;
}

function padTo(from: number, to: number, tabs: boolean): string {
  if (to <= from) return ' ';
  if (!tabs) return ' '.repeat(to - from);
  let s = '';
  let col = from;
  while ((Math.floor(col / 8) + 1) * 8 <= to) {
    s += '\t';
    col = (Math.floor(col / 8) + 1) * 8;
  }
  return s + ' '.repeat(to - col) || '\t';
}

/** Delimits a value: quotes when the file uses them and the value allows, else braces. */
export function delimitValue(v: FieldValue, style: Pick<FileStyle, 'quote'>): string {
  if (v.bare) return v.value;
  if (style.quote) {
    let depth = 0;
    let ok = true;
    for (const c of v.value) {
      if (c === '{') depth++;
      else if (c === '}') depth--;
      else if (c === '"' && depth === 0) ok = false;
    }
    if (ok) return `"${v.value}"`;
  }
  return `{${v.value}}`;
}

/** The field lines of an entry in the file's layout (without the trailing comma of the last one). */
export function layoutFields(fields: FieldValue[], style: FileStyle): string[] {
  const names = fields.map((f) => cased(f.name, style.nameCase));
  const longest = Math.max(0, ...names.map((n) => visualCol(style.indent + n)));
  return fields.map((f, i) => {
    const n = names[i];
    const head = style.indent + n;
    let gap1: string;
    const a = style.align;
    if (a.kind === 'none') gap1 = a.gap1;
    else if (a.kind === 'longest') gap1 = ' '.repeat(Math.max(0, longest - visualCol(head) + a.pad));
    else gap1 = padTo(visualCol(head), a.column, a.tabs);
    return `${head}${gap1}=${style.gap2}${delimitValue(f, style)}`;
  });
}

/** The whole entry, from `@` to its closing delimiter (no trailing newline). */
export function renderEntry(rec: BibRecord, key: string, style: FileStyle): string {
  const fields = orderFields(recordFields(rec, style), style);
  const lines = layoutFields(fields, style);
  const eol = style.eol;
  const close = style.open === '(' ? ')' : '}';
  const body = lines.map((l, i) => (i < lines.length - 1 || style.trailingComma ? `${l},` : l)).join(eol);
  const type = cased(rec.type, style.typeCase);
  if (!lines.length) return `@${type}${style.afterOpen}${key}${close}`;
  return style.closeOnLastLine && !style.trailingComma
    ? `@${type}${style.afterOpen}${key},${eol}${body}${close}`
    : `@${type}${style.afterOpen}${key},${eol}${body}${eol}${close}`;
}
