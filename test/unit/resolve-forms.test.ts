// The resolver against the replay server: a technical report, a thesis, a conference paper or a
// working paper is another version than the journal article of the same title, and the other way
// round. Real records: the two entries of test/fixtures/bib/bbt-issue873-ai-bibliography.bib (the
// 2004 University of Maryland report nau04:applicSHOP2 and the 2005 IEEE Intelligent Systems
// article journals/expert/NauAIKMMWY05, whose DOI is in its url), served as the realbib benchmark
// serves them (test/bench/resolve-real.ts: a record built from the article entry's own fields), and
// Crossref records of test/fixtures/corpus (an NBER working paper, a NIST report, an IFAC
// Proceedings Volumes paper).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseBib, type BibEntry } from '../../src/core/bib/parse';
import { ScholarHttp } from '../../src/core/net/http';
import { resolveEntry } from '../../src/core/resolve/resolver';
import { startReplayServer, type ReplayServer } from '../../src/replay';

let replay: ReplayServer;
let http: ScholarHttp;
const fast = { rate: { requests: 1000, intervalMs: 1000 }, searchRate: { requests: 1000, intervalMs: 1000 }, concurrency: 8, backoffBaseMs: 5, backoffMaxMs: 10 };

const REAL_BIB = path.join(__dirname, '../../test/fixtures/bib/bbt-issue873-ai-bibliography.bib');
const real = parseBib(readFileSync(REAL_BIB, 'utf8'));
const entry = (key: string): BibEntry => {
  const e = real.entries.find((x) => x.key === key);
  assert.ok(e, `${key} is in the fixture`);
  return e;
};
const ARTICLE_DOI = '10.1109/mis.2005.20';

before(async () => {
  replay = await startReplayServer();
  // The article as the realbib benchmark serves it: its own title, authors, year and journal.
  replay.addWorks([
    {
      doi: ARTICLE_DOI,
      title: 'Applications of SHOP and SHOP2',
      authors: ['Dana S. Nau', 'Tsz-Chiu Au', 'Okhtay Ilghami', 'Ugur Kuter', 'Héctor Muñoz-Avila', 'J. William Murdock', 'Dan Wu', 'Fusun Yaman'].map((n) => ({ family: n.split(' ').pop()!, given: n.split(' ').slice(0, -1).join(' ') })),
      year: 2005,
      venue: 'IEEE Intelligent Systems',
      volume: '20',
      pages: '34-41',
      type: 'journal-article',
    },
  ]);
  http = new ScholarHttp({ email: 'forms@example.org', endpoints: replay.endpoints, policies: { crossref: fast, openalex: fast, semanticScholar: fast, arxiv: fast, unpaywall: fast, doi: fast, pdf: fast } });
});
after(async () => {
  await http.close();
  await replay.close();
});

async function resolveText(bib: string) {
  const f = parseBib(bib);
  return resolveEntry(http, f, f.entries[0], { checkExisting: true });
}

test('the 2004 technical report does not get the DOI of the 2005 article of the same title: review, with the reason', async () => {
  const r = await resolveEntry(http, real, entry('nau04:applicSHOP2'), { checkExisting: true });
  assert.equal(r.outcome, 'review', r.why);
  assert.equal(r.doi, undefined);
  const c = r.candidates.find((x) => x.doi.toLowerCase() === ARTICLE_DOI);
  assert.ok(c, JSON.stringify(r.candidates));
  assert.equal(c.versionOk, false);
  assert.match(r.why, /technical report/);
  assert.match(r.why, /journal article/);
  // Reported as what the report may have become, never written.
  assert.equal(r.published?.doi.toLowerCase(), ARTICLE_DOI);
});

