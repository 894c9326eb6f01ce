import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errorCode } from '../../src/core/errors';
import { ScholarHttp } from '../../src/core/net/http';
import * as arxiv from '../../src/core/sources/arxiv';
import * as crossref from '../../src/core/sources/crossref';
import * as doi from '../../src/core/sources/doi';
import * as openalex from '../../src/core/sources/openalex';
import * as s2 from '../../src/core/sources/semanticScholar';
import * as unpaywall from '../../src/core/sources/unpaywall';
import { findFixturesDir, startReplayServer, type ReplayServer } from '../../src/replay';

let replay: ReplayServer;
let http: ScholarHttp;
const fast = { rate: { requests: 1000, intervalMs: 1000 }, concurrency: 8 };

before(async () => {
  replay = await startReplayServer();
  http = new ScholarHttp({
    email: 'sources@example.org',
    endpoints: replay.endpoints,
    policies: { crossref: { ...fast, searchRate: undefined }, openalex: fast, semanticScholar: fast, arxiv: fast, unpaywall: fast, doi: fast, pdf: fast },
  });
});
after(async () => {
  await http.close();
  await replay.close();
});

describe('crossref', () => {
  it('parses a recorded work with an updated-by correction', async () => {
    const w = (await crossref.workByDoi(http, '10.1073/pnas.1414271111'))!;
    assert.equal(w.source, 'crossref');
    assert.equal(w.doi, '10.1073/pnas.1414271111');
    assert.match(w.title, /^Developing functional musculoskeletal tissues/);
    assert.equal(w.authors[0].family, 'Makris');
    assert.equal(w.year, 2014);
    assert.equal(w.venue, 'Proceedings of the National Academy of Sciences');
    assert.deepEqual(w.updates?.[0], { type: 'correction', doi: '10.1073/pnas.1507001112', label: 'Correction', date: '2015-05-04T00:00:00Z' });
    assert.equal(w.isRetracted, undefined);
  });
  it('parses preprint relations and the DOI with a colon', async () => {
    const p = (await crossref.workByDoi(http, '10.1101/2024.04.01.587366'))!;
    assert.equal(p.type, 'posted-content');
    assert.ok(p.relations?.some((r) => r.type === 'is-preprint-of' && r.id === '10.1016/j.xgen.2025.100814'));
    const k = (await crossref.workByDoi(http, '10.1023/a:1007154515475'))!;
    assert.equal(k.doi, '10.1023/a:1007154515475');
    const noAuthors = (await crossref.workByDoi(http, '10.1007/s40278-023-41815-2'))!;
    assert.deepEqual(noAuthors.authors, []);
  });
  it('returns null for 404 (unknown DOI and DataCite DOI)', async () => {
    assert.equal(await crossref.workByDoi(http, '10.1371/notarealdoi'), null);
    assert.equal(await crossref.workByDoi(http, '10.48550/arxiv.2312.07559'), null);
  });
  it('serves recorded searches and generated corpus searches', async () => {
    const rec = await crossref.searchBibliographic(http, { bibliographic: 'Augmenting large language models with chemistry tools', rows: 1 });
    assert.equal(rec[0].doi, '10.1038/s42256-024-00832-8');
    assert.equal(typeof rec[0].score, 'number');
    const none = await crossref.searchBibliographic(http, { bibliographic: 'askldjrq3rjaw938h', rows: 1 });
    assert.deepEqual(none, []);
    const gen = await crossref.searchBibliographic(http, { bibliographic: 'Evaluation of Ascertainment Bias and Clinical Utility', rows: 3 });
    assert.ok(gen.length > 0);
    const q = replay.stats().log.filter((l) => l.path.includes('query.bibliographic')).pop()!;
    assert.match(decodeURIComponent(q.path), /select=DOI,title/);
  });
  it('applies from/until year filters', async () => {
    const res = await crossref.searchBibliographic(http, { bibliographic: 'ecology evolution', fromYear: 2015, untilYear: 2018, rows: 10 });
    for (const r of res) assert.ok(r.year! >= 2015 && r.year! <= 2018, String(r.year));
  });
});

describe('openalex', () => {
  it('parses a recorded work with OA locations', async () => {
    const w = (await openalex.workByDoi(http, '10.1073/pnas.1414271111'))!;
    assert.equal(w.doi, '10.1073/pnas.1414271111');
    assert.equal(w.pmid, '25349395');
    assert.equal(w.isRetracted, undefined);
    assert.ok(w.oaLocations?.some((l) => l.pdfUrl === `${replay.origin}/offline/europepmc.org/articles/pmc4234579?pdf=render`));
    assert.equal(w.type, 'journal-article');
  });
  it('returns null on the recorded HTML 404', async () => {
    assert.equal(await openalex.workByDoi(http, '10.1046/j.1365-2699.2003.00795'), null);
  });
  it('title search returns both versions of a paper', async () => {
    const r = await openalex.searchByTitle(http, 'Augmenting large language models with chemistry tools');
    assert.equal(r.length, 2);
    assert.ok(r.some((x) => x.arxivId === '2304.05376' || x.doi?.startsWith('10.48550')));
  });
  it('generates works for corpus DOIs', async () => {
    const w = (await openalex.workByDoi(http, '10.1063/1.4938384'))!;
    assert.equal(w.source, 'openalex');
    assert.ok(w.title.length > 0);
  });
});

