// The replay server's data: real Crossref records (test/fixtures/corpus) plus works added by tests,
// and generators that render one record in the response shapes of each service.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type CrossrefItem = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Convenience shape for `addWorks`; raw Crossref items (with `DOI`) are accepted too. */
export interface SyntheticWork {
  doi: string;
  title: string;
  authors?: { family: string; given?: string }[];
  year?: number;
  venue?: string;
  type?: string;
  volume?: string;
  pages?: string;
  publisher?: string;
  abstract?: string;
  arxivId?: string;
  /** Open-access status the generated OpenAlex/Unpaywall/S2 records report; default derived from the DOI. */
  oa?: 'gold' | 'green' | 'bronze' | 'closed';
  retracted?: boolean;
  /** Size in bytes of the PDF served for this work (padding). */
  pdfBytes?: number;
}

interface Entry {
  item: CrossrefItem;
  doi: string;
  titleTokens: Set<string>;
  authorTokens: Set<string>;
  year?: number;
  arxivId?: string;
  oa: 'gold' | 'green' | 'bronze' | 'closed';
  retracted: boolean;
  pdfBytes?: number;
}

export function tokens(s: string): string[] {
  return s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/<[^>]+>/g, ' ')
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 1 || /\d/.test(t));
}

export function normQuery(s: string): string {
  return tokens(s).join(' ');
}

function hashInt(s: string): number {
  return createHash('sha1').update(s).digest().readUInt32BE(0);
}

function first(v: unknown): string {
  return Array.isArray(v) ? String(v[0] ?? '') : typeof v === 'string' ? v : '';
}

function yearOf(item: CrossrefItem): number | undefined {
  for (const k of ['issued', 'published-print', 'published-online', 'published']) {
    const y = item[k]?.['date-parts']?.[0]?.[0];
    if (typeof y === 'number') return y;
  }
  return undefined;
}

function syntheticToItem(w: SyntheticWork): CrossrefItem {
  const now = new Date().toISOString();
  const item: CrossrefItem = {
    indexed: { 'date-parts': [[2025, 1, 1]], 'date-time': now, timestamp: Date.now() },
    'reference-count': 0,
    publisher: w.publisher ?? 'Replay Publisher',
    DOI: w.doi,
    type: w.type ?? 'journal-article',
    created: { 'date-parts': [[w.year ?? 2020, 1, 1]] },
    source: 'Crossref',
    title: [w.title],
    prefix: w.doi.split('/')[0],
    author: (w.authors ?? []).map((a, i) => ({ ...a, sequence: i === 0 ? 'first' : 'additional', affiliation: [] })),
    member: '0',
    'container-title': w.venue ? [w.venue] : [],
    deposited: { 'date-parts': [[2025, 1, 1]] },
    issued: { 'date-parts': [[w.year ?? 2020]] },
    'references-count': 0,
    URL: `https://doi.org/${w.doi}`,
  };
  if (w.volume) item.volume = w.volume;
  if (w.pages) item.page = w.pages;
  if (w.abstract) item.abstract = `<jats:p>${w.abstract}</jats:p>`;
  if (w.retracted) item['updated-by'] = [{ updated: { 'date-parts': [[2024, 1, 1]] }, DOI: `${w.doi}.retraction`, type: 'retraction', source: 'publisher', label: 'Retraction' }];
  if (w.arxivId) item.relation = { 'has-preprint': [{ 'id-type': 'doi', id: `10.48550/arXiv.${w.arxivId}`, 'asserted-by': 'subject' }] };
  if (w.oa === 'gold') item.license = [{ URL: 'http://creativecommons.org/licenses/by/4.0/', 'content-version': 'vor', 'delay-in-days': 0, start: { 'date-parts': [[w.year ?? 2020, 1, 1]] } }];
  return item;
}

export class Corpus {
  private byDoi = new Map<string, Entry>();
  private byArxiv = new Map<string, Entry>();

  static load(path: string): Corpus {
    const c = new Corpus();
    const items: CrossrefItem[] = [];
    for (const line of readFileSync(path, 'utf8').split('\n')) if (line.trim()) items.push(JSON.parse(line));
    c.add(items);
    return c;
  }

