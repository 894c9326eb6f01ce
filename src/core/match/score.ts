/**
 * Scoring a candidate work against a .bib entry, and deciding accept / review / not found.
 *
 * The function is explicit on purpose: every component is reported back as a reason, so that the
 * review step can show "title 0.97, first author ✓, year +1" and a newcomer can see why a DOI was
 * accepted. Thresholds were tuned on the labelled set in test/fixtures/labelled (see docs/decisions.md).
 */
import { normalizeForMatch } from '../bib/latex';
import { describeForm, describeVersion, isOtherForm, versionCompatible, workForm, workServer, workVersion, type CitedVersion, type WorkForm, type WorkVersion } from './version';

export interface EntryFacts {
  key: string;
  /** BibTeX entry type, lowercase (article, inproceedings, …). */
  type: string;
  /** Title as plain Unicode (LaTeX already turned into text). */
  title: string;
  /** Surnames in order, plain Unicode. */
  authors: string[];
  /** The author list ended with "and others". */
  hasOthers: boolean;
  year?: number;
  venue?: string;
  volume?: string;
  pages?: string;
  /** The entry describes a preprint (arXiv eprint, archivePrefix, or a preprint server as venue). */
  isPreprint: boolean;
  /** The version the entry cites (match/version.ts); absent means unknown. */
  cited?: CitedVersion;
  /** For a cited preprint: the server the citation names (arxiv, biorxiv, researchsquare …), if any. */
  preprintServer?: string;
  /** The form the entry cites (report, thesis, conference paper, journal article), where its type says so. */
  form?: WorkForm;
}

export interface CandidateWork {
  doi?: string;
  title: string;
  subtitle?: string;
  authors: { family: string; given?: string }[];
  year?: number;
  venue?: string;
  type?: string;
  volume?: string;
  pages?: string;
  source: string;
  /** The source's own statement of the version; otherwise derived from DOI, type and relations. */
  version?: WorkVersion;
  relations?: { type: string; id: string }[];
}

export interface ScoreReasons {
  title: number;
  /** true / false when both sides name a first author; null when one side has none. */
  firstAuthor: boolean | null;
  /** Share of the entry's listed surnames found among the candidate's authors. */
  authorOverlap: number | null;
  /** candidate year − entry year, when both are known. */
  yearDelta: number | null;
  venue: number | null;
  typeCompatible: boolean | null;
  volumePages: number | null;
  /** Why the candidate is not the paper itself, although it shares its title. */
  penalty?: 'correction' | 'retraction' | 'reply' | 'review' | 'component' | 'other-edition';
  /** The candidate's version (preprint or published), as its record states it. */
  version: WorkVersion;
  /** false: the candidate is another version than the one the entry cites; null: one side is unknown. */
  versionOk: boolean | null;
  /** A preprint on another server than the one the citation names (then versionOk is false). */
  otherServer?: string;
  /** Another form than the one cited: a journal article for a report, thesis or conference paper, or the other way round (then versionOk is false). */
  otherForm?: { cited: WorkForm; work: WorkForm };
}

export interface ScoredCandidate<C extends CandidateWork = CandidateWork> {
  candidate: C;
  score: number;
  reasons: ScoreReasons;
}

export type Outcome = 'accept' | 'review' | 'not_found';

export interface Decision<C extends CandidateWork = CandidateWork> {
  outcome: Outcome;
  best?: ScoredCandidate<C>;
  /** Ranked, best first, duplicates (same DOI) removed. */
  ranked: ScoredCandidate<C>[];
  why: string;
}

export const THRESHOLDS = {
  /** Overall score needed to accept without review. */
  accept: 0.86,
  /** The same, when neither side names an author (anonymous items, editorials): the other evidence must be complete. */
  acceptAuthorless: 0.82,
  /** Title similarity needed to accept: a confident DOI must be for this very title. */
  acceptTitle: 0.9,
  /** Below this the best candidate is "not found" rather than "review". */
  review: 0.6,
  /** Two different candidates closer than this are ambiguous and go to review. */
  ambiguity: 0.04,
} as const;

const WEIGHTS = { title: 0.55, authors: 0.25, year: 0.1, venue: 0.05, extra: 0.05 } as const;

// ---------------------------------------------------------------------------------------------
// Text similarity

function bigrams(s: string): Map<string, number> {
  const m = new Map<string, number>();
  const t = s.replace(/ /g, '');
  for (let i = 0; i < t.length - 1; i++) {
    const g = t.slice(i, i + 2);
    m.set(g, (m.get(g) ?? 0) + 1);
  }
  return m;
}