describe('semantic scholar', () => {
  it('parses a recorded paper and OA pdf', async () => {
    const p = (await s2.paperByDoi(http, '10.1073/pnas.1414271111'))!;
    assert.equal(p.pmid, '25349395');
    // The replay server points recorded publisher links at its offline 404 (no request leaves the machine).
    assert.equal(p.oaLocations?.[0].pdfUrl, `${replay.origin}/offline/www.pnas.org/content/pnas/111/45/E4832.full.pdf`);
    assert.equal(p.pages, 'E4832-E4841');
  });
  it('404 → null and search/match', async () => {
    assert.equal(await s2.paperByDoi(http, '10.1101/2024.04.01.587366'), null);
    const m = (await s2.searchMatch(http, 'Attention is All you Need'))!;
    assert.equal(m.arxivId, '1706.03762');
    assert.equal(m.oaLocations, undefined);
    assert.equal(await s2.searchMatch(http, 'askldjrq3rjaw938h'), null);
  });
});

describe('unpaywall', () => {
  it('orders best_oa_location first', async () => {
    const u = (await unpaywall.lookup(http, '10.1073/pnas.1414271111'))!;
    assert.equal(u.oaLocations?.[0].pdfUrl, `${replay.origin}/offline/www.pnas.org/content/pnas/111/45/E4832.full.pdf`);
    assert.equal(u.oaLocations?.[0].version, 'publishedVersion');
    assert.equal(u.oaLocations?.[1].hostType, 'repository');
    const closed = (await unpaywall.lookup(http, '10.1023/a:1007154515475'))!;
    assert.equal(closed.oaLocations, undefined);
  });
  it('requires an email', async () => {
    const anon = new ScholarHttp({ endpoints: replay.endpoints });
    await assert.rejects(unpaywall.lookup(anon, '10.1073/pnas.1414271111'), (e) => errorCode(e) === 'E_NO_EMAIL');
    await anon.close();
  });
});

describe('arxiv', () => {
  it('parses recorded feeds (current and 2016 formats)', async () => {
    const [a] = await arxiv.byIds(http, ['astro-ph/0601001']);
    assert.equal(a.arxivId, 'astro-ph/0601001');
    assert.equal(a.venue, 'ActaAstron.56:1-50,2006');
    assert.equal(a.authors[0].family, 'Gould');
    assert.match(a.oaLocations?.[0].pdfUrl ?? '', /arxiv\.org\/pdf\/astro-ph\/0601001v1/);
    assert.deepEqual(await arxiv.byIds(http, ['0000.0000']), []);
    const dir = path.join(findFixturesDir(), 'api');
    const old = arxiv.parseArxivAtom(fs.readFileSync(path.join(dir, 'arxiv-query-2016format-id_list-1111.2011v2.atom.xml'), 'utf8'));
    assert.equal(old.entries.length, 1);
    assert.ok(old.entries[0].doi);
    const q = arxiv.parseArxivAtom(fs.readFileSync(path.join(dir, 'arxiv-query-search_query-testing-max10.atom.xml'), 'utf8'));
    assert.equal(q.entries.length, 10);
    assert.ok(q.entries.some((e) => e.doi));
  });
  it('searches generated entries by title', async () => {
    replay.addWorks([{ doi: '10.5555/replay.arxiv.1', title: 'Quantum widgets for bibliographic testing', authors: [{ family: 'Tester', given: 'Ada' }], year: 2021, arxivId: '2101.00001' }]);
    const r = await arxiv.searchTitle(http, 'Quantum widgets for bibliographic testing');
    assert.equal(r[0].arxivId, '2101.00001');
    assert.equal(r[0].doi, '10.5555/replay.arxiv.1');
  });
});

describe('doi.org', () => {
  it('content negotiation: recorded BibTeX, CSL-JSON, 404', async () => {
    const bib = await doi.bibtex(http, '10.1073/pnas.1414271111');
    assert.match(bib ?? '', /^@article\{/);
    const csl = await doi.cslJson(http, '10.1063/1.4938384');
    assert.equal(csl?.DOI, '10.1063/1.4938384');
    assert.equal(await doi.bibtex(http, '10.1126/foo'), null);
  });
  it('handle API and landing page with citation_pdf_url', async () => {
    assert.deepEqual((await doi.handle(http, '10.1126/foo')).exists, false);
    const h = await doi.handle(http, '10.1063/1.4938384');
    assert.equal(h.exists, true);
    const page = await doi.landingPage(http, '10.1016/j.xgen.2025.100814');
    assert.match(page.finalUrl, /\/landing\/10\.1016\/j\.xgen\.2025\.100814$/);
    assert.match(page.html, /citation_title/);
  });
  it('citationPdfUrl resolves relative URLs and ignores non-http schemes', () => {
    const html = `<head><meta content="/content/a.pdf?x=1&amp;y=2" name="citation_pdf_url"><meta name="citation_title" content="t"></head>`;
    assert.equal(doi.citationPdfUrl(html, 'https://pub.example/article/1'), 'https://pub.example/content/a.pdf?x=1&y=2');
    assert.equal(doi.citationPdfUrl(`<meta name='citation_pdf_url' content='javascript:alert(1)'>`, 'https://x.org/'), undefined);
    assert.equal(doi.citationPdfUrl('<p>no meta</p>', 'https://x.org/'), undefined);
  });
});
