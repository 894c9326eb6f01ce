/**
 * The identifiers Scholar reads everywhere: DOIs (canonical form, validity, finding one in text)
 * and arXiv ids. Two contracts for a DOI, on purpose:
 * - `normalizeDoi(s)` always answers a canonical string (for comparing what a user typed);
 * - `parseDoi(raw)` answers a valid canonical DOI or undefined (for reading API answers, where a
 *   malformed value must not pass for a DOI).
 */
import type { BibEntry } from './bib/parse';

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

/** Lower-cased bare DOI (no resolver prefix, no `doi:`), or undefined when it does not look like one (null, empty, malformed). */
export function parseDoi(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  const d = normalizeDoi(raw);
  return DOI_RE.test(d) ? d : undefined;
}

/** Encodes a DOI for a path segment while keeping `/` and `:` readable, as the services' own examples do. */
export function doiPath(doi: string): string {
  return encodeURIComponent(doi).replace(/%2F/gi, '/').replace(/%3A/gi, ':');
}
