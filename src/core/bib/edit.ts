/**
 * Minimal write-back into .bib text: only the bytes of the changed field differ.
 * A new field is one new line written in the entry's own style (indentation, `=` alignment,
 * braces or quotes, trailing comma, EOL); an existing field has only its value replaced.
 */
import { ScholarError } from '../errors';
import type { BibEntry, BibField, BibFile } from './parse';

export interface TextEdit {
  offset: number;
  length: number;
  text: string;
}

/** Applies non-overlapping edits (any order) to `text`. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.offset - b.offset);
  const out: string[] = [];
  let pos = 0;
  for (const e of sorted) {
    if (e.offset < pos) throw new ScholarError('E_EDIT_OVERLAP', `overlapping edits at offset ${e.offset}`);
    out.push(text.slice(pos, e.offset), e.text);
    pos = e.offset + e.length;
  }
  out.push(text.slice(pos));
  return out.join('');
}

function balanced(value: string): boolean {
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '{') depth++;
    else if (c === '}' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Wraps `value` in the wanted delimiter, falling back to braces where quotes would break. */
function delimit(value: string, quote: boolean): string {
  if (quote) {
    let depth = 0;
    let ok = true;
    for (const c of value) {
      if (c === '{') depth++;
      else if (c === '}') depth--;
      else if (c === '"' && depth === 0) ok = false;
    }
    if (ok) return `"${value}"`;
  }
  return `{${value}}`;
}

/** Visual column (tabs to multiples of 8) after `s`, starting from column `col`. */
function advance(col: number, s: string): number {
  for (const c of s) col = c === '\t' ? (Math.floor(col / 8) + 1) * 8 : col + 1;
  return col;
}

/** Whitespace taking a line from visual column `from` to `to` (at least `min`). */
function padTo(from: number, to: number, useTabs: boolean, min: string): string {
  if (to <= from) return min;
  if (useTabs) {
    let s = '';
    let col = from;
    while ((Math.floor(col / 8) + 1) * 8 <= to) {
      s += '\t';
      col = (Math.floor(col / 8) + 1) * 8;
    }
    return s + ' '.repeat(to - col);
  }
  return ' '.repeat(to - from);
}

interface FieldLayout {
  field: BibField;
  indent: string; // leading whitespace of its line, when the field starts its line
  startsLine: boolean;
  gap1: string; // between name and '='
  gap2: string; // between '=' and value
  rawName: string;
}

function layoutOf(text: string, f: BibField): FieldLayout {
  let ls = f.span.start;
  while (ls > 0 && (text[ls - 1] === ' ' || text[ls - 1] === '\t')) ls--;
  const startsLine = ls === 0 || text[ls - 1] === '\n';
  const eq = text.indexOf('=', f.nameSpan.end);
  return {
    field: f,
    indent: text.slice(ls, f.span.start),
    startsLine,
    gap1: text.slice(f.nameSpan.end, eq),
    gap2: text.slice(eq + 1, f.valueSpan.start),
    rawName: text.slice(f.nameSpan.start, f.nameSpan.end),
  };
}

function nameCase(siblings: FieldLayout[], name: string): string {
  const letters = siblings.map((s) => s.rawName).filter((n) => /[a-zA-Z]/.test(n));
  if (letters.length && letters.every((n) => n === n.toUpperCase())) return name.toUpperCase();
  if (letters.length && letters.every((n) => /^[A-Z][^A-Z]*$/.test(n))) return name[0].toUpperCase() + name.slice(1);
  return name;
}

interface Style {
  indent: string;
  gap1: (name: string) => string;
  gap2: (name: string, gap1: string) => string;
  quote: boolean;
  nameCase: (name: string) => string;
}

