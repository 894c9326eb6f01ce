/**
 * Versions are data. A preprint and the journal article published from it share their title and
 * authors, so no text score can tell them apart: what tells them apart is what the records say about
 * themselves (Crossref `type`/`subtype`/`relation`, OpenAlex `type` and location `version`, arXiv,
 * DataCite's resource type) and what the citation says about itself (a venue or not, an eprint, a
 * preprint server named somewhere). The matcher compares the two and never swaps one for the other.
 */

/** What a DOI stands for. An accepted manuscript carries its article's DOI, so it counts as published. */
export type WorkVersion = 'preprint' | 'published' | 'unknown';

/** What a citation cites. */
export type CitedVersion = 'preprint' | 'published' | 'unknown';

/**
 * DOI shapes of preprint servers. Each is the server's own registration pattern; a prefix alone is not
 * enough where the same prefix also registers journals (10.1101 is bioRxiv and medRxiv, but also Cold
 * Spring Harbor's journals, whose DOIs have a journal code: 10.1101/gad.…; 10.5194 is Copernicus,
 * whose Discussions papers carry a year where the final paper carries a volume).
 */
const PREPRINT_DOI: RegExp[] = [
  /^10\.48550\/arxiv\./i, // arXiv (DataCite)
  /^10\.1101\/(\d{6,}|\d{4}\.\d{2}\.\d{2}\.\d+)(v\d+)?$/i, // bioRxiv, medRxiv: 014852, 2020.06.17.20133843
  /^10\.21203\/rs\.\d+\.rs-/i, // Research Square
  /^10\.2139\/ssrn\./i, // SSRN
  /^10\.26434\/chemrxiv/i, // ChemRxiv
  /^10\.33774\/chemrxiv/i, // ChemRxiv (Cambridge Open Engage)
  /^10\.1002\/essoar\./i, // ESS Open Archive
  /^10\.22541\/(au|essoar)\./i, // Authorea
  /^10\.312\d\d\/osf\.io\//i, // OSF Preprints and its community servers (PsyArXiv, SocArXiv, EarthArXiv …)
  /^10\.31223\//i, // EarthArXiv
  /^10\.32942\//i, // EcoEvoRxiv
  /^10\.35542\/osf\.io\//i, // EdArXiv
  /^10\.20944\/preprints/i, // Preprints.org
  /^10\.36227\/techrxiv/i, // TechRxiv
  /^10\.7287\/peerj\.preprints/i, // PeerJ Preprints
  /^10\.1590\/scielopreprints/i, // SciELO Preprints
  /^10\.5194\/[a-z]+-\d{4}-\d+$/i, // Copernicus Discussions since 2016: acp-2016-3 (final papers: acp-16-1234-2016)
  // Copernicus Discussions journals before 2016 (acpd-15-1234-2015); named one by one, because final
  // journals end in "d" too (essd, gmd, wcd).
  /^10\.5194\/(acpd|amtd|bgd|cpd|esdd|essdd|gmdd|hessd|nhessd|npgd|osd|sed|tcd|esurfd|angeod|soild|wesd)-\d+-\d+-\d{4}$/i,
];

export function isPreprintDoi(doi: string | undefined): boolean {
  return !!doi && PREPRINT_DOI.some((re) => re.test(doi.trim()));
}

const PREPRINT_TYPES = new Set(['posted-content', 'preprint']);
/** Types that are a work's version of record (as opposed to a preprint, a dataset or a notice). */
const PUBLISHED_TYPES = new Set([
  'journal-article',
  'proceedings-article',
  'book-chapter',
  'book',
  'monograph',
  'edited-book',
  'reference-book',
  'book-part',
  'book-section',
  'reference-entry',
  'article',
  'review',
  'letter',
  'editorial',
  'paper-conference',
  'chapter',
  'dissertation',
]);

export interface VersionEvidence {
  doi?: string;
  type?: string;
  /** The source's own statement, when it makes one (OpenAlex `type: preprint`, location `version`). */
  version?: WorkVersion;
  relations?: { type: string; id: string }[];
  venue?: string;
}

