/**
 * Checks over one or more parsed .bib files: parse problems, duplicate entries across files
 * (same DOI, or same title + first author surname + year) and malformed DOIs. Also the DOI and
 * arXiv identifier finders used by the pipeline.
 */
import { normalizeForMatch, parseAuthors } from './latex';
import type { BibEntry, BibFile } from './parse';

export interface Finding {
  /** Stable code: `E_BIB_*` parse codes, `W_DUP_DOI`, `W_DUP_TITLE`, `W_BAD_DOI`. */
  code: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  file: string;
  line: number;
  column: number;
  key?: string;
}

export const DOI_RE = /^10\.\d{4,9}\/\S+$/;

function safeDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Trailing punctuation that is sentence punctuation, not DOI; `)` only when unbalanced. */
function stripTrailing(s: string): string {
  for (;;) {
    const c = s[s.length - 1];
    if (c === undefined) return s;
    if ('.,;:\'"}>]'.includes(c)) {
      s = s.slice(0, -1);
      continue;
    }
    if (c === ')') {
      const opens = s.split('(').length - 1;
      const closes = s.split(')').length - 1;
      if (closes > opens) {
        s = s.slice(0, -1);
        continue;
      }
    }
    return s;
  }
}

/**
 * Canonical form of a DOI for comparison: resolver prefixes, `doi:` and LaTeX escapes removed,
 * URL-decoded, trailing punctuation stripped, lower case. Does not validate (see `isValidDoi`).
 */
