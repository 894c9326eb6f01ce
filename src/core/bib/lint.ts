/**
 * Checks over one or more parsed .bib files: parse problems, duplicate entries across files
 * (same DOI, or same title + first author surname + year) and malformed DOIs. The identifier
 * helpers it uses live in core/doi.ts.
 */
import { normalizeForMatch, parseAuthors } from './latex';
import type { BibEntry, BibFile } from './parse';
import { DOI_RE, normalizeDoi } from '../doi';

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