/** The version a work record stands for, from the strongest statement available. */
export function workVersion(w: VersionEvidence): WorkVersion {
  if (w.version && w.version !== 'unknown') return w.version;
  if (isPreprintDoi(w.doi)) return 'preprint';
  const type = w.type?.toLowerCase();
  if (type && PREPRINT_TYPES.has(type)) return 'preprint';
  if (w.relations?.some((r) => r.type === 'is-preprint-of')) return 'preprint';
  if (w.venue && namesPreprintServer(w.venue)) return 'preprint';
  if (type && PUBLISHED_TYPES.has(type)) return 'published';
  return 'unknown';
}

/**
 * Names of preprint servers as researchers write them in `journal`, `howpublished`, `note`,
 * `publisher` or `institution`. "CoRR" is how DBLP's BibTeX names arXiv; "In Review" is Research
 * Square's; "Discussions"/"Discuss." are Copernicus's open-discussion journals.
 */
export const PREPRINT_SERVER =
  /\b(arxiv|biorxiv|medrxiv|chemrxiv|chemarxiv|ssrn|research ?square|in review|psyarxiv|socarxiv|edarxiv|eartharxiv|ecoevorxiv|engrxiv|techrxiv|osf preprints|essoar|ess open archive|earth and space science open archive|authorea|preprints\.org|peerj preprints|scielo preprints|preprint|preprints|(?<!faraday )discussions|(?<!faraday )discuss\.)(?=$|[^a-z])/i;
/** DBLP's name for arXiv; case matters ("Corr." abbreviates other words). */
const CORR = /\bCoRR\b/;

function namesPreprintServer(v: string): boolean {
  return PREPRINT_SERVER.test(v) || CORR.test(v);
}

const PREPRINT_URL = /(arxiv\.org\/(abs|pdf)\/|biorxiv\.org\/content\/|medrxiv\.org\/content\/|researchsquare\.com\/article\/|ssrn\.com\/|chemrxiv\.org\/|essopenarchive\.org\/|preprints\.org\/manuscript\/|osf\.io\/preprints\/|eartharxiv\.org\/|psyarxiv\.com\/|authorea\.com\/)/i;

export interface CitationFields {
  type: string;
  get(name: string): string | undefined;
}

/**
 * The version an entry cites. A named venue that is not a preprint server means the published
 * version, even when an eprint is given beside it (many journals' BibTeX carries the arXiv id too).
 */
export function citedVersion(c: CitationFields): CitedVersion {
  const venueOf = (n: string) => c.get(n)?.trim() || undefined;
  const journal = venueOf('journal') ?? venueOf('journaltitle') ?? venueOf('booktitle');
  const pubstate = (c.get('pubstate') ?? '').toLowerCase();
  if (/prepublished|submitted|preprint/.test(pubstate)) return 'preprint';
  if (journal) return namesPreprintServer(journal) ? 'preprint' : 'published';
  const type = c.type.toLowerCase();
  if (type === 'unpublished') return 'preprint';
  for (const n of ['howpublished', 'publisher', 'institution', 'organization', 'note', 'type']) {
    const v = c.get(n);
    if (v && namesPreprintServer(v)) return 'preprint';
  }
  const prefix = (c.get('archiveprefix') ?? c.get('eprinttype') ?? '').toLowerCase();
  if (c.get('eprint') && (!prefix || /arxiv|biorxiv|medrxiv|ssrn|chemrxiv/.test(prefix))) return 'preprint';
  if (PREPRINT_URL.test(c.get('url') ?? '')) return 'preprint';
  // Not the entry's own `doi`: the DOI is what checking the entry examines, so it cannot vouch for itself.
  if (['book', 'inbook', 'incollection', 'inproceedings', 'conference', 'phdthesis', 'mastersthesis', 'thesis'].includes(type)) return 'published';
  return 'unknown';
}

/** Whether a candidate of version `w` may stand for a citation of version `c`. */
export function versionCompatible(c: CitedVersion, w: WorkVersion): boolean {
  if (c === 'preprint') return w === 'preprint';
  if (c === 'published') return w !== 'preprint';
  return true;
}

export function describeVersion(v: WorkVersion | CitedVersion): string {
  return v === 'preprint' ? 'preprint' : v === 'published' ? 'published version' : 'version unknown';
}

/**
 * Which preprint server a preprint is on. A citation of a bioRxiv preprint is not a citation of an
 * arXiv copy of the same work: where both sides name their server, they must name the same one.
 * Each server: its DOI shape, and how people and records name it (including its web address).
 */
