/**
 * Comparing one .bib entry with its registry record, field by field, conservatively: a change is
 * proposed only where the record is right and the entry is wrong or missing, never where the local
 * value is merely written differently (LaTeX vs Unicode, case, protection braces, an abbreviated
 * journal, `--` vs `-`) or is richer (full given names vs initials, a page range vs one page, a
 * subtitle). A record whose title plainly names another work is refused as a whole (a DOI typo).
 */
import { normalizeForMatch, parseAuthors, type Person } from '../bib/latex';
import type { BibEntry } from '../bib/parse';
import { dice, titleSimilarity, venueSimilarity } from '../match/score';
import { formatNames, formatPages, formatTitle, latexEscape, venueField } from '../add/format';
import type { BibRecord, RecordName } from '../add/record';
import { normPages } from '../add/record';
import type { FileStyle } from '../add/style';

/** The fields Update compares, by their BibTeX/BibLaTeX names. */
export const UPDATE_FIELDS = ['title', 'author', 'editor', 'journal', 'journaltitle', 'booktitle', 'volume', 'number', 'pages', 'year', 'date', 'publisher', 'issn', 'isbn', 'url'] as const;

/** Always proposed when missing; the others only when the file uses them (or the user asks for them). */
const CORE_MISSING = new Set(['title', 'author', 'journal', 'journaltitle', 'booktitle', 'volume', 'pages', 'year', 'date']);

export interface Proposal {
  key: string;
  field: string;
  /** The value as written in the file (between delimiters), or null when the field is missing. */
  old: string | null;
  /** The value to write (LaTeX, without delimiters). */
  new: string;
  source: string;
  /** Why, for the review: "missing", "differs", "full given names" … */
  reason: string;
}

export interface CompareOptions {
  /** Restrict to these field names (lower case); default UPDATE_FIELDS. */
  fields?: ReadonlySet<string>;
  /** Fields the user chose to keep for this entry: never proposed. */
  kept?: ReadonlySet<string>;
}

export type CompareResult = { outcome: 'ok'; proposals: Proposal[] } | { outcome: 'mismatch'; message: string };

const isInitials = (g: string) => g.split(/[\s.~-]+/).filter(Boolean).every((t) => t.length === 1);

function givenCompat(local: string, remote: string): 'same' | 'richer-remote' | 'richer-local' | 'differ' {
  const l = normalizeForMatch(local);
  const r = normalizeForMatch(remote);
  if (l === r) return 'same';
  if (!l) return r ? 'richer-remote' : 'same';
  if (!r) return 'richer-local';
  const lt = l.split(' ');
  const rt = r.split(' ');
  const initialsOf = (ts: string[]) => ts.map((t) => t[0]).join('');
  if (isInitials(local) && !isInitials(remote) && initialsOf(rt).startsWith(initialsOf(lt))) return 'richer-remote';
  if (isInitials(remote) && initialsOf(lt).startsWith(initialsOf(rt))) return 'richer-local';
  if (lt[0] === rt[0]) return lt.length >= rt.length ? 'richer-local' : 'richer-remote';
  return 'differ';
}

function familyOf(p: Person): string {
  return normalizeForMatch(p.corporate ? p.last : [p.von, p.last].filter(Boolean).join(' '));
}

/** "Raimundo, Jr." and "Raimundo" are one family name: suffixes are written in too many ways to count. */
const noSuffix = (s: string) => s.replace(/\s+(jr|sr|ii|iii|iv)$/, '');

function familyMatch(a0: string, b0: string): boolean {
  if (a0 === b0) return true;
  const a = noSuffix(a0);
  const b = noSuffix(b0);
  if (a === b) return true;
  const al = a.split(' ').pop()!;
  const bl = b.split(' ').pop()!;
  if (al === bl && al.length > 1) return true;
  return Math.min(a.length, b.length) >= 5 && dice(a, b) >= 0.85;
}

function remoteFamily(n: RecordName): string {
  return normalizeForMatch(n.particle ? `${n.particle} ${n.family}` : n.family);
}

/** Names compared by family names; given names only decide between "same" and "richer". */
function compareNames(localRaw: string, remote: RecordName[]): { change: boolean; reason: string } {
  const L = parseAuthors(localRaw);
  const lf = L.persons.map(familyOf);
  const rf = remote.map(remoteFamily);
  if (L.others || lf.length > rf.length) {
    // "and others", or a record that lists fewer names: never shorten the local list.
    const prefix = rf.every((f, i) => i >= lf.length || familyMatch(lf[i], f));
    return prefix ? { change: false, reason: '' } : { change: true, reason: 'different authors' };
  }
  if (lf.length === rf.length && lf.every((f, i) => familyMatch(f, rf[i]))) {
    let richer = false;
    for (let i = 0; i < lf.length; i++) {
      const c = givenCompat(L.persons[i].first, remote[i].given ?? '');
      if (c === 'richer-local' || c === 'differ') return { change: false, reason: '' };
      if (c === 'richer-remote') richer = true;
    }
    return { change: richer, reason: 'full given names' };
  }
  if (lf.length < rf.length && lf.every((f, i) => familyMatch(f, rf[i]))) return { change: true, reason: 'missing authors' };
  return { change: true, reason: 'different authors' };
}