  get size(): number {
    return this.byDoi.size;
  }

  add(works: (SyntheticWork | CrossrefItem)[]): void {
    for (const w of works) {
      const isItem = typeof (w as CrossrefItem).DOI === 'string';
      const item = isItem ? (w as CrossrefItem) : syntheticToItem(w as SyntheticWork);
      const syn = isItem ? undefined : (w as SyntheticWork);
      const doi = String(item.DOI).toLowerCase();
      const h = hashInt(doi);
      const licensed = JSON.stringify(item.license ?? '').includes('creativecommons');
      const oa = syn?.oa ?? (licensed ? 'gold' : (['closed', 'green', 'bronze'] as const)[h % 3]);
      const year = yearOf(item);
      let arxivId = syn?.arxivId;
      if (!syn && (item.type === 'posted-content' || h % 5 === 0)) {
        // A deterministic share of the corpus "is on arXiv", with an id shaped like the real ones.
        const y = Math.min(Math.max(year ?? 2015, 2008), 2099) % 100;
        arxivId = `${String(y).padStart(2, '0')}${String((h % 12) + 1).padStart(2, '0')}.${String(h % 100000).padStart(5, '0')}`;
      }
      const retracted =
        syn?.retracted ?? (Array.isArray(item['updated-by']) && item['updated-by'].some((u: { type?: string }) => u.type === 'retraction'));
      const e: Entry = {
        item,
        doi,
        titleTokens: new Set(tokens(`${first(item.title)} ${first(item.subtitle)}`)),
        authorTokens: new Set(tokens((item.author ?? []).map((a: { family?: string; given?: string; name?: string }) => `${a.family ?? a.name ?? ''} ${a.given ?? ''}`).join(' '))),
        year,
        arxivId,
        oa,
        retracted,
        pdfBytes: syn?.pdfBytes,
      };
      this.byDoi.set(doi, e);
      if (arxivId) this.byArxiv.set(arxivId.toLowerCase(), e);
    }
  }

  get(doi: string): Entry | undefined {
    return this.byDoi.get(doi.toLowerCase());
  }

  getArxiv(id: string): Entry | undefined {
    return this.byArxiv.get(id.toLowerCase().replace(/v\d+$/, ''));
  }

  /** Ranks by token overlap (title weighs double, author tokens count once); score is in [0, 1]-ish × 100. */
  search(
    q: { text?: string; author?: string; fromYear?: number; untilYear?: number; arxivOnly?: boolean },
    rows: number,
  ): { total: number; hits: { e: Entry; score: number }[] } {
    const qt = [...new Set(tokens(q.text ?? ''))];
    const qa = [...new Set(tokens(q.author ?? ''))];
    if (!qt.length && !qa.length) return { total: 0, hits: [] };
    const hits: { e: Entry; score: number }[] = [];
    for (const e of this.byDoi.values()) {
      if (q.arxivOnly && !e.arxivId) continue;
      if (q.fromYear && (!e.year || e.year < q.fromYear)) continue;
      if (q.untilYear && (!e.year || e.year > q.untilYear)) continue;
      let s = 0;
      for (const t of qt) if (e.titleTokens.has(t)) s += 2;
      else if (e.authorTokens.has(t)) s += 1;
      for (const t of qa) if (e.authorTokens.has(t)) s += 1;
      if (s === 0) continue;
      // Penalise long titles that merely contain the query words.
      const norm = s / (2 * qt.length + qa.length) - 0.02 * Math.max(0, e.titleTokens.size - qt.length);
      hits.push({ e, score: Math.round(Math.max(norm, 0.001) * 10000) / 100 });
    }
    // The best `rows` by the same order as a full sort, without sorting every hit: sorting thousands
    // of hits with localeCompare took ~20 ms per search, long enough to stall the server's event loop
    // and timestamp the next arrivals late (issue 15's strict-window measurements).
    const cmp = (a: { e: Entry; score: number }, b: { e: Entry; score: number }) => b.score - a.score || a.e.doi.localeCompare(b.e.doi);
    const top: { e: Entry; score: number }[] = [];
    if (rows <= 0) return { total: hits.length, hits: top };
    for (const h of hits) {
      if (top.length === rows && cmp(h, top[top.length - 1]) >= 0) continue;
      let i = top.length;
      while (i > 0 && cmp(h, top[i - 1]) < 0) i--;
      top.splice(i, 0, h);
      if (top.length > rows) top.pop();
    }
    return { total: hits.length, hits: top };
  }
}