/** Sørensen–Dice coefficient on character bigrams of two normalised strings (1 = identical). */
export function dice(a: string, b: string): number {
  if (a === b) return a.length > 0 ? 1 : 0;
  if (a.length < 2 || b.length < 2) return 0;
  const A = bigrams(a);
  const B = bigrams(b);
  let inter = 0;
  let na = 0;
  let nb = 0;
  for (const v of A.values()) na += v;
  for (const v of B.values()) nb += v;
  for (const [g, v] of A) {
    const w = B.get(g);
    if (w) inter += Math.min(v, w);
  }
  return (2 * inter) / (na + nb);
}

/** Removes a trailing subtitle ("Main: sub", "Main — sub", "Main. Sub"). */
function mainTitle(raw: string): string {
  const m = /^(.{12,}?)\s*(?::|\s[-–—]\s|\.\s|\?\s)/.exec(raw);
  return m ? m[1] : raw;
}

/**
 * Title similarity after normalisation (LaTeX, accents, case, punctuation), allowing for a subtitle
 * that one side has and the other does not: such a match scores a little below an exact one.
 */
export function titleSimilarity(entryTitle: string, cand: Pick<CandidateWork, 'title' | 'subtitle'>): number {
  const e = normalizeForMatch(entryTitle);
  const c = normalizeForMatch(cand.title);
  if (!e || !c) return 0;
  let best = dice(e, c);
  if (cand.subtitle) best = Math.max(best, dice(e, normalizeForMatch(`${cand.title} ${cand.subtitle}`)));
  if (best < 0.97) {
    const eMain = normalizeForMatch(mainTitle(entryTitle));
    const cMain = normalizeForMatch(mainTitle(cand.title));
    // A main title alone matching is weaker evidence: cap it below an exact match.
    const partial = Math.max(eMain !== e ? dice(eMain, c) : 0, cMain !== c ? dice(e, cMain) : 0);
    if (partial >= 0.95) best = Math.max(best, 0.92 * partial);
  }
  return best;
}

function surnameKey(s: string): string {
  const n = normalizeForMatch(s);
  // "van der Berg" and "Berg" should meet: keep the last token, and the whole for exact checks.
  return n;
}

function surnameMatches(a: string, b: string): boolean {
  const x = surnameKey(a);
  const y = surnameKey(b);
  if (!x || !y) return false;
  if (x === y) return true;
  const xl = x.split(' ').pop()!;
  const yl = y.split(' ').pop()!;
  if (xl === yl && xl.length > 1) return true;
  // Transliteration and typo tolerance for longer names only.
  return Math.min(x.length, y.length) >= 5 && dice(x, y) >= 0.85;
}

/** How well a venue and a possibly abbreviated form match: "J. Mach. Learn. Res." vs the full name. */
export function venueSimilarity(a: string, b: string): number {
  const x = normalizeForMatch(a);
  const y = normalizeForMatch(b);
  if (!x || !y) return 0;
  if (x === y) return 1;
  const stop = new Set(['of', 'the', 'and', 'on', 'in', 'for', 'de', 'la', 'a']);
  const tx = x.split(' ').filter((t) => !stop.has(t));
  const ty = y.split(' ').filter((t) => !stop.has(t));
  const [short, long] = tx.length <= ty.length ? [tx, ty] : [ty, tx];
  // Every token of the shorter form must abbreviate a distinct token of the longer, in order:
  // a prefix ("Proc" of "Proceedings") or a contraction ("Natl" of "National").
  const abbreviates = (t: string, full: string) => {
    if (full.startsWith(t)) return true;
    if (t.length < 2 || t[0] !== full[0]) return false;
    let k = 1;
    for (let x = 1; x < full.length && k < t.length; x++) if (full[x] === t[k]) k++;
    return k === t.length;
  };
  let j = 0;
  let hits = 0;
  for (const t of short) {
    while (j < long.length && !abbreviates(t, long[j])) j++;
    if (j < long.length) {
      hits++;
      j++;
    }
  }
  const prefix = short.length ? hits / short.length : 0;
  return Math.max(prefix * (short.length >= 2 ? 1 : 0.6), dice(x, y));
}

// ---------------------------------------------------------------------------------------------
// Work types