export function normalizeDoi(s: string): string {
  let d = s.trim().replace(/^\{+|\}+$/g, '');
  d = d.replace(/\\([_%&#$])/g, '$1');
  d = safeDecode(d);
  d = d.replace(/^(?:https?:\/\/)?(?:dx\.|www\.)?doi\.org\//i, '');
  d = d.replace(/^(?:https?:\/\/)?doi\.acm\.org\//i, '');
  d = d.replace(/^doi\s*:\s*/i, '').replace(/^doi\s+/i, '');
  // Any other URL that embeds a DOI (publisher landing pages).
  if (/^https?:\/\//i.test(d)) {
    const m = /\b(10\.\d{4,9}\/\S+)/.exec(d);
    if (m) d = m[1];
  }
  return stripTrailing(d.trim()).toLowerCase();
}

export function isValidDoi(s: string): boolean {
  return DOI_RE.test(normalizeDoi(s));
}

/** First DOI found in free text (normalised), or undefined. */
export function extractDoi(text: string): string | undefined {
  const m = /\b10\.\d{4,9}\/[^\s"<>{}]+/.exec(safeDecode(text.replace(/\\([_%&#$])/g, '$1')));
  if (!m) return undefined;
  const d = normalizeDoi(m[0]);
  return DOI_RE.test(d) ? d : undefined;
}

const NEW_ARXIV = /(\d{4}\.\d{4,5})(v\d+)?/;
const OLD_ARXIV = /([a-z][a-z-]*(?:\.[A-Z]{2})?\/\d{7})(v\d+)?/;

/**
 * arXiv identifier in free text, with its version if given: new style `2101.01234v2`, old style
 * `hep-th/9901001`. A bare new-style number counts only when the whole text is the identifier
 * or it follows "arXiv" / an arxiv.org URL, so page ranges and the like are not taken.
 */
export function extractArxivId(text: string): string | undefined {
  const t = text.trim();
  const whole = new RegExp(`^(?:arxiv:\\s*)?(?:${NEW_ARXIV.source}|${OLD_ARXIV.source})$`, 'i').exec(t);
  if (whole) return (whole[1] ?? whole[3]) + (whole[2] ?? whole[4] ?? '');
  const ctx = new RegExp(`(?:arxiv\\.org/(?:abs|pdf)/|arxiv[:\\s.]*(?:preprint\\s*)?(?:arxiv\\s*:\\s*)?)(?:${NEW_ARXIV.source}|${OLD_ARXIV.source})`, 'i').exec(t);
  if (ctx) return (ctx[1] ?? ctx[3]) + (ctx[2] ?? ctx[4] ?? '');
  return undefined;
}

/** The entry's DOI: the `doi` field, else one found in url/note/howpublished. Normalised. */
export function entryDoi(entry: BibEntry): string | undefined {
  const f = entry.fields.get('doi');
  if (f && f.value.trim()) return normalizeDoi(f.value);
  for (const n of ['url', 'note', 'howpublished']) {
    const v = entry.fields.get(n)?.value;
    const d = v ? extractDoi(v) : undefined;
    if (d) return d;
  }
  return undefined;
}

/** The entry's arXiv id from eprint (when its type is arXiv or unspecified), arxivid, url, journal or note. */
export function entryArxivId(entry: BibEntry): string | undefined {
  const eprint = entry.fields.get('eprint')?.value;
  const etype = (entry.fields.get('eprinttype') ?? entry.fields.get('archiveprefix'))?.value.toLowerCase();
  if (eprint && (!etype || etype === 'arxiv')) {
    const id = extractArxivId(eprint);
    if (id) return id;
  }
  for (const n of ['arxivid', 'url', 'journal', 'journaltitle', 'note', 'howpublished']) {
    const v = entry.fields.get(n)?.value;
    const id = v ? extractArxivId(v) : undefined;
    if (id) return id;
  }
  return undefined;
}

function year(entry: BibEntry): string {
  const y = entry.fields.get('year')?.value ?? entry.fields.get('date')?.value ?? '';
  return /\d{4}/.exec(y)?.[0] ?? '';
}

function firstSurname(entry: BibEntry): string {
  const a = entry.fields.get('author')?.value ?? entry.fields.get('editor')?.value;
  if (!a) return '';
  const p = parseAuthors(a).persons[0];
  return p ? normalizeForMatch(p.last) : '';
}

export interface CheckInput {
  path: string;
  file: BibFile;
}

/** Parse problems, duplicates (within and across files) and malformed DOIs, in file order. */
export function checkBibFiles(files: readonly CheckInput[]): Finding[] {
  const out: Finding[] = [];
  const byDoi = new Map<string, { path: string; entry: BibEntry }>();
  const byTitle = new Map<string, { path: string; entry: BibEntry; doi?: string }>();
  for (const { path, file } of files) {
    for (const e of file.errors) {
      out.push({ code: e.code, severity: e.severity, message: e.message, file: path, line: e.line, column: e.column });
    }
    for (const entry of file.entries) {
      const at = { file: path, line: entry.line, column: entry.column, key: entry.key };
      const doiField = entry.fields.get('doi');
      let doi: string | undefined;
      if (doiField && doiField.value.trim()) {
        const n = normalizeDoi(doiField.value);
        if (!DOI_RE.test(n)) {
          out.push({ ...at, code: 'W_BAD_DOI', severity: 'warning', message: `'${entry.key}': malformed DOI '${doiField.value}'` });
        } else doi = n;
      }
      let dupByDoi = false;
      if (doi) {
        const first = byDoi.get(doi);
        if (first) {
          dupByDoi = true;
          out.push({
            ...at,
            code: 'W_DUP_DOI',
            severity: 'warning',
            message: `'${entry.key}' has the same DOI ${doi} as '${first.entry.key}' (${first.path}:${first.entry.line})`,
          });
        } else byDoi.set(doi, { path, entry });
      }
      const title = entry.fields.get('title')?.value;
      if (!title || dupByDoi) continue;
      const t = normalizeForMatch(title);
      const y = year(entry);
      const s = firstSurname(entry);
      if (!t || !y || !s) continue;
      const k = `${t}\u0000${s}\u0000${y}`;
      const first = byTitle.get(k);
      if (!first) {
        byTitle.set(k, { path, entry, doi });
        continue;
      }
      // Two different DOIs are two different works (e.g. preprint and article).
      if (first.doi && doi && first.doi !== doi) continue;
      out.push({
        ...at,
        code: 'W_DUP_TITLE',
        severity: 'warning',
        message: `'${entry.key}' looks like a duplicate of '${first.entry.key}' (${first.path}:${first.entry.line}): same title, first author and year`,
      });
    }
  }
  return out;
}
