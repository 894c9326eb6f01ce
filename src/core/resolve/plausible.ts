/**
 * Whether a fallback after Crossref's search could find a DOI for an entry Crossref did not match
 * confidently: OpenAlex's title search (fast, billed per search since 2026), Semantic Scholar's title
 * match (1 req/s) and arXiv's title search (1 per 3 s). Asking all of them for every such entry made
 * a 988-entry bibliography take over a quarter of an hour (issue 17), mostly for entries that have no
 * DOI anywhere. The rule and the measurement behind it: docs/decisions.md ("Fallbacks only where
 * they can help").
 */
import type { BibEntry } from '../bib/parse';
import type { EntryFacts } from '../match/score';

export type Fallback = 'openalex' | 'semanticScholar' | 'arxiv';

/**
 * `plausible`: ask each fallback only where the rule below says it could help (the default).
 * `all`: ask every fallback for every entry Crossref did not match (the behaviour before issue 17).
 * `fast`: never ask the slow ones; OpenAlex where the rule says so.
 */
export type FallbackRule = 'plausible' | 'all' | 'fast';
export const FALLBACK_RULES: readonly FallbackRule[] = ['plausible', 'all', 'fast'];

export interface Plausibility {
  ask: boolean;
  /** A short reason, for the log and the tests. */
  why: string;
}

/** Entry types that describe things the scholarly indexes rarely give a DOI: web pages, software, data, manuals. */
const NON_PAPER_TYPES = new Set(['misc', 'online', 'electronic', 'www', 'web', 'webpage', 'software', 'dataset', 'data', 'manual', 'video', 'audio', 'image', 'artwork', 'music', 'movie', 'patent', 'standard', 'generic']);
const THESIS_TYPES = new Set(['phdthesis', 'mastersthesis', 'thesis']);
const BOOK_TYPES = new Set(['book', 'mvbook', 'proceedings', 'mvproceedings', 'collection', 'mvcollection', 'booklet', 'reference']);
const REPORT_TYPES = new Set(['techreport', 'report']);

/** DOIs exist since 2000; an older work's DOI is a publisher's back-catalogue DOI, registered at Crossref. */
export const OLD_BEFORE = 2000;

/** A title shorter than this (in words) matches too many works by title alone to be worth a slow request. */
export const MIN_TITLE_WORDS = 3;

const field = (entry: BibEntry, name: string) => entry.fields.get(name)?.value.trim() || undefined;

/** A hint that the entry has an arXiv (or other preprint) copy: the title search at arXiv can find it. */
function preprintHint(entry: BibEntry, facts: EntryFacts): boolean {
  // The matcher reads every @unpublished as a preprint citation; here it takes a named server or id
  // ("Forthcoming", "Unpublished manuscript" find nothing at arXiv or Semantic Scholar).
  if (facts.isPreprint && facts.type.toLowerCase() !== 'unpublished') return true;
  for (const n of ['eprint', 'archiveprefix', 'eprinttype', 'arxivid', 'url', 'note', 'howpublished', 'journal', 'publisher', 'institution']) {
    const v = field(entry, n);
    if (v && /arxiv|preprint|biorxiv|medrxiv|ssrn|researchgate|openreview/i.test(v)) return true;
  }
  return false;
}

/** The entry names where it was published: a journal or a proceedings volume (not only a publisher). */
function hasVenue(entry: BibEntry): boolean {
  return !!(field(entry, 'journal') ?? field(entry, 'journaltitle') ?? field(entry, 'booktitle') ?? field(entry, 'series'));
}

/**
 * Decides, for one entry without a confident Crossref match, whether `service` is worth a request.
 * Pure: reads only the entry and the facts the matcher derived from it.
 *
 * - Every fallback: not for a web page, software, data or a manual without a venue, nor for an
 *   @unpublished without a preprint: no index gives those a DOI.
 * - OpenAlex (fast, but billed per search since 2026): that much only. Its title search finds DOIs
 *   Crossref's search ranked too low (measured: docs/decisions.md), short titles included.
 * - The slow ones: not for a title of fewer than {@link MIN_TITLE_WORDS} words either.
 * - Semantic Scholar (1 req/s), asked only after OpenAlex found nothing confident: also not for
 *   theses, nor for works from before DOIs ({@link OLD_BEFORE}) without a preprint. Their DOIs are
 *   back-catalogue DOIs registered at Crossref, which Crossref's search and OpenAlex (which holds all
 *   of Crossref) had just been asked about; what Semantic Scholar adds is arXiv and recent work.
 * - arXiv title search (1 per 3 s): only preprints that can be on arXiv (since 1991).
 */
export function plausibleFallback(entry: BibEntry, facts: EntryFacts, service: Fallback): Plausibility {
  const type = facts.type.toLowerCase();
  const words = facts.title.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
  // Not for OpenAlex: on the tuning share its search found 9 DOIs of two-word titles (the matcher
  // then tells same-titled works apart by authors and year).
  if (words < MIN_TITLE_WORDS && service !== 'openalex') return { ask: false, why: `title of ${words} word${words === 1 ? '' : 's'}: too generic to match by title` };
  const preprint = preprintHint(entry, facts);
  if (service === 'arxiv') {
    if (!preprint) return { ask: false, why: 'no sign of a preprint' };
    if (facts.preprintServer && facts.preprintServer !== 'arxiv') return { ask: false, why: `cites a ${facts.preprintServer} preprint, not arXiv` };
    if (facts.year !== undefined && facts.year < 1991) return { ask: false, why: 'older than arXiv' };
    return { ask: true, why: 'cites a preprint' };
  }
  if (preprint) return { ask: true, why: 'cites a preprint' };
  if (NON_PAPER_TYPES.has(type) && !hasVenue(entry)) return { ask: false, why: `@${type} without a venue (a web page, software, data or manual)` };
  if (type === 'unpublished') return { ask: false, why: '@unpublished without a preprint' };
  if (service === 'openalex') return { ask: true, why: `@${type}` };
  if (THESIS_TYPES.has(type)) return { ask: false, why: 'a thesis: a DOI of one is its school repository\'s, which OpenAlex indexes and Semantic Scholar\'s title match does not' };
  if (facts.year !== undefined && facts.year < OLD_BEFORE) return { ask: false, why: `@${type} from before ${OLD_BEFORE}: its DOI, if any, is Crossref's, already searched there and at OpenAlex` };
  if (facts.year === undefined && (BOOK_TYPES.has(type) || REPORT_TYPES.has(type))) return { ask: false, why: `@${type} without a year` };
  return { ask: true, why: facts.year === undefined ? `@${type} without a year` : `@${type} from ${facts.year}` };
}

/** The rule as the resolver applies it. */
export function shouldAsk(rule: FallbackRule, entry: BibEntry, facts: EntryFacts, service: Fallback): boolean {
  if (rule === 'all') return true;
  if (rule === 'fast' && service !== 'openalex') return false;
  return plausibleFallback(entry, facts, service).ask;
}