const TYPE_MAP: Record<string, string[]> = {
  article: ['journal-article', 'posted-content', 'article', 'review', 'letter', 'editorial'],
  inproceedings: ['proceedings-article', 'book-chapter', 'paper-conference', 'article'],
  conference: ['proceedings-article', 'book-chapter', 'paper-conference'],
  incollection: ['book-chapter', 'book-section', 'book-part', 'reference-entry', 'chapter'],
  inbook: ['book-chapter', 'book-section', 'book-part', 'chapter'],
  book: ['book', 'monograph', 'edited-book', 'reference-book', 'book-set'],
  phdthesis: ['dissertation', 'thesis'],
  mastersthesis: ['dissertation', 'thesis'],
  thesis: ['dissertation', 'thesis'],
  techreport: ['report', 'report-component', 'posted-content'],
  report: ['report', 'report-component'],
  unpublished: ['posted-content', 'preprint', 'article'],
  online: ['posted-content', 'dataset', 'other', 'article'],
  misc: [],
  dataset: ['dataset'],
  proceedings: ['proceedings', 'book'],
};

function typeCompatible(entryType: string, workType: string | undefined, isPreprint: boolean): boolean | null {
  if (!workType) return null;
  const allowed = TYPE_MAP[entryType];
  if (!allowed || allowed.length === 0) return null;
  if (isPreprint && (workType === 'posted-content' || workType === 'journal-article' || workType === 'proceedings-article')) return true;
  return allowed.includes(workType);
}

// ---------------------------------------------------------------------------------------------
// Things that share a title but are not the paper

const NOTICE_PATTERNS: [RegExp, NonNullable<ScoreReasons['penalty']>][] = [
  [/^(correction|corrigendum|erratum|errata|addendum|correction to|corrigendum to|erratum to|notice of correction)\b/, 'correction'],
  [/^(retracted|retraction|retraction note|retraction notice|notice of retraction|expression of concern)\b/, 'retraction'],
  [/^(reply|response|author response|authors response|rejoinder|comment|comments|commentary|discussion of|a comment on|reply to)\b/, 'reply'],
  [/^(review for|decision letter|review of|book review)\b/, 'review'],
];

function noticeKind(cand: CandidateWork, entryTitleNorm: string): ScoreReasons['penalty'] | undefined {
  const t = normalizeForMatch(cand.title);
  for (const [re, kind] of NOTICE_PATTERNS) {
    if (re.test(t) && !re.test(entryTitleNorm)) return kind;
  }
  if (cand.type === 'peer-review') return 'review';
  if (cand.type === 'component') return 'component';
  if (cand.doi && /(\.g\d{3,}|\.t\d{3,}|\.s\d{3,}|\/fig(ure)?[-_.]?\d+|\/table[-_.]?\d+|\/supp(lementary)?|\.sd\d+|\/v\d+\/supp)/i.test(cand.doi)) return 'component';
  return undefined;
}

function pagesStart(p: string | undefined): string | undefined {
  if (!p) return undefined;
  const m = /[A-Za-z]?\d+/.exec(p);
  return m ? m[0].toLowerCase() : undefined;
}

// ---------------------------------------------------------------------------------------------

