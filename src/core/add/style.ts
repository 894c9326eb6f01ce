/**
 * How a .bib file writes its entries, read from the entries it already has, so that a new entry
 * looks like its neighbours: dialect (BibTeX `journal`/`year` or BibLaTeX `journaltitle`/`date`),
 * field order, indentation and `=` alignment, braces or quotes, letter case of types and names,
 * trailing commas, blank lines between entries, month macros, page dashes, name order, and how
 * titles are protected from case changes (`{DNA}` words, or the whole title in double braces).
 */
import type { BibEntry, BibFile } from '../bib/parse';

export interface FileStyle {
  dialect: 'bibtex' | 'biblatex';
  /** Field names in the order this file writes them (unknown fields go by DEFAULT_ORDER). */
  order: 'alphabetical' | string[];
  /** The entry header between the type and the key: `{`, `(`, `{\t  `. */
  open: '{' | '(';
  afterOpen: string;
  typeCase: 'lower' | 'upper' | 'capital';
  nameCase: 'lower' | 'upper' | 'capital';
  indent: string;
  /** `=` column: aligned to the longest name + pad, to a fixed visual column, or not at all. */
  align: { kind: 'none'; gap1: string } | { kind: 'longest'; pad: number; tabs: boolean } | { kind: 'column'; column: number; tabs: boolean };
  gap2: string;
  quote: boolean;
  /** `year = 2020` rather than `year = {2020}`. */
  bareNumbers: boolean;
  trailingComma: boolean;
  closeOnLastLine: boolean;
  blankLineBetween: boolean;
  month: 'macro' | 'number' | 'name' | 'none';
  pagesDash: '--' | '-';
  /** `Family, Given` rather than `Given Family`. */
  nameComma: boolean;
  protect: 'none' | 'words' | 'title';
  /** Non-ASCII written as LaTeX accents (the file has none of its own). */
  asciiOnly: boolean;
  /** Share of entries that have each field (lower-cased names). */
  usage: Map<string, number>;
  eol: '\n' | '\r\n';
}

/** Where a field goes when the file gives no hint: the order most exports use. */
export const DEFAULT_ORDER = [
  'author', 'editor', 'title', 'subtitle', 'journal', 'journaltitle', 'booktitle', 'series', 'edition', 'volume', 'number', 'pages',
  'year', 'month', 'date', 'publisher', 'address', 'location', 'institution', 'school', 'organization', 'issn', 'isbn', 'doi', 'url',
  'eprint', 'eprinttype', 'archiveprefix', 'primaryclass', 'note',
];

function visualCol(s: string): number {
  let col = 0;
  for (const c of s) col = c === '\t' ? (Math.floor(col / 8) + 1) * 8 : col + 1;
  return col;
}

function caseOf(words: string[]): 'lower' | 'upper' | 'capital' {
  const letters = words.filter((w) => /[a-zA-Z]/.test(w));
  if (!letters.length) return 'lower';
  const upper = letters.filter((w) => w === w.toUpperCase()).length;
  const cap = letters.filter((w) => /^[A-Z]/.test(w) && w !== w.toUpperCase()).length;
  if (upper > letters.length / 2) return 'upper';
  if (cap > letters.length / 2) return 'capital';
  return 'lower';
}

function mode<T>(xs: T[], fallback: T): T {
  const counts = new Map<T, number>();
  let best = fallback;
  let n = 0;
  for (const x of xs) {
    const c = (counts.get(x) ?? 0) + 1;
    counts.set(x, c);
    if (c > n) {
      n = c;
      best = x;
    }
  }
  return best;
}

interface Line {
  indent: string;
  name: string;
  gap1: string;
  gap2: string;
  eqCol: number;
}

function fieldLines(text: string, e: BibEntry): Line[] {
  const out: Line[] = [];
  for (const f of e.fields.values()) {
    let ls = f.span.start;
    while (ls > 0 && (text[ls - 1] === ' ' || text[ls - 1] === '\t')) ls--;
    if (ls > 0 && text[ls - 1] !== '\n') continue;
    const eq = text.indexOf('=', f.nameSpan.end);
    const gap1 = text.slice(f.nameSpan.end, eq);
    const gap2 = text.slice(eq + 1, f.valueSpan.start);
    if (/[\r\n]/.test(gap1 + gap2)) continue;
    const indent = text.slice(ls, f.span.start);
    const name = text.slice(f.nameSpan.start, f.nameSpan.end);
    out.push({ indent, name, gap1, gap2, eqCol: visualCol(indent + name + gap1) });
  }
  return out;
}