export type { Entry as CorpusEntry };

// ---- renderers: one corpus entry in each service's response shape ----

export interface Urls {
  pdf(doi: string): string;
  landing(doi: string): string;
  arxivAbs(id: string): string;
  arxivPdf(id: string): string;
}

function authorsOf(e: Entry): { family: string; given?: string; name?: string }[] {
  return Array.isArray(e.item.author) ? e.item.author : [];
}

function displayName(a: { family?: string; given?: string; name?: string }): string {
  return a.name ?? [a.given, a.family].filter(Boolean).join(' ');
}

function pdfUrlFor(e: Entry, urls: Urls): string | null {
  return e.oa === 'gold' || e.oa === 'green' ? urls.pdf(e.doi) : null;
}

function licenseOf(e: Entry): string | null {
  return e.oa === 'gold' ? 'cc-by' : null;
}

export function crossrefWorkEnvelope(item: CrossrefItem): unknown {
  return { status: 'ok', 'message-type': 'work', 'message-version': '1.0.0', message: item };
}

export function crossrefListEnvelope(items: CrossrefItem[], total: number, rows: number, terms: string | null): unknown {
  return {
    status: 'ok',
    'message-type': 'work-list',
    'message-version': '1.0.0',
    message: { facets: {}, 'total-results': total, items, 'items-per-page': rows, query: { 'start-index': 0, 'search-terms': terms } },
  };
}

export function selectFields(item: CrossrefItem, select: string | null, score?: number): CrossrefItem {
  const withScore = score === undefined ? item : { ...item, score };
  if (!select) return withScore;
  const keep = new Set(select.split(',').map((s) => s.trim()));
  return Object.fromEntries(Object.entries(withScore).filter(([k]) => keep.has(k)));
}