const SERVERS: readonly (readonly [string, RegExp, RegExp])[] = [
  ['arxiv', /^10\.48550\/arxiv\./i, /\barxiv\b/i],
  ['biorxiv', /^10\.1101\/(\d{6,}|\d{4}\.\d{2}\.\d{2}\.\d+)/i, /\b(bio|med)rxiv\b|cold spring harbor laboratory/i],
  ['researchsquare', /^10\.21203\//i, /research ?square|\bin review\b/i],
  ['ssrn', /^10\.2139\/ssrn/i, /\bssrn\b/i],
  ['chemrxiv', /^10\.(26434|33774)\/chemrxiv/i, /\bchem(ar)?xiv\b/i],
  ['essoar', /^10\.(1002|22541)\/essoar/i, /essoar|ess ?open ?archive|earth and space science open archive/i],
  ['authorea', /^10\.22541\/au\./i, /\bauthorea\b/i],
  ['osf', /^10\.(312\d\d|35542)\/osf\.io\//i, /osf preprints|osf\.io|\b(psy|soc|ed)arxiv\b/i],
  ['eartharxiv', /^10\.31223\//i, /\beartharxiv\b/i],
  ['preprints.org', /^10\.20944\//i, /preprints\.org/i],
  ['techrxiv', /^10\.36227\//i, /\btechrxiv\b/i],
  ['peerj-preprints', /^10\.7287\/peerj\.preprints/i, /peerj preprints/i],
  ['scielo-preprints', /^10\.1590\/scielopreprints/i, /scielo preprints/i],
  ['copernicus-discussions', /^10\.5194\//i, /(?<!faraday )discuss(ions|\.)/i],
];

/** The server of a preprint record: by its DOI, else by its venue. */
export function workServer(w: { doi?: string; venue?: string; version?: WorkVersion }): string | undefined {
  if (w.doi) for (const [id, doiRe] of SERVERS) if (doiRe.test(w.doi) && (id !== 'copernicus-discussions' || isPreprintDoi(w.doi))) return id;
  if (w.venue) for (const [id, , nameRe] of SERVERS) if (nameRe.test(w.venue)) return id;
  return undefined;
}

/** The server a citation names: in its venue fields, its URL, or its eprint type ("CoRR" is arXiv). */
export function citedServer(c: CitationFields): string | undefined {
  for (const n of ['journal', 'journaltitle', 'booktitle', 'howpublished', 'eprinttype', 'archiveprefix', 'note', 'publisher', 'institution', 'organization', 'url']) {
    const v = c.get(n);
    if (!v) continue;
    if (n === 'journal' && CORR.test(v)) return 'arxiv';
    for (const [id, , nameRe] of SERVERS) if (nameRe.test(v)) return id;
  }
  if (c.get('eprint') && !c.get('eprinttype') && !c.get('archiveprefix')) return 'arxiv';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Forms. A technical report, a thesis, a conference paper and a journal article of one title and one
// group of authors are different versions too: the report is usually the earlier one, the journal
// article the later ("Applications of SHOP and SHOP2": a 2004 University of Maryland report, then a
// 2005 IEEE Intelligent Systems article). Their records say which they are (Crossref `type`), and so
// does the entry (its BibTeX type), so the same gate applies: another form is never accepted.

/** The form of a cited or registered work, where it tells versions apart. `paper`: OpenAlex's "article" (journal or conference). */
export type WorkForm = 'article' | 'conference' | 'report' | 'thesis' | 'chapter' | 'paper';

/** Words that make a `@misc`/`@online` entry, or an `@article`'s journal, a report or working paper. */
const REPORT_WORDS = /\b(working|discussion|occasional|white) papers?\b|\btech(nical|\.)? ?(rep(ort)?s?|note)\b|\b(internal|research|final|project) reports?\b|\breport (no|number)\b|\bmimeo(graph)?\b|\b(unpublished )?manuscript\b|\bcahiers? de recherche\b|\barbeitspapier|\bdocumento de trabajo\b/i;

/** The form an entry cites, from its type (and, for `@misc` or a journal naming a series, its words). Preprints are the version rules' business. */
export function citedForm(c: CitationFields): WorkForm | undefined {
  if (citedVersion(c) === 'preprint') return undefined;
  const type = c.type.toLowerCase();
  if (type === 'techreport' || type === 'report') return 'report';
  if (type === 'phdthesis' || type === 'mastersthesis' || type === 'thesis') return 'thesis';
  if (type === 'inproceedings' || type === 'conference') return 'conference';
  if (type === 'article') {
    const j = c.get('journal') ?? c.get('journaltitle');
    return j && REPORT_WORDS.test(j) ? 'report' : 'article';
  }
  if (type === 'misc' || type === 'online' || type === 'booklet') {
    if (c.get('institution')) return 'report';
    for (const n of ['howpublished', 'note', 'type', 'series', 'number']) {
      const v = c.get(n);
      if (v && REPORT_WORDS.test(v)) return 'report';
    }
  }
  return undefined;
}

const FORM_OF_TYPE: Record<string, WorkForm> = {
  'journal-article': 'article',
  'article-journal': 'article', // CSL
  'proceedings-article': 'conference',
  'paper-conference': 'conference', // CSL
  report: 'report',
  'report-component': 'report',
  'report-series': 'report',
  dissertation: 'thesis',
  thesis: 'thesis', // CSL
  'book-chapter': 'chapter',
  'book-section': 'chapter',
  'book-part': 'chapter',
  chapter: 'chapter', // CSL
  article: 'paper', // OpenAlex's type when it gives no Crossref type
};

/** The form a record states by its type; none for a preprint (the version rules decide those) or a type that does not tell. */
export function workForm(w: VersionEvidence): WorkForm | undefined {
  if (workVersion(w) === 'preprint') return undefined;
  return w.type ? FORM_OF_TYPE[w.type.toLowerCase()] : undefined;
}

/** Forms that are another version of a cited form. Chapters and books stay open: a report or thesis published as a book is often the very work cited. */
const OTHER_FORMS: Record<WorkForm, readonly WorkForm[]> = {
  report: ['article', 'conference', 'paper', 'chapter', 'thesis'],
  thesis: ['article', 'conference', 'paper', 'chapter', 'report'],
  conference: ['article', 'report', 'thesis'],
  article: ['conference', 'report', 'thesis'],
  chapter: [],
  paper: [],
};

/** Journals and series that publish conference papers as journal articles (Procedia, IFAC Proceedings Volumes, PVLDB, PACM …). */
const PROCEEDINGS_VENUE = /\b(proceedings|conference|symposium|workshop|congress|colloquium|meeting|procedia)\b|\b(proc|conf|symp)\./i;

/**
 * Whether a record of form `work` is another version than the cited form. Between a conference paper
 * and a journal article the venue decides as well: many conference papers are registered as journal
 * articles (Procedia, PVLDB, ACM's PACM journals, IFAC Proceedings Volumes), and a record Crossref
 * calls identical to another (`is-identical-to`) is one paper in two places.
 */
export function isOtherForm(cited: WorkForm | undefined, work: WorkForm | undefined, ctx: { entryVenue?: string; workVenue?: string; venuesAgree: boolean; identicalTo: boolean }): boolean {
  if (!cited || !work || !OTHER_FORMS[cited].includes(work)) return false;
  const confArticle = (cited === 'conference' && work === 'article') || (cited === 'article' && work === 'conference');
  if (!confArticle) return true;
  if (ctx.identicalTo) return false;
  // The journal side's venue: a journal that looks like proceedings publishes conference papers.
  const [journal, conference] = cited === 'article' ? [ctx.entryVenue, ctx.workVenue] : [ctx.workVenue, ctx.entryVenue];
  const proc = (v?: string) => !!v && PROCEEDINGS_VENUE.test(v);
  if (proc(journal)) return false;
  // One venue named on both sides (a journal written as the booktitle) is one paper; a conference
  // named after a journal ("International Conference on Ocean Engineering" and Ocean Engineering) is not.
  return !(ctx.venuesAgree && !proc(conference));
}

export function describeForm(f: WorkForm, entryType?: string): string {
  if (f === 'report') return entryType && !['techreport', 'report'].includes(entryType.toLowerCase()) ? 'report or working paper' : 'technical report';
  return { article: 'journal article', conference: 'conference paper', thesis: 'thesis', chapter: 'book chapter', paper: 'journal or conference paper' }[f];
}