test('the article itself keeps its DOI, also with its year off by one (online-first vs issue year)', async () => {
  // The entry's url carries the DOI; without it the search must find it.
  const a = entry('journals/expert/NauAIKMMWY05');
  const text = `@article{nau05, title={${a.fields.get('title')!.value}}, author={${a.fields.get('author')!.value}}, journal={IEEE Intelligent Systems}, year={2005}, volume={20}, number={2}, pages={34--41}}`;
  for (const y of ['2005', '2004', '2006']) {
    const r = await resolveText(text.replace('2005}', `${y}}`));
    assert.equal(r.outcome, 'accept', `${y}: ${r.why}`);
    assert.equal(r.doi?.toLowerCase(), ARTICLE_DOI);
  }
});

test('a thesis, a conference paper and a working paper of the same title do not get the article’s DOI', async () => {
  const authors = 'Nau, Dana and Au, Tsz-Chiu and Ilghami, Okhtay and Kuter, Ugur';
  for (const [form, what] of [
    [`@phdthesis{t, title={Applications of {SHOP} and {SHOP2}}, author={${authors}}, school={University of Maryland}, year={2004}}`, /thesis/],
    [`@inproceedings{c, title={Applications of {SHOP} and {SHOP2}}, author={${authors}}, booktitle={Proceedings of the International Conference on Automated Planning and Scheduling}, year={2004}}`, /conference paper/],
    [`@misc{w, title={Applications of {SHOP} and {SHOP2}}, author={${authors}}, howpublished={Working paper, University of Maryland}, year={2004}}`, /report|working paper/],
    [`@techreport{r, title={Applications of {SHOP} and {SHOP2}}, author={${authors}}, institution={University of Maryland}, year={2005}}`, /technical report/],
  ] as const) {
    const r = await resolveText(form);
    assert.notEqual(r.outcome, 'accept', `${form}: ${r.why}`);
    assert.equal(r.doi, undefined);
    assert.match(r.why, what, form);
  }
});

test('a report that has its own DOI (Crossref type report) keeps getting it; cited as a journal article it does not', async () => {
  // NBER working paper 14448 (Crossref record in test/fixtures/corpus).
  const nber = await resolveText(`@techreport{pw08, author={Putterman, Louis and Weil, David N.}, title={Post-1500 Population Flows and the Long Run Determinants of Economic Growth and Inequality}, institution={National Bureau of Economic Research}, type={Working Paper}, number={14448}, year={2008}}`);
  assert.equal(nber.outcome, 'accept', nber.why);
  assert.equal(nber.doi?.toLowerCase(), '10.3386/w14448');
  // The same title cited as the 2010 journal article: the working paper is another version.
  const art = await resolveText(`@article{pw10, author={Putterman, Louis and Weil, David N.}, title={Post-1500 Population Flows and the Long Run Determinants of Economic Growth and Inequality}, journal={The Quarterly Journal of Economics}, volume={125}, number={4}, year={2009}}`);
  assert.notEqual(art.outcome, 'accept', art.why);
  assert.equal(art.doi, undefined);
  // NIST Interagency Report 5703, cited with its series as @report (BibLaTeX).
  const nist = await resolveText(`@report{nist95, author={Golmie, Nada and Koenig, Alfred and Su, David}, title={The {NIST} {ATM} Network Simulator}, institution={National Institute of Standards and Technology}, number={NISTIR 5703}, date={1995}}`);
  assert.equal(nist.outcome, 'accept', nist.why);
  assert.equal(nist.doi?.toLowerCase(), '10.6028/nist.ir.5703');
});

test('a conference paper whose DOI a journal-like proceedings series registered is still accepted', async () => {
  // IFAC Proceedings Volumes registers its conference papers as journal articles.
  const r = await resolveText(`@inproceedings{h87, author={Hy{\\"o}tyl{\\"a}inen, R.}, title={Development of work within flexible assembly}, booktitle={IFAC Proceedings Volumes}, year={1987}}`);
  assert.equal(r.outcome, 'accept', r.why);
  assert.equal(r.doi?.toLowerCase(), '10.1016/b978-0-08-034800-1.50016-1');
});