export function openAlexWork(e: Entry, urls: Urls, relevance?: number): Record<string, unknown> {
  const i = e.item;
  const h = hashInt(e.doi);
  const venue = first(i['container-title']) || null;
  const source = venue ? { id: `https://openalex.org/S${h % 1e9}`, display_name: venue, type: 'journal', host_organization_name: i.publisher ?? null } : null;
  const pdf = pdfUrlFor(e, urls);
  const primary = {
    is_oa: e.oa !== 'closed',
    landing_page_url: urls.landing(e.doi),
    pdf_url: e.oa === 'gold' ? pdf : null,
    source,
    license: licenseOf(e),
    license_id: licenseOf(e) ? 'https://openalex.org/licenses/cc-by' : null,
    version: 'publishedVersion',
    is_accepted: true,
    is_published: true,
  };
  const locations: Record<string, unknown>[] = [primary];
  if (e.oa === 'green')
    locations.push({
      is_oa: true,
      landing_page_url: `${urls.landing(e.doi)}?repository=1`,
      pdf_url: pdf,
      source: { id: 'https://openalex.org/S4306400806', display_name: 'Replay Repository', type: 'repository' },
      license: null,
      license_id: null,
      version: 'acceptedVersion',
      is_accepted: true,
      is_published: false,
    });
  if (e.arxivId)
    locations.push({
      is_oa: true,
      landing_page_url: urls.arxivAbs(e.arxivId),
      pdf_url: urls.arxivPdf(e.arxivId),
      source: { id: 'https://openalex.org/S4306400194', display_name: 'arXiv (Cornell University)', type: 'repository' },
      license: null,
      license_id: null,
      version: 'submittedVersion',
      is_accepted: false,
      is_published: false,
    });
  const best = e.oa === 'closed' ? (locations.find((l) => l.is_oa && l !== primary) ?? null) : e.oa === 'green' ? locations[1] : primary;
  const page = String(i.page ?? '');
  const [fp, lp] = page.split('-');
  const out: Record<string, unknown> = {
    id: `https://openalex.org/W${h}`,
    doi: `https://doi.org/${e.doi}`,
    title: first(i.title) || null,
    display_name: first(i.title) || null,
    publication_year: e.year ?? null,
    publication_date: e.year ? `${e.year}-01-01` : null,
    ids: { openalex: `https://openalex.org/W${h}`, doi: `https://doi.org/${e.doi}` },
    language: i.language ?? null,
    primary_location: primary,
    type: i.type === 'journal-article' ? 'article' : (i.type ?? 'other'),
    type_crossref: i.type ?? 'other',
    open_access: { is_oa: e.oa !== 'closed' || !!e.arxivId, oa_status: e.oa, oa_url: (best as { pdf_url?: string } | null)?.pdf_url ?? null, any_repository_has_fulltext: e.oa === 'green' || !!e.arxivId },
    authorships: authorsOf(e).map((a, k) => ({
      author_position: k === 0 ? 'first' : 'middle',
      author: { id: `https://openalex.org/A${hashInt(displayName(a)) % 1e10}`, display_name: displayName(a), orcid: null },
      institutions: [],
      countries: [],
      is_corresponding: false,
      raw_author_name: displayName(a),
      raw_affiliation_strings: [],
    })),
    biblio: { volume: i.volume ?? null, issue: i.issue ?? null, first_page: fp || null, last_page: lp || null },
    is_retracted: e.retracted,
    is_paratext: false,
    locations_count: locations.length,
    locations,
    best_oa_location: best,
    cited_by_count: i['is-referenced-by-count'] ?? 0,
    updated_date: '2025-01-01T00:00:00',
    created_date: '2025-01-01',
  };
  if (relevance !== undefined) out.relevance_score = relevance;
  return out;
}

export function unpaywallRecord(e: Entry, urls: Urls): Record<string, unknown> {
  const i = e.item;
  const pdf = pdfUrlFor(e, urls);
  const loc = (host: 'publisher' | 'repository', version: string, pdfUrl: string | null, landing: string) => ({
    url: pdfUrl ?? landing,
    url_for_pdf: pdfUrl,
    url_for_landing_page: landing,
    evidence: host === 'publisher' ? 'open (via page says license)' : 'oa repository (via OAI-PMH doi match)',
    license: host === 'publisher' ? licenseOf(e) : null,
    version,
    host_type: host,
    is_best: false,
    pmh_id: null,
    endpoint_id: null,
    repository_institution: host === 'repository' ? 'Replay Repository' : null,
    oa_date: e.year ? `${e.year}-01-01` : null,
    updated: '2025-01-01T00:00:00',
  });
  const locs: ReturnType<typeof loc>[] = [];
  if (e.oa === 'gold') locs.push(loc('publisher', 'publishedVersion', pdf, urls.landing(e.doi)));
  if (e.oa === 'bronze') locs.push(loc('publisher', 'publishedVersion', null, urls.landing(e.doi)));
  if (e.oa === 'green') locs.push(loc('repository', 'acceptedVersion', pdf, `${urls.landing(e.doi)}?repository=1`));
  if (e.arxivId) locs.push(loc('repository', 'submittedVersion', urls.arxivPdf(e.arxivId), urls.arxivAbs(e.arxivId)));
  if (locs[0]) locs[0].is_best = true;
  return {
    doi: e.doi,
    doi_url: `https://doi.org/${e.doi}`,
    title: first(i.title) || null,
    genre: i.type ?? null,
    is_paratext: false,
    published_date: e.year ? `${e.year}-01-01` : null,
    year: e.year ?? null,
    journal_name: first(i['container-title']) || null,
    journal_issns: Array.isArray(i.ISSN) ? i.ISSN.join(',') : null,
    journal_is_oa: e.oa === 'gold',
    journal_is_in_doaj: e.oa === 'gold',
    publisher: i.publisher ?? null,
    is_oa: locs.length > 0,
    oa_status: locs.length ? (e.oa === 'closed' ? 'green' : e.oa) : 'closed',
    has_repository_copy: locs.some((l) => l.host_type === 'repository'),
    best_oa_location: locs[0] ?? null,
    first_oa_location: locs[0] ?? null,
    oa_locations: locs,
    oa_locations_embargoed: [],
    data_standard: 2,
    z_authors: authorsOf(e).map((a, k) => ({ author_position: k === 0 ? 'first' : 'additional', raw_author_name: displayName(a), is_corresponding: k === 0, raw_affiliation_strings: [] })),
    updated: '2025-01-01T00:00:00',
  };
}

