/**
 * Is an offset inside the key list of a citation command, and which key is being typed there?
 * Completion asks this on every keystroke, so it reads backwards from the offset over a bounded
 * window instead of scanning the whole document.
 */
import { CITE_COMMANDS, MULTI_CITE } from './scan';

export interface CiteContext {
  /** The command as written, without the backslash or star (`citep`, `Textcite`, `cites`). */
  command: string;
  starred: boolean;
  /** Offset of the first character of the key being typed (after `{`, a comma and spaces). */
  start: number;
  /** Offset just after that key (the key under the cursor is replaced as a whole). */
  end: number;
  /** What is typed of the key before the offset. */
  prefix: string;
  /** The other keys of the same `{…}` list (not offered again). */
  others: string[];
}

/** How far back the command may start: optional arguments and key lists are short. */
const WINDOW = 2000;

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** True when an unescaped `%` comes before `offset` on its line. */
function inComment(text: string, offset: number): boolean {
  let i = offset - 1;
  while (i >= 0 && text[i] !== '\n' && text[i] !== '\r') i--;
  for (let k = i + 1; k < offset; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === '%') return true;
  }
  return false;
}

/** Offset of the opener matching the closer at `i` (reading backwards), or -1. */
function openerBefore(text: string, i: number, lo: number): number {
  const close = text[i];
  const open = close === ']' ? '[' : close === ')' ? '(' : '{';
  let depth = 0;
  for (let k = i; k >= lo; k--) {
    const c = text[k];
    if (k > 0 && text[k - 1] === '\\' && (c === open || c === close || c === '{' || c === '}')) continue;
    if (c === close || (close === ']' && c === '}')) depth++;
    else if (c === open || (close === ']' && c === '{')) {
      if (--depth === 0) return c === open ? k : -1;
    }
  }
  return -1;
}

const KEY_END = /[,}\s]/;

export function citeContextAt(text: string, offset: number): CiteContext | undefined {
  if (offset < 0 || offset > text.length) return undefined;
  const lo = Math.max(0, offset - WINDOW);
  // The `{` of the list the offset is in: keys hold no braces or backslashes.
  let open = -1;
  for (let k = offset - 1; k >= lo; k--) {
    const c = text[k];
    if (c === '{') {
      open = k;
      break;
    }
    if (c === '}' || c === '\\' || c === '[' || c === ']') return undefined;
  }
  if (open < 0 || inComment(text, offset)) return undefined;
  // Back over optional arguments (and, for \cites, earlier key lists) to the command.
  let i = open - 1;
  let skippedList = false;
  for (;;) {
    while (i >= lo && isSpace(text[i])) i--;
    const c = text[i];
    if (c === ']' || c === ')' || c === '}') {
      const o = openerBefore(text, i, lo);
      if (o < 0) return undefined;
      if (c === '}') skippedList = true;
      i = o - 1;
      continue;
    }
    break;
  }
  let starred = false;
  if (text[i] === '*') {
    starred = true;
    i--;
  }
  let nameStart = i;
  while (nameStart >= lo && /[a-zA-Z]/.test(text[nameStart]!)) nameStart--;
  if (nameStart < lo || text[nameStart] !== '\\' || nameStart === i) return undefined;
  const command = text.slice(nameStart + 1, i + 1);
  const multi = MULTI_CITE.has(command);
  if (!multi && (!CITE_COMMANDS.has(command) || skippedList)) return undefined;

  let start = offset;
  while (start > open + 1 && !KEY_END.test(text[start - 1]!)) start--;
  let end = offset;
  while (end < text.length && end - offset < 500 && !KEY_END.test(text[end]!)) end++;
  // The rest of the list, to leave out keys already cited in it.
  let close = offset;
  while (close < text.length && close - offset < WINDOW && text[close] !== '}') close++;
  const others = (text.slice(open + 1, start) + ',' + text.slice(end, close))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { command, starred, start, end, prefix: text.slice(start, offset), others };
}
