// Upgrade (issue 19): the evidence for a cited preprint's published version, the decision, and the
// minimal rewrite of the entry, against the replay server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseBib } from '../../src/core/bib/parse';
import { ScholarHttp } from '../../src/core/net/http';
import { entryFacts } from '../../src/core/match/facts';
import { proposeUpgrade } from '../../src/core/upgrade/evidence';
import { planUpgradeEdit } from '../../src/core/upgrade/edit';
import { applyEdits } from '../../src/core/bib/edit';
import { startReplayServer, type ReplayServer } from '../../src/replay';

let replay: ReplayServer;
let http: ScholarHttp;
const fast = { rate: { requests: 1000, intervalMs: 1000 }, searchRate: { requests: 1000, intervalMs: 1000 }, concurrency: 8, backoffBaseMs: 5, backoffMaxMs: 10 };

const authors = [{ family: 'Okafor', given: 'Ada' }, { family: 'Lindqvist', given: 'Bo' }];
// A journal article the replay also puts on arXiv: arXiv's record carries its DOI and journal_ref.
const onArxiv = { doi: '10.5555/upgrade.1', title: 'Sparse widgets for reproducible bibliographies', authors, year: 2022, venue: 'Journal of Replay Studies', volume: '12', pages: '101-119', arxivId: '2104.01234' };
// An arXiv preprint never published (posted content: arXiv gives no DOI).
const neverPublished = { doi: '10.48550/arxiv.2105.05555', title: 'Unfinished notes on widget taxonomies', authors, year: 2021, type: 'posted-content', arxivId: '2105.05555' };
// A bioRxiv preprint and its article, linked the way Crossref links them (relation on both records).
const item = (doi: string, type: string, title: string, year: number, extra: Record<string, unknown>) => ({
  DOI: doi, type, title: [title], author: authors.map((a, i) => ({ ...a, sequence: i ? 'additional' : 'first' })), issued: { 'date-parts': [[year]] }, publisher: 'Replay', ...extra,
});
const preprint = item('10.1101/2021.03.01.433333', 'posted-content', 'Pooled screens of widget variants in yeast', 2021, { relation: { 'is-preprint-of': [{ 'id-type': 'doi', id: '10.5555/upgrade.2', 'asserted-by': 'subject' }] } });
const article = item('10.5555/upgrade.2', 'journal-article', 'Pooled screens of widget variants in yeast', 2022, { 'container-title': ['Replay Genetics'], volume: '3', issue: '4', page: '55-70', relation: { 'has-preprint': [{ 'id-type': 'doi', id: '10.1101/2021.03.01.433333', 'asserted-by': 'object' }] } });
// A preprint whose relation names a correction notice of the paper, not the paper.
const preprint2 = item('10.1101/2021.04.04.444444', 'posted-content', 'Widget drift in long-term cultures', 2021, { relation: { 'is-preprint-of': [{ 'id-type': 'doi', id: '10.5555/upgrade.3', 'asserted-by': 'subject' }] } });
const correction = item('10.5555/upgrade.3', 'journal-article', 'Correction: Widget drift in long-term cultures', 2023, { 'container-title': ['Replay Genetics'] });
// Same title, other authors, published: a search finds it, the scorer must refuse it.
const sameTitle = { doi: '10.5555/upgrade.4', title: 'A survey of citation graph widgets', authors: [{ family: 'Brandt', given: 'Uwe' }], year: 2020, venue: 'Replay Surveys' };

before(async () => {
  replay = await startReplayServer();
  replay.addWorks([onArxiv, neverPublished, preprint, article, preprint2, correction, sameTitle]);
  http = new ScholarHttp({ email: 'upgrade@example.org', endpoints: replay.endpoints, policies: { crossref: fast, openalex: fast, semanticScholar: fast, arxiv: fast, unpaywall: fast, doi: fast, pdf: fast } });
});
after(async () => {
  await http.close();
  await replay.close();
});

async function propose(bib: string) {
  const f = parseBib(bib);
  return { f, e: f.entries[0], p: await proposeUpgrade(http, f, f.entries[0]) };
}

test('upgrade: an arXiv preprint with arXiv\'s own DOI link is upgraded, and the rewrite keeps the key and the eprint', async () => {
  const bib = '@misc{okafor21,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Sparse widgets for reproducible bibliographies},\n  year = {2021},\n  eprint = {2104.01234},\n  archivePrefix = {arXiv},\n  primaryClass = {cs.DL}\n}\n';
  const { f, e, p } = await propose(bib);
  assert.equal(p.outcome, 'upgraded', p.why);
  assert.equal(p.to?.doi, '10.5555/upgrade.1');
  assert.deepEqual(p.evidence.slice(0, 2), ['arxiv-doi', 'arxiv-journal-ref']);
  const after = applyEdits(bib, [planUpgradeEdit(f, e, p.to!, p.from)]);
  assert.equal(
    after,
    '@article{okafor21,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Sparse widgets for reproducible bibliographies},\n  year = {2022},\n  eprint = {2104.01234},\n  archivePrefix = {arXiv},\n  primaryClass = {cs.DL},\n  journal = {Journal of Replay Studies},\n  volume = {12},\n  pages = {101--119},\n  doi = {10.5555/upgrade.1}\n}\n',
  );
  const g = parseBib(after);
  assert.equal(entryFacts(g, g.entries[0]).cited, 'published');
});