/** Entry-level title protection: the whole title braced, or these braced words. */
function protectionOf(raw: string): { whole: boolean; words: Set<string> } {
  const inner = raw.trim();
  const whole = /^\{.*\}$/s.test(inner) && (() => {
    let d = 0;
    for (let i = 0; i < inner.length; i++) {
      if (inner[i] === '{') d++;
      else if (inner[i] === '}' && --d === 0 && i < inner.length - 1) return false;
    }
    return true;
  })();
  const words = new Set<string>();
  for (const m of inner.matchAll(/\{([A-Za-z][A-Za-z0-9-]*)\}/g)) words.add(m[1].toLowerCase());
  return { whole, words };
}

function titleValue(newTitle: string, localRaw: string | undefined, style: FileStyle): string {
  if (localRaw === undefined) return formatTitle(newTitle, style);
  const p = protectionOf(localRaw);
  if (p.whole) return formatTitle(newTitle, { ...style, protect: 'title' });
  const base = formatTitle(newTitle, p.words.size ? { ...style, protect: 'words' } : style);
  if (!p.words.size) return base;
  // Words the entry protected keep their braces in the new title, whatever the heuristic says.
  return base.replace(/(^|[\s(])([A-Za-z][A-Za-z0-9-]*)(?=[\s:,.;)?!]|$)/g, (m, pre: string, w: string) => (p.words.has(w.toLowerCase()) ? `${pre}{${w}}` : m));
}

function localYear(entry: BibEntry): { field: 'year' | 'date'; year?: number; raw: string } | undefined {
  const y = entry.fields.get('year');
  if (y) return { field: 'year', year: Number(/\d{4}/.exec(y.value)?.[0]) || undefined, raw: y.value };
  const d = entry.fields.get('date');
  if (d) return { field: 'date', year: Number(/\d{4}/.exec(d.value)?.[0]) || undefined, raw: d.value };
  return undefined;
}

const issnNorm = (s: string) => s.toUpperCase().replace(/[^0-9X]/g, '');
function isbnCore(s: string): string {
  const d = s.toUpperCase().replace(/[^0-9X]/g, '');
  if (d.length === 13 && /^97[89]/.test(d)) return d.slice(3, 12);
  if (d.length === 10) return d.slice(0, 9);
  return d;
}

/**
 * The changes that would make `entry` agree with `rec`. `style` is the file's (values are written
 * like the file writes them); the entry's own dialect wins where it differs (an entry with `date`).
 */