/** Scores one candidate against an entry. The score lies in [0, 1]. */
export function scoreCandidate<C extends CandidateWork>(entry: EntryFacts, cand: C): ScoredCandidate<C> {
  const title = titleSimilarity(entry.title, cand);

  // Authors: first author weighted; "and others" means the entry's list is a prefix, not the whole.
  let firstAuthor: boolean | null = null;
  let authorOverlap: number | null = null;
  let authorScore = 0.5;
  if (entry.authors.length && cand.authors.length) {
    firstAuthor = surnameMatches(entry.authors[0], cand.authors[0].family);
    const found = entry.authors.filter((a) => cand.authors.some((c) => surnameMatches(a, c.family))).length;
    authorOverlap = found / entry.authors.length;
    const firstAnywhere = !firstAuthor && cand.authors.slice(0, 3).some((c) => surnameMatches(entry.authors[0], c.family));
    authorScore = 0.6 * (firstAuthor ? 1 : firstAnywhere ? 0.5 : 0) + 0.4 * authorOverlap;
    // A full list on both sides whose lengths differ a lot is a hint of another work.
    if (!entry.hasOthers && cand.authors.length > 0 && entry.authors.length > 1) {
      const ratio = Math.min(entry.authors.length, cand.authors.length) / Math.max(entry.authors.length, cand.authors.length);
      if (ratio < 0.5) authorScore *= 0.85;
    }
  } else if (entry.authors.length && !cand.authors.length) {
    authorScore = 0.3; // corporate or unsigned items: weak evidence either way
  }

  let yearDelta: number | null = null;
  let yearScore = 0.5;
  if (entry.year && cand.year) {
    yearDelta = cand.year - entry.year;
    const d = Math.abs(yearDelta);
    const tolerance = entry.isPreprint ? 3 : 1;
    yearScore = d === 0 ? 1 : d <= 1 ? 0.8 : d <= tolerance ? 0.6 : d <= tolerance + 2 ? 0.2 : 0;
  }

  let venue: number | null = null;
  let venueScore = 0.5;
  if (entry.venue && cand.venue && !entry.isPreprint) {
    venue = venueSimilarity(entry.venue, cand.venue);
    venueScore = venue;
  }

  const typeOk = typeCompatible(entry.type, cand.type, entry.isPreprint);
  let volumePages: number | null = null;
  let extra = typeOk === null ? 0.5 : typeOk ? 1 : 0.2;
  const vp: number[] = [];
  if (entry.volume && cand.volume) vp.push(normalizeForMatch(entry.volume) === normalizeForMatch(cand.volume) ? 1 : 0);
  const ep = pagesStart(entry.pages);
  const cp = pagesStart(cand.pages);
  if (ep && cp) vp.push(ep === cp ? 1 : 0);
  if (vp.length) {
    volumePages = vp.reduce((a, b) => a + b, 0) / vp.length;
    extra = 0.5 * extra + 0.5 * volumePages;
  }

  let score =
    WEIGHTS.title * title + WEIGHTS.authors * authorScore + WEIGHTS.year * yearScore + WEIGHTS.venue * venueScore + WEIGHTS.extra * extra;

  const penalty = noticeKind(cand, normalizeForMatch(entry.title));
  if (penalty) score *= 0.6;
  // A confident title with a clearly different first author is another work of the same name.
  if (firstAuthor === false && (authorOverlap ?? 0) < 0.5) score = Math.min(score, 0.8);

  const version = workVersion(cand);
  const cited = entry.cited ?? (entry.isPreprint ? 'preprint' : 'unknown');
  let versionOk = cited === 'unknown' || version === 'unknown' ? (cited === 'preprint' ? false : null) : versionCompatible(cited, version);
  const server = versionOk && entry.preprintServer ? workServer({ ...cand, version }) : undefined;
  const otherServer = server && server !== entry.preprintServer ? server : undefined;
  if (otherServer) versionOk = false;
  // A report, thesis, conference paper or journal article is never swapped for another of these forms.
  const wForm = versionOk !== false ? workForm({ ...cand, version }) : undefined;
  const otherForm =
    entry.form && wForm && isOtherForm(entry.form, wForm, {
      entryVenue: entry.venue,
      workVenue: cand.venue,
      venuesAgree: !!entry.venue && !!cand.venue && venueSimilarity(entry.venue, cand.venue) >= 0.7,
      identicalTo: !!cand.relations?.some((r) => r.type === 'is-identical-to'),
    })
      ? { cited: entry.form, work: wForm }
      : undefined;
  if (otherForm) versionOk = false;

  return {
    candidate: cand,
    score: Math.max(0, Math.min(1, score)),
    reasons: { title, firstAuthor, authorOverlap, yearDelta, venue, typeCompatible: typeOk, volumePages, penalty, version, versionOk, ...(otherServer ? { otherServer } : {}), ...(otherForm ? { otherForm } : {}) },
  };
}

function sameWork(a: CandidateWork, b: CandidateWork): boolean {
  return !!a.doi && !!b.doi && a.doi.toLowerCase() === b.doi.toLowerCase();
}