const S2_TYPES: Record<string, string[]> = {
  'journal-article': ['JournalArticle'],
  'proceedings-article': ['Conference'],
  'book-chapter': ['BookSection'],
  book: ['Book'],
  dataset: ['Dataset'],
};

export function s2Paper(e: Entry, urls: Urls, fields: string | null, matchScore?: number): Record<string, unknown> {
  const i = e.item;
  const id = createHash('sha1').update(e.doi).digest('hex');
  const pdf = pdfUrlFor(e, urls) ?? (e.arxivId ? urls.arxivPdf(e.arxivId) : null);
  const ext: Record<string, unknown> = { DOI: String(i.DOI), CorpusId: hashInt(e.doi) % 1e9 };
  if (e.arxivId) ext.ArXiv = e.arxivId;
  const full: Record<string, unknown> = {
    paperId: id,
    externalIds: ext,
    url: `https://www.semanticscholar.org/paper/${id}`,
    title: first(i.title),
    venue: first(i['container-title']),
    year: e.year ?? null,
    citationCount: i['is-referenced-by-count'] ?? 0,
    influentialCitationCount: 0,
    isOpenAccess: !!pdf,
    openAccessPdf: pdf ? { url: pdf, status: e.oa === 'closed' ? 'GREEN' : e.oa.toUpperCase(), license: licenseOf(e) === 'cc-by' ? 'CCBY' : null } : { url: '', status: null, license: null },
    publicationTypes: S2_TYPES[i.type] ?? null,
    publicationDate: e.year ? `${e.year}-01-01` : null,
    journal: first(i['container-title']) ? { name: first(i['container-title']), pages: i.page, volume: i.volume } : null,
    authors: authorsOf(e).map((a) => ({ authorId: String(hashInt(displayName(a)) % 1e9), name: displayName(a) })),
  };
  const out: Record<string, unknown> = { paperId: id };
  const want = fields ? fields.split(',').map((f) => f.trim()) : ['title'];
  for (const f of want) if (f in full) out[f] = full[f];
  if (matchScore !== undefined) out.matchScore = matchScore;
  return out;
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function arxivFeed(entries: Entry[], urls: Urls, query: string, total = entries.length): string {
  const body = entries
    .map((e) => {
      const i = e.item;
      const id = e.arxivId!;
      const date = `${e.year ?? 2020}-01-15T12:00:00Z`;
      const published = i.type === 'posted-content' ? '' : `\n    <arxiv:doi>${xml(String(i.DOI))}</arxiv:doi>`;
      const jref = first(i['container-title']) && i.type !== 'posted-content' ? `\n    <arxiv:journal_ref>${xml(`${first(i['container-title'])} ${i.volume ?? ''} (${e.year ?? ''})`)}</arxiv:journal_ref>` : '';
      const abs = typeof i.abstract === 'string' ? i.abstract.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() : 'No abstract.';
      return `  <entry>
    <id>http://arxiv.org/abs/${id}v1</id>
    <title>${xml(first(i.title))}</title>
    <updated>${date}</updated>
    <link href="${xml(urls.arxivAbs(id))}v1" rel="alternate" type="text/html"/>
    <link href="${xml(urls.arxivPdf(id))}v1" rel="related" type="application/pdf" title="pdf"/>
    <summary>${xml(abs)}</summary>
    <category term="cs.DL" scheme="http://arxiv.org/schemas/atom"/>
    <published>${date}</published>${published}${jref}
    <arxiv:primary_category term="cs.DL"/>
${authorsOf(e)
  .map((a) => `    <author>\n      <name>${xml(displayName(a))}</name>\n    </author>`)
  .join('\n')}
  </entry>`;
    })
    .join('\n');
  return `<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/replay</id>
  <title>arXiv Query: ${xml(query)}</title>
  <updated>2025-01-01T00:00:00Z</updated>
  <link href="https://arxiv.org/api/query?${xml(query)}" type="application/atom+xml"/>
  <opensearch:itemsPerPage>${entries.length}</opensearch:itemsPerPage>
  <opensearch:totalResults>${total}</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
${body}
</feed>
`;
}

export function bibtexFor(e: Entry): string {
  const i = e.item;
  const a = authorsOf(e);
  const key = `${(a[0]?.family ?? a[0]?.name ?? 'Anon').replace(/[^A-Za-z]/g, '')}_${e.year ?? ''}`;
  const type = i.type === 'proceedings-article' ? 'inproceedings' : i.type === 'book-chapter' ? 'inbook' : i.type === 'book' ? 'book' : 'article';
  const fields: [string, string | undefined][] = [
    ['title', first(i.title)],
    ['volume', i.volume],
    ['ISSN', Array.isArray(i.ISSN) ? i.ISSN[0] : undefined],
    ['url', `http://dx.doi.org/${i.DOI}`],
    ['DOI', String(i.DOI)],
    [type === 'inproceedings' ? 'booktitle' : 'journal', first(i['container-title']) || undefined],
    ['publisher', i.publisher],
    ['author', a.map((x) => (x.family ? `${x.family}, ${x.given ?? ''}`.replace(/, $/, '') : (x.name ?? ''))).join(' and ') || undefined],
    ['year', e.year ? String(e.year) : undefined],
    ['pages', i.page],
  ];
  return ` @${type}{${key}, ${fields
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}={${v}}`)
    .join(', ')} }\n`;
}

const CSL_TYPES: Record<string, string> = {
  'journal-article': 'article-journal',
  'proceedings-article': 'paper-conference',
  'book-chapter': 'chapter',
  'book-section': 'chapter',
  'book-part': 'chapter',
  'reference-entry': 'entry-encyclopedia',
  'edited-book': 'book',
  monograph: 'book',
  'reference-book': 'book',
  'posted-content': 'article',
  dissertation: 'thesis',
  'peer-review': 'review',
};

/**
 * Crossref's CSL-JSON for a work, as its content negotiation returns it: the REST record with CSL
 * types, and strings where the REST record has one-element arrays (title, container-title…).
 */
export function cslFor(e: Entry): Record<string, unknown> {
  const i = e.item;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(i)) {
    if (['title', 'container-title', 'short-container-title', 'original-title', 'short-title', 'subtitle'].includes(k)) {
      const s = first(v);
      if (s) out[k] = s;
    } else out[k] = v;
  }
  out.type = CSL_TYPES[String(i.type)] ?? i.type ?? 'article';
  out.source = 'Crossref';
  out.URL = `https://doi.org/${i.DOI}`;
  return out;
}

/** DataCite's CSL-JSON for the arXiv DOI (10.48550/arXiv.<id>) of a corpus work that is on arXiv. */
export function dataciteCslFor(e: Entry): Record<string, unknown> {
  const doi = `10.48550/ARXIV.${e.arxivId!.toUpperCase()}`;
  return {
    type: 'article',
    id: `https://doi.org/${doi.toLowerCase()}`,
    categories: ['Digital Libraries (cs.DL)', 'FOS: Computer and information sciences'],
    author: authorsOf(e).map((a) => (a.family ? { family: a.family, given: a.given } : { literal: a.name })),
    issued: { 'date-parts': [[e.year ?? 2020]] },
    abstract: typeof e.item.abstract === 'string' ? e.item.abstract.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() : undefined,
    DOI: doi,
    publisher: 'arXiv',
    title: first(e.item.title),
    URL: `https://arxiv.org/abs/${e.arxivId}`,
    copyright: 'arXiv.org perpetual, non-exclusive license',
  };
}