function styleFrom(fields: FieldLayout[]): Style {
  const lined = fields.filter((f) => f.startsLine);
  // A value wrapped onto the next line (`url =\n   {…}`) says nothing about the usual layout.
  const oneLine = (f: FieldLayout): boolean => !/[\r\n]/.test(f.gap1 + f.gap2);
  const pool = lined.length ? lined : fields;
  const sib = pool.some(oneLine) ? pool.filter(oneLine) : pool.map((f) => ({ ...f, gap1: ' ', gap2: ' ' }));
  const last = sib[sib.length - 1];
  const indent = lined.length ? lined[lined.length - 1].indent : '  ';
  const eqCols = sib.map((f) => advance(advance(0, f.indent) + f.rawName.length, f.gap1));
  const eqAligned = sib.length >= 2 && eqCols.every((c) => c === eqCols[0]) && new Set(sib.map((f) => f.rawName.length)).size > 1;
  const gap1Tabs = sib.some((f) => f.gap1.includes('\t'));
  const minGap1 = sib.some((f) => f.gap1.length > 0) ? (gap1Tabs && !sib.some((f) => f.gap1.includes(' ')) ? '\t' : ' ') : '';
  const valCols = sib.map((f) => advance(eqCols[sib.indexOf(f)] + 1, f.gap2));
  const valAligned = sib.length >= 2 && valCols.every((c) => c === valCols[0]) && new Set(eqCols).size > 1;
  const gap2Tabs = sib.some((f) => f.gap2.includes('\t'));
  const minGap2 = sib.some((f) => f.gap2.length > 0) ? (gap2Tabs && !sib.some((f) => f.gap2.includes(' ')) ? '\t' : ' ') : '';
  const braces = fields.filter((f) => f.field.delimiter === '{').length;
  const quotes = fields.filter((f) => f.field.delimiter === '"').length;
  const indentCol = advance(0, indent);
  return {
    indent,
    quote: quotes > braces,
    nameCase: (n) => nameCase(sib, n),
    gap1: (name) => (eqAligned ? padTo(indentCol + name.length, eqCols[0], gap1Tabs, minGap1) : last.gap1),
    gap2: (name, gap1) => {
      if (!valAligned) return last.gap2;
      const eqCol = advance(indentCol + name.length, gap1);
      return padTo(eqCol + 1, valCols[0], gap2Tabs, minGap2);
    },
  };
}

/** Style for an entry without fields: borrowed from the nearest entry of the file that has some. */
function fileStyle(file: BibFile, entry: BibEntry): Style {
  const idx = file.entries.indexOf(entry);
  const order = file.entries.map((e, i) => ({ e, d: Math.abs(i - idx) })).sort((a, b) => a.d - b.d);
  for (const { e } of order) {
    if (e.fields.size > 0) {
      const lay = [...e.fields.values()].sort((a, b) => a.span.start - b.span.start).map((f) => layoutOf(file.text, f));
      if (lay.some((l) => l.startsLine)) return styleFrom(lay);
    }
  }
  return { indent: '  ', quote: false, nameCase: (n) => n, gap1: () => ' ', gap2: () => ' ' };
}

function fieldLine(style: Style, name: string, value: string): string {
  const n = style.nameCase(name);
  const g1 = style.gap1(n);
  return `${n}${g1}=${style.gap2(n, g1)}${delimit(value, style.quote)}`;
}

/** Does any field of the entry (or, for field-less entries, the file) end with a comma before `}`? */
function trailingCommaStyle(file: BibFile): boolean {
  for (const e of file.entries) {
    const fs = [...e.fields.values()];
    if (!fs.length) continue;
    const lastEnd = Math.max(...fs.map((f) => f.span.end));
    return /^\s*,/.test(file.text.slice(lastEnd, e.bodySpan.end));
  }
  return false;
}

/**
 * The one edit that sets field `name` of `entry` to `value` (inserted verbatim between braces
 * or quotes; it must have balanced braces). Existing field: its value span is replaced, keeping
 * quotes if it used them. New field: one line in the entry's style after its last field (if
 * the last field has no comma it gets one); when the closing delimiter shares the last
 * field's line, the new line goes before that field instead. One-line entries stay one line;
 * an entry without fields borrows the style of its nearest neighbour with fields.
 */