export function compareEntry(entry: BibEntry, rec: BibRecord, style: FileStyle, opts: CompareOptions = {}): CompareResult {
  const key = entry.key;
  const f = (n: string) => entry.fields.get(n);
  const want = (n: string) => (!opts.fields || opts.fields.has(n)) && !opts.kept?.has(n);
  const explicit = (n: string) => !!opts.fields?.has(n);
  const mayAdd = (n: string) => CORE_MISSING.has(n) || explicit(n) || (style.usage.get(n) ?? 0) >= 0.3;
  const out: Proposal[] = [];
  const propose = (field: string, value: string, reason: string) => out.push({ key, field, old: f(field)?.value ?? null, new: value, source: rec.source, reason });

  // A DOI typo: the record is another work. Nothing of it may go into this entry.
  const lt = f('title')?.value;
  if (lt && rec.title) {
    const sim = titleSimilarity(lt, { title: rec.title });
    const lfam = f('author') ? parseAuthors(f('author')!.value).persons.map(familyOf)[0] : undefined;
    const rfam = rec.authors[0] ? remoteFamily(rec.authors[0]) : undefined;
    const firstAuthorDiffers = !!lfam && !!rfam && !familyMatch(lfam, rfam);
    if (sim < 0.75 || (firstAuthorDiffers && sim < 0.9)) {
      return { outcome: 'mismatch', message: `the DOI names another work: "${rec.title}"` };
    }
  }

  if (want('title') && rec.title) {
    if (!lt) propose('title', titleValue(rec.title, undefined, style), 'missing');
    else {
      const l = normalizeForMatch(lt);
      const r = normalizeForMatch(rec.title);
      if (l !== r && !l.startsWith(r + ' ')) propose('title', titleValue(rec.title, f('title')!.raw.replace(/^["{]|["}]$/g, ''), style), r.startsWith(l + ' ') ? 'subtitle' : 'differs');
    }
  }

  for (const [field, names] of [['author', rec.authors], ['editor', rec.editors]] as const) {
    if (!want(field) || !names.length) continue;
    const local = f(field);
    if (!local) {
      if (mayAdd(field)) propose(field, formatNames(names, { ...style, nameComma: style.nameComma }), 'missing');
      continue;
    }
    const c = compareNames(local.value, names);
    // The entry's own name order ("Family, Given" or not) is kept.
    if (c.change) propose(field, formatNames(names, { ...style, nameComma: local.value.includes(',') || (!/\sand\s/.test(local.value) && style.nameComma) }), c.reason);
  }

  const vf = venueField(entry.type, entry.fields.has('journaltitle') || entry.fields.has('date') ? 'biblatex' : entry.fields.has('journal') || entry.fields.has('year') ? 'bibtex' : style.dialect);
  const venueName = entry.type === 'article' ? (f('journal') ? 'journal' : f('journaltitle') ? 'journaltitle' : vf) : vf;
  if (venueName && want(venueName) && rec.container) {
    const local = f(venueName);
    if (!local) {
      if (mayAdd(venueName)) propose(venueName, latexEscape(rec.container, style.asciiOnly), 'missing');
    } else if (normalizeForMatch(local.value) !== normalizeForMatch(rec.container) && venueSimilarity(local.value, rec.container) < 0.6) {
      propose(venueName, latexEscape(rec.container, style.asciiOnly), 'differs');
    }
  }

  for (const [field, v] of [['volume', rec.volume], ['number', rec.number]] as const) {
    if (!want(field) || !v) continue;
    const local = f(field);
    if (!local) {
      if (mayAdd(field)) propose(field, latexEscape(v, style.asciiOnly), 'missing');
    } else if (local.value.trim().replace(/^0+(?=\d)/, '') !== v.trim().replace(/^0+(?=\d)/, '') && normalizeForMatch(local.value) !== normalizeForMatch(v)) {
      propose(field, latexEscape(v, style.asciiOnly), 'differs');
    }
  }

  if (want('pages') && rec.pages) {
    const local = f('pages');
    const r = rec.pages;
    if (!local) {
      if (mayAdd('pages')) propose('pages', latexEscape(formatPages(r, style), style.asciiOnly), 'missing');
    } else {
      const l = normPages(local.value.replace(/^pp?\.\s*/i, '').replace(/\\textendash\{?\}?|--/g, '-'));
      const lRange = /^\w+-\w+$/.test(l);
      const rRange = /^\w+-\w+$/.test(r);
      const dash = /--/.test(local.value) ? '--' : /\d-\d/.test(local.value) ? '-' : style.pagesDash;
      if (l.toLowerCase() !== r.toLowerCase()) {
        if (lRange && !rRange && l.split('-')[0] === r) {
          /* the local range is richer than the record's first page */
        } else propose('pages', latexEscape(formatPages(r, { pagesDash: dash }), style.asciiOnly), !lRange && rRange && r.split('-')[0] === l ? 'page range' : 'differs');
      }
    }
  }

  if (rec.year) {
    const ly = localYear(entry);
    const yf = ly?.field ?? (style.dialect === 'biblatex' ? 'date' : 'year');
    if (want(yf) && want('year')) {
      if (!ly) {
        if (mayAdd(yf)) propose(yf, String(rec.year), 'missing');
      } else if (!ly.year || !rec.years.includes(ly.year)) {
        // A date keeps its own precision only when the year is all that changes.
        propose(yf, yf === 'date' ? ly.raw.replace(/^\s*\d{4}|^.*$/, String(rec.year)) : String(rec.year), 'differs');
      }
    }
  }

  if (want('publisher') && rec.publisher) {
    const local = f('publisher');
    if (!local) {
      if (mayAdd('publisher') || ['book', 'incollection', 'inproceedings', 'proceedings'].includes(entry.type)) propose('publisher', latexEscape(rec.publisher, style.asciiOnly), 'missing');
    } else {
      const l = normalizeForMatch(local.value);
      const r = normalizeForMatch(rec.publisher);
      if (l !== r && !l.includes(r) && !r.includes(l) && dice(l, r) < 0.5) propose('publisher', latexEscape(rec.publisher, style.asciiOnly), 'differs');
    }
  }

  if (want('issn') && rec.issn.length) {
    const local = f('issn');
    if (!local) {
      if (mayAdd('issn')) propose('issn', rec.issn[0], 'missing');
    } else {
      const ls = (local.value.match(/\d{4}-?\d{3}[\dXx]/g) ?? []).map(issnNorm);
      if (!ls.some((x) => rec.issn.some((r) => issnNorm(r) === x))) propose('issn', rec.issn[0], 'differs');
    }
  }

  if (want('isbn') && rec.isbn.length) {
    const local = f('isbn');
    if (!local) {
      if (mayAdd('isbn') || entry.type === 'book') propose('isbn', rec.isbn[0], 'missing');
    } else if (!local.value.split(/[,;\s]+/).some((x) => rec.isbn.some((r) => isbnCore(r) === isbnCore(x)))) propose('isbn', rec.isbn[0], 'differs');
  }

  // A local URL is often a link to a preprint or a PDF the user chose: only a missing one is added.
  if (want('url') && rec.url && !f('url') && mayAdd('url')) propose('url', rec.url.replace(/[{}\\]/g, ''), 'missing');

  return { outcome: 'ok', proposals: out };
}
