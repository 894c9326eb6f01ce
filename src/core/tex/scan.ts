/**
 * Scans LaTeX source for what the project model needs: citation keys (natbib and biblatex
 * commands), `\nocite{*}`, bibliography declarations and `\input`/`\include`. Comments (`%` not
 * escaped as `\%`) and `comment`/`verbatim` environments are ignored. Positions are UTF-16
 * offsets into the text; lines and columns are 1-based.
 */
import { LineIndex } from '../bib/parse';

export interface TexCite {
  key: string;
  command: string;
  offset: number;
  line: number;
  column: number;
}

export interface TexRef {
  /** As written (`refs`, `refs.bib`, `chapters/intro`). */
  name: string;
  kind: 'bibliography' | 'addbibresource' | 'input' | 'include' | 'subfile' | 'import';
  offset: number;
  line: number;
  column: number;
}

export interface TexScan {
  cites: TexCite[];
  /** `\nocite{*}` present. */
  nociteAll: boolean;
  bibliographies: TexRef[];
  inputs: TexRef[];
}

/** Commands whose first mandatory argument is a key list (both cases of the first letter and `*` forms are accepted). */
export const CITE_COMMANDS: ReadonlySet<string> = new Set(
  [
    'cite',
    'citep',
    'citet',
    'citealp',
    'citealt',
    'citeauthor',
    'citeyear',
    'citeyearpar',
    'citenum',
    'citefullauthor',
    'parencite',
    'textcite',
    'autocite',
    'footcite',
    'footcitetext',
    'smartcite',
    'supercite',
    'fullcite',
    'footfullcite',
    'citetitle',
    'citeurl',
    'citedate',
    'citename',
    'citelist',
    'citefield',
    'nocite',
  ].flatMap((c) => [c, c[0].toUpperCase() + c.slice(1)]),
);

/** biblatex multi-cite commands: `\cites(pre)(post)[pre][post]{k1}[pre][post]{k2}…`. */
export const MULTI_CITE: ReadonlySet<string> = new Set(
  ['cites', 'parencites', 'textcites', 'autocites', 'footcites', 'smartcites', 'supercites'].flatMap((c) => [c, c[0].toUpperCase() + c.slice(1)]),
);

/** Replaces comments and comment/verbatim environments with spaces, keeping offsets and line breaks. */
export function maskTexComments(text: string): string {
  const chars = text.split('');
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '\\') {
      if (text.startsWith('\\begin{', i)) {
        const m = /^\\begin\{(comment|verbatim\*?|lstlisting|minted)\}/.exec(text.slice(i, i + 30));
        if (m) {
          const endTag = `\\end{${m[1]}}`;
          const stop = text.indexOf(endTag, i + m[0].length);
          const to = stop < 0 ? n : stop + endTag.length;
          for (let k = i; k < to; k++) if (chars[k] !== '\n' && chars[k] !== '\r') chars[k] = ' ';
          i = to;
          continue;
        }
      }
      i += 2; // skips escaped characters, `\%` included
      continue;
    }
    if (c === '%') {
      while (i < n && text[i] !== '\n' && text[i] !== '\r') chars[i++] = ' ';
      continue;
    }
    i++;
  }
  return chars.join('');
}

/** Offset just after a balanced group opened at `i` with `open`, or -1. */
function skipGroup(s: string, i: number, open: string, close: string): number {
  if (s[i] !== open) return -1;
  let depth = 0;
  for (let k = i; k < s.length; k++) {
    if (s[k] === '\\') {
      k++;
      continue;
    }
    if (s[k] === open) depth++;
    else if (s[k] === close && --depth === 0) return k + 1;
    else if (open === '[' && s[k] === '{') {
      const e = skipGroup(s, k, '{', '}');
      if (e < 0) return -1;
      k = e - 1;
    }
  }
  return -1;
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  return i;
}

export function scanTex(text: string): TexScan {
  const s = maskTexComments(text);
  const lines = new LineIndex(text);
  const out: TexScan = { cites: [], nociteAll: false, bibliographies: [], inputs: [] };
  const ref = (name: string, kind: TexRef['kind'], offset: number): TexRef => ({ name, kind, offset, ...lines.position(offset) });

  /** Pushes the comma-separated keys of the `{…}` group at `open`; returns the offset after it. */
  const keysAt = (open: number, command: string): number => {
    const end = skipGroup(s, open, '{', '}');
    if (end < 0) return open + 1;
    const re = /[^,\s]+/g;
    const body = s.slice(open + 1, end - 1);
    let m: RegExpExecArray | null;
    while ((m = re.exec(body))) {
      const key = m[0];
      if (key === '*' && command.toLowerCase() === 'nocite') {
        out.nociteAll = true;
        continue;
      }
      const offset = open + 1 + m.index;
      out.cites.push({ key, command, offset, ...lines.position(offset) });
    }
    return end;
  };

  const re = /\\([a-zA-Z]+)(\*?)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    const cmd = m[1];
    let i = m.index + m[0].length;
    if (CITE_COMMANDS.has(cmd)) {
      for (let opt = 0; opt < 2; opt++) {
        const j = skipSpace(s, i);
        const e = skipGroup(s, j, '[', ']');
        if (e < 0) break;
        i = e;
      }
      i = skipSpace(s, i);
      if (s[i] === '{') re.lastIndex = keysAt(i, cmd);
    } else if (MULTI_CITE.has(cmd)) {
      for (;;) {
        const j = skipSpace(s, i);
        const e = s[j] === '(' ? skipGroup(s, j, '(', ')') : s[j] === '[' ? skipGroup(s, j, '[', ']') : -1;
        if (e >= 0) {
          i = e;
          continue;
        }
        if (s[j] !== '{') break;
        i = keysAt(j, cmd);
      }
      re.lastIndex = i;
    } else if (cmd === 'bibliography' || cmd === 'addbibresource' || cmd === 'addglobalbib' || cmd === 'addsectionbib') {
      let j = skipSpace(s, i);
      const e = skipGroup(s, j, '[', ']');
      if (e >= 0) j = skipSpace(s, e);
      const end = skipGroup(s, j, '{', '}');
      if (end < 0) continue;
      const kind = cmd === 'bibliography' ? 'bibliography' : 'addbibresource';
      const body = s.slice(j + 1, end - 1);
      const parts = kind === 'bibliography' ? body.split(',') : [body];
      let off = j + 1;
      for (const p of parts) {
        const name = p.trim();
        if (name) out.bibliographies.push(ref(name, kind, off + p.indexOf(name)));
        off += p.length + 1;
      }
      re.lastIndex = end;
    } else if (cmd === 'input' || cmd === 'include' || cmd === 'subfile' || cmd === 'import' || cmd === 'subimport' || cmd === 'includeonly') {
      if (cmd === 'includeonly') continue;
      const j = skipSpace(s, i);
      const end = skipGroup(s, j, '{', '}');
      if (end < 0) continue;
      let name = s.slice(j + 1, end - 1).trim();
      let stop = end;
      let kind: TexRef['kind'] = cmd === 'include' ? 'include' : cmd === 'subfile' ? 'subfile' : 'input';
      if (cmd === 'import' || cmd === 'subimport') {
        const k = skipSpace(s, end);
        const end2 = skipGroup(s, k, '{', '}');
        if (end2 < 0) continue;
        const dir = name;
        name = s.slice(k + 1, end2 - 1).trim();
        name = dir ? dir.replace(/\/?$/, '/') + name : name;
        stop = end2;
        kind = 'import';
      }
      if (name) out.inputs.push(ref(name, kind, j + 1));
      re.lastIndex = stop;
    }
  }
  return out;
}