/** Ranks candidates and decides: accept (confident), review (middling or ambiguous), not found. */
export function decide<C extends CandidateWork>(entry: EntryFacts, candidates: C[]): Decision<C> {
  const scored: ScoredCandidate<C>[] = [];
  for (const c of candidates) {
    if (!c.doi) continue;
    const s = scoreCandidate(entry, c);
    const dup = scored.findIndex((x) => sameWork(x.candidate, c));
    if (dup >= 0) {
      if (s.score > scored[dup].score) scored[dup] = s;
    } else scored.push(s);
  }
  scored.sort((a, b) => b.score - a.score);
  // Another version of the work (a preprint for a journal citation, or the other way round) is shown
  // for review but never competes: it is not the work cited, however well its title matches.
  const eligible = scored.filter((s) => s.reasons.versionOk !== false);
  const otherVersion = scored.find((s) => s.reasons.versionOk === false && s.score >= THRESHOLDS.review);
  const [best, second] = eligible;
  const cited = entry.cited ?? (entry.isPreprint ? 'preprint' : 'unknown');
  const ranked = best ? [best, ...scored.filter((s) => s !== best)] : scored;
  if (!best || best.score < THRESHOLDS.review) {
    if (otherVersion) {
      const f = otherVersion.reasons.otherForm;
      return {
        outcome: 'review',
        best: otherVersion,
        ranked: [otherVersion, ...scored.filter((s) => s !== otherVersion)],
        why: f
          ? `only a ${describeForm(f.work)} of this title was found; the entry cites a ${describeForm(f.cited, entry.type)}, another version of the work`
          : `only the ${describeVersion(otherVersion.reasons.version)} was found; the entry cites the ${describeVersion(cited)}`,
      };
    }
    return { outcome: 'not_found', ranked, why: best ? `best score ${best.score.toFixed(2)} below ${THRESHOLDS.review}` : 'no candidate' };
  }
  const r = best.reasons;
  const ambiguous = second !== undefined && best.score - second.score < THRESHOLDS.ambiguity && second.score >= THRESHOLDS.review;
  // When the citation does not say which version it cites, two versions of one work are a question for the user.
  const twoVersions =
    cited === 'unknown' &&
    r.version !== 'unknown' &&
    eligible.some((s) => s !== best && s.reasons.version !== 'unknown' && s.reasons.version !== r.version && s.reasons.title >= THRESHOLDS.acceptTitle && s.reasons.firstAuthor !== false);
  const confident =
    best.score >= (r.firstAuthor === null ? THRESHOLDS.acceptAuthorless : THRESHOLDS.accept) &&
    r.title >= THRESHOLDS.acceptTitle &&
    !r.penalty &&
    r.firstAuthor !== false &&
    // Without any author to compare, an exact title and year need a third witness: the venue or volume/pages.
    (r.firstAuthor === true ||
      (r.title >= 0.98 && r.yearDelta !== null && Math.abs(r.yearDelta) <= 1 && ((r.venue ?? 0) >= 0.8 || r.volumePages === 1))) &&
    (r.yearDelta === null || Math.abs(r.yearDelta) <= (entry.isPreprint ? 3 : 1));
  if (confident && !ambiguous && !twoVersions) return { outcome: 'accept', best, ranked, why: `score ${best.score.toFixed(2)}` };
  return {
    outcome: 'review',
    best,
    ranked,
    why: twoVersions
      ? 'a preprint and a published version share this title; the entry does not say which it cites'
      : ambiguous
        ? `two candidates within ${THRESHOLDS.ambiguity} (${best.score.toFixed(2)} vs ${second!.score.toFixed(2)})`
        : `score ${best.score.toFixed(2)} needs a human look`,
  };
}

/** Human-readable reasons: "title 0.97, first author ✓, year +1, venue 0.80". */
export function describeReasons(r: ScoreReasons): string {
  const parts = [`title ${r.title.toFixed(2)}`];
  if (r.firstAuthor !== null) parts.push(`first author ${r.firstAuthor ? '✓' : '✗'}`);
  if (r.authorOverlap !== null) parts.push(`authors ${Math.round(r.authorOverlap * 100)}%`);
  if (r.yearDelta !== null) parts.push(r.yearDelta === 0 ? 'year ✓' : `year ${r.yearDelta > 0 ? '+' : ''}${r.yearDelta}`);
  if (r.venue !== null) parts.push(`venue ${r.venue.toFixed(2)}`);
  if (r.typeCompatible === false) parts.push('type differs');
  if (r.volumePages !== null) parts.push(`volume/pages ${r.volumePages === 1 ? '✓' : r.volumePages === 0 ? '✗' : '½'}`);
  if (r.penalty) parts.push(`is a ${r.penalty}`);
  if (r.otherServer) parts.push(`preprint on ${r.otherServer} (another server than cited)`);
  else if (r.otherForm) parts.push(`${describeForm(r.otherForm.work)} (another version: the entry cites a ${describeForm(r.otherForm.cited)})`);
  else if (r.version !== 'unknown') parts.push(r.versionOk === false ? `${describeVersion(r.version)} (another version)` : describeVersion(r.version));
  return parts.join(', ');
}