export function planFieldUpsert(file: BibFile, entry: BibEntry, name: string, value: string): TextEdit {
  if (!balanced(value)) throw new ScholarError('E_EDIT_UNBALANCED', `value for '${name}' has unbalanced braces`, { key: entry.key, name });
  const { text, eol } = file;
  const lname = name.toLowerCase();
  const existing = entry.fields.get(lname);
  if (existing) {
    const newRaw = existing.delimiter === 'bare' && /^\d+$/.test(value) ? value : delimit(value, existing.delimiter === '"');
    return { offset: existing.valueSpan.start, length: existing.valueSpan.end - existing.valueSpan.start, text: newRaw };
  }

  const fields = [...entry.fields.values()].sort((a, b) => a.span.start - b.span.start);
  if (fields.length === 0) {
    const style = fileStyle(file, entry);
    const line = fieldLine(style, lname, value);
    const comma = trailingCommaStyle(file) ? ',' : '';
    const body = text.slice(entry.bodySpan.start, entry.bodySpan.end);
    const m = /,[ \t]*/.exec(text.slice(entry.keySpan.end, entry.bodySpan.end));
    if (m) {
      // `@misc{key,` … : new line after the key's comma (before the line break if there is one).
      const after = entry.keySpan.end + m.index + m[0].length;
      return { offset: after, length: 0, text: eol + style.indent + line + comma };
    }
    // `@misc{key}`: the key needs its comma; the closing delimiter moves to its own line.
    const closeOnOwnLine = /\n[ \t]*$/.test(body);
    return {
      offset: entry.keySpan.end,
      length: 0,
      text: ',' + eol + style.indent + line + comma + (closeOnOwnLine ? '' : eol),
    };
  }

  const layouts = fields.map((f) => layoutOf(text, f));
  const last = fields[fields.length - 1];
  const multiLine = layouts.some((l) => l.startsLine);
  let p = last.span.end;
  while (p < entry.bodySpan.end && (text[p] === ' ' || text[p] === '\t')) p++;
  const hasComma = text[p] === ',';

  if (!multiLine) {
    // One-line entry: stay on one line, separated like the fields before.
    const line = fieldLine(styleFrom(layouts), lname, value);
    if (hasComma) return { offset: p + 1, length: 0, text: ' ' + line + ',' };
    return { offset: last.span.end, length: 0, text: ', ' + line };
  }

  const style = styleFrom(layouts);
  const line = style.indent + fieldLine(style, lname, value);
  if (hasComma) {
    // Insert before the line break that ends the last field's line, so the new line is whole.
    let q = p + 1;
    while (q < entry.bodySpan.end && (text[q] === ' ' || text[q] === '\t')) q++;
    if (text[q] === '%') while (q < text.length && text[q] !== '\n' && text[q] !== '\r') q++;
    if (text[q] === '\r' || text[q] === '\n') return { offset: q, length: 0, text: eol + line + ',' };
    return { offset: p + 1, length: 0, text: eol + line + ',' };
  }
  // No trailing comma: the last field gets one and the new line has none. Trailing blanks
  // after the last value stay on its line.
  let q = last.span.end;
  while (q < entry.bodySpan.end && (text[q] === ' ' || text[q] === '\t')) q++;
  const blanks = text.slice(last.span.end, q);
  if (text[q] === '\r' || text[q] === '\n') return { offset: last.span.end, length: blanks.length, text: ',' + blanks + eol + line };
  // `  month = oct}`: the closing delimiter shares the last field's line. A whole line before
  // that field keeps the diff to one added line and the delimiter where it was.
  const lastLayout = layouts[layouts.length - 1];
  if (lastLayout.startsLine) {
    return { offset: last.span.start - lastLayout.indent.length, length: 0, text: line + ',' + eol };
  }
  return { offset: last.span.end, length: 0, text: ',' + eol + line };
}

/** The user opted the entry out of Scholar: `scholar = {skip}` or `scholar-skip` among its keywords. */
export function hasOptOut(entry: BibEntry): boolean {
  const s = entry.fields.get('scholar')?.value.trim().toLowerCase();
  if (s === 'skip') return true;
  const kw = entry.fields.get('keywords')?.value;
  return kw !== undefined && /(^|[\s,;{}])scholar-skip($|[\s,;{}])/i.test(kw);
}