test('upgrade: a journal = {arXiv preprint …} citation gets the journal in that field, and the arXiv id kept as eprint', async () => {
  const bib = '@article{o,\n  author = {Okafor, A. and Lindqvist, B.},\n  title = {Sparse Widgets for Reproducible Bibliographies},\n  journal = {arXiv preprint arXiv:2104.01234},\n  year = {2021}\n}\n';
  const { f, e, p } = await propose(bib);
  assert.equal(p.outcome, 'upgraded', p.why);
  const after = applyEdits(bib, [planUpgradeEdit(f, e, p.to!, p.from)]);
  assert.match(after, /journal = \{Journal of Replay Studies\}/);
  assert.match(after, /eprint = \{2104\.01234\},\n  archiveprefix = \{arXiv\}/);
  assert.doesNotMatch(after, /arXiv preprint/);
});

test('upgrade: a bioRxiv preprint is upgraded on its Crossref relation; BibLaTeX files get eprinttype', async () => {
  const bib = '@online{moreau21,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Pooled screens of widget variants in yeast},\n  date = {2021},\n  doi = {10.1101/2021.03.01.433333},\n  pubstate = {prepublished}\n}\n';
  const { f, e, p } = await propose(bib);
  assert.equal(p.outcome, 'upgraded', p.why);
  assert.equal(p.to?.doi, '10.5555/upgrade.2');
  assert.equal(p.evidence[0], 'crossref-relation');
  const after = applyEdits(bib, [planUpgradeEdit(f, e, p.to!, p.from)]);
  assert.equal(
    after,
    '@article{moreau21,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Pooled screens of widget variants in yeast},\n  date = {2022},\n  doi = {10.5555/upgrade.2},\n  journaltitle = {Replay Genetics},\n  volume = {3},\n  number = {4},\n  pages = {55--70},\n  eprint = {10.1101/2021.03.01.433333},\n  eprinttype = {doi}\n}\n',
  );
});

test('upgrade: a relation naming a correction notice goes to review, never upgraded', async () => {
  const { p } = await propose('@misc{d, author = {Okafor, Ada and Lindqvist, Bo}, title = {Widget drift in long-term cultures}, year = {2021}, howpublished = {bioRxiv}, doi = {10.1101/2021.04.04.444444}}');
  assert.equal(p.outcome, 'review', p.why);
  assert.match(p.why, /correction/);
});

test('upgrade: a never-published preprint and a same-title work by other authors give none', async () => {
  const n = await propose('@misc{n, author = {Okafor, Ada}, title = {Unfinished notes on widget taxonomies}, year = {2021}, eprint = {2105.05555}, archivePrefix = {arXiv}}');
  assert.equal(n.p.outcome, 'none', n.p.why);
  const s = await propose('@misc{s, author = {Haddad, Rana}, title = {A survey of citation graph widgets}, year = {2020}, howpublished = {arXiv}, eprint = {2106.06666}}');
  assert.equal(s.p.outcome, 'none', s.p.why);
  assert.equal(s.p.candidates.length, 0);
});

test('upgrade: an entry citing the published version, or opting out, is left alone', async () => {
  const j = await propose('@article{j, author = {Okafor, Ada}, title = {Sparse widgets for reproducible bibliographies}, journal = {Journal of Replay Studies}, year = {2022}, eprint = {2104.01234}}');
  assert.equal(j.p.outcome, 'none');
  const o = await propose('@misc{o, author = {Okafor, Ada}, title = {Sparse widgets for reproducible bibliographies}, year = {2021}, eprint = {2104.01234}, scholar = {skip}}');
  assert.equal(o.p.outcome, 'none');
  assert.match(o.p.why, /opts out/);
});

test('upgrade: a journal_ref without a DOI (a recorded arXiv answer) is reported and not guessed', async () => {
  // test/fixtures/api/arxiv-query-id_list-astro-ph_0601001.atom.xml: arXiv's real record, journal_ref "ActaAstron.56:1-50,2006", no <arxiv:doi>.
  const { p } = await propose('@misc{gould06, author = {Gould, Andrew and Dorsher, Susan and Gaudi, B. Scott}, title = {Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit Surveys Toward the Galactic Bulge and Carina}, year = {2006}, eprint = {astro-ph/0601001}, archivePrefix = {arXiv}}');
  assert.equal(p.outcome, 'none', p.why);
  assert.equal(p.journalRef, 'ActaAstron.56:1-50,2006');
  assert.match(p.why, /gives no DOI; Scholar does not guess/);
});