/** Escapes nothing: reads. Entries of `@string`-only or empty files give the defaults. */
export function detectStyle(file: BibFile): FileStyle {
  const { text } = file;
  const entries = file.entries.filter((e) => e.fields.size > 0);
  // The last entries weigh most: a file's style drifts, and the newest entries show today's habit.
  const recent = entries.slice(-200);
  const usage = new Map<string, number>();
  for (const e of entries) for (const n of e.fields.keys()) usage.set(n, (usage.get(n) ?? 0) + 1);
  for (const [k, v] of usage) usage.set(k, v / Math.max(1, entries.length));
  const u = (n: string) => usage.get(n) ?? 0;
  const dialect = u('journaltitle') + u('date') > u('journal') + u('year') ? 'biblatex' : 'bibtex';

  // Order: alphabetical when nearly every entry is; else the mean relative position of each field.
  const sortedShare = recent.filter((e) => {
    const ns = [...e.fields.keys()];
    return ns.every((n, i) => i === 0 || ns[i - 1] <= n);
  }).length;
  let order: FileStyle['order'] = 'alphabetical';
  if (!recent.length || sortedShare < 0.9 * recent.length || recent.every((e) => e.fields.size < 3)) {
    const pos = new Map<string, { sum: number; n: number }>();
    for (const e of recent) {
      const ns = [...e.fields.values()].sort((a, b) => a.span.start - b.span.start).map((f) => f.name);
      ns.forEach((n, i) => {
        const p = pos.get(n) ?? { sum: 0, n: 0 };
        p.sum += ns.length > 1 ? i / (ns.length - 1) : 0;
        p.n++;
        pos.set(n, p);
      });
    }
    const known = [...pos.entries()].filter(([, p]) => p.n >= Math.min(3, recent.length)).map(([n, p]) => ({ n, at: p.sum / p.n }));
    // Fields the file never writes are placed by their default neighbours.
    const all = new Set([...known.map((k) => k.n), ...DEFAULT_ORDER]);
    const placed = [...all].map((n) => {
      const k = known.find((x) => x.n === n);
      if (k) return { n, at: k.at };
      const di = DEFAULT_ORDER.indexOf(n);
      let before: number | undefined;
      for (let i = di - 1; i >= 0 && before === undefined; i--) before = known.find((x) => x.n === DEFAULT_ORDER[i])?.at;
      let after: number | undefined;
      for (let i = di + 1; i < DEFAULT_ORDER.length && after === undefined; i++) after = known.find((x) => x.n === DEFAULT_ORDER[i])?.at;
      const at = before !== undefined && after !== undefined ? (before + after) / 2 : before !== undefined ? before + 0.001 : after !== undefined ? after - 0.001 : di / DEFAULT_ORDER.length;
      return { n, at: at + di * 1e-6 };
    });
    order = placed.sort((a, b) => a.at - b.at).map((p) => p.n);
  }

  const lines = recent.flatMap((e) => fieldLines(text, e));
  const indent = mode(lines.map((l) => l.indent), '  ');
  // Alignment, per entry: every `=` in one column although the names differ in length.
  type A = { eqCol: number; longest: number; tabs: boolean };
  const aligned: A[] = [];
  let unaligned = 0;
  for (const e of recent) {
    const ls = fieldLines(text, e);
    if (ls.length < 2 || new Set(ls.map((l) => l.name.length)).size < 2) continue;
    if (ls.every((l) => l.eqCol === ls[0].eqCol)) aligned.push({ eqCol: ls[0].eqCol, longest: Math.max(...ls.map((l) => visualCol(l.indent + l.name))), tabs: ls.some((l) => l.gap1.includes('\t')) });
    else unaligned++;
  }
  let align: FileStyle['align'] = { kind: 'none', gap1: mode(lines.map((l) => l.gap1), ' ') };
  if (aligned.length > unaligned) {
    const tabs = aligned.filter((a) => a.tabs).length > aligned.length / 2;
    const pads = aligned.map((a) => a.eqCol - a.longest);
    const pad = mode(pads, 1);
    if (pads.filter((p) => p === pad).length >= 0.8 * pads.length && !tabs) align = { kind: 'longest', pad, tabs };
    else align = { kind: 'column', column: mode(aligned.map((a) => a.eqCol), 16), tabs };
  }
  const gap2 = mode(lines.map((l) => l.gap2), ' ');

  let braces = 0;
  let quotes = 0;
  for (const e of recent) for (const f of e.fields.values()) if (f.delimiter === '{') braces++;
  else if (f.delimiter === '"') quotes++;

  let bareYears = 0;
  let braceYears = 0;
  for (const e of recent) {
    const y = e.fields.get('year') ?? e.fields.get('volume');
    if (y?.delimiter === 'bare' && /^\d+$/.test(y.raw)) bareYears++;
    else if (y) braceYears++;
  }

  let commas = 0;
  let closeLast = 0;
  const opens: string[] = [];
  for (const e of recent) {
    const fs = [...e.fields.values()];
    const lastEnd = Math.max(...fs.map((f) => f.span.end));
    const tail = text.slice(lastEnd, e.bodySpan.end);
    if (/^\s*,/.test(tail)) commas++;
    if (!/\n/.test(tail)) closeLast++;
    const m = /[{(][ \t]*$/.exec(text.slice(e.span.start, e.keySpan.start));
    if (m) opens.push(m[0]);
  }
  const afterOpenRaw = mode(opens, '{');
  const open = afterOpenRaw[0] === '(' ? '(' : '{';

  // Blank line between consecutive entries.
  let blank = 0;
  let tight = 0;
  for (let i = 1; i < file.entries.length && i < 400; i++) {
    const gap = text.slice(file.entries[i - 1].span.end, file.entries[i].span.start);
    if (/\n[ \t]*\r?\n/.test(gap)) blank++;
    else tight++;
  }

  const months = entries.map((e) => e.fields.get('month')).filter((f) => f !== undefined);
  const month: FileStyle['month'] = !months.length
    ? 'none'
    : mode(
        months.map((f) => (f!.delimiter === 'bare' && !/^\d+$/.test(f!.raw) ? 'macro' : /^\d+$/.test(f!.value.trim()) ? 'number' : 'name')),
        'macro' as FileStyle['month'],
      );
  const pages = entries.map((e) => e.fields.get('pages')?.value).filter((v): v is string => !!v && /\d\s*-+\s*\d/.test(v));
  const pagesDash = pages.filter((v) => /--/.test(v)).length >= pages.filter((v) => !/--/.test(v)).length ? '--' : '-';
  const authors = entries.map((e) => e.fields.get('author')?.value).filter((v): v is string => !!v && !/^\s*\{[^{}]*\}\s*$/.test(v));
  const nameComma = authors.filter((a) => a.includes(',')).length >= authors.length / 2;
  const titles = entries.map((e) => e.fields.get('title')?.raw.replace(/^[{"]|[}"]$/g, '').trim()).filter((v): v is string => !!v);
  const whole = titles.filter((t) => /^\{.*\}$/s.test(t) && balancedInner(t)).length;
  const words = titles.filter((t) => !/^\{.*\}$/s.test(t) && /\{[A-Z][A-Za-z0-9-]*\}/.test(t)).length;
  const protect: FileStyle['protect'] = whole > titles.length / 3 ? 'title' : words > titles.length / 10 || words >= 3 ? 'words' : 'none';
  // eslint-disable-next-line no-control-regex
  const asciiOnly = text.length > 0 && !/[^\x00-\x7f]/.test(text) && /\\["'`^~=.cvuHk]\s*\{?[A-Za-z]/.test(text);

  return {
    dialect,
    order,
    open,
    afterOpen: afterOpenRaw,
    typeCase: caseOf(recent.map((e) => text.slice(e.span.start + 1, e.span.start + 1 + e.type.length))),
    nameCase: caseOf(lines.map((l) => l.name)),
    indent,
    align,
    gap2,
    quote: quotes > braces,
    bareNumbers: bareYears > braceYears,
    trailingComma: recent.length ? commas > recent.length / 2 : true,
    closeOnLastLine: recent.length ? closeLast > recent.length / 2 : false,
    blankLineBetween: file.entries.length < 2 ? true : blank >= tight,
    month,
    pagesDash,
    nameComma: authors.length ? nameComma : true,
    protect,
    asciiOnly,
    usage,
    eol: file.eol,
  };
}

/** `{…}` whose outer braces enclose the whole value (not `{A} and {B}`). */
function balancedInner(t: string): boolean {
  let depth = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === '{') depth++;
    else if (t[i] === '}') {
      depth--;
      if (depth === 0 && i < t.length - 1) return false;
    }
  }
  return depth === 0;
}
