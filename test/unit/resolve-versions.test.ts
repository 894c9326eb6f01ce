// The resolver against the replay server: versions, arXiv citations and existing DOIs (issue 14).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseBib } from '../../src/core/bib/parse';
import { ScholarHttp } from '../../src/core/net/http';
import { resolveEntry } from '../../src/core/resolve/resolver';
import { startReplayServer, type ReplayServer } from '../../src/replay';

let replay: ReplayServer;
let http: ScholarHttp;
const fast = { rate: { requests: 1000, intervalMs: 1000 }, searchRate: { requests: 1000, intervalMs: 1000 }, concurrency: 8, backoffBaseMs: 5, backoffMaxMs: 10 };

// A work the replay also puts on arXiv, with the published DOI in arXiv's record (as arXiv does).
const published = {
  doi: '10.5555/replay.versions.1',
  title: 'Sparse widgets for reproducible bibliographies',
  authors: [{ family: 'Okafor', given: 'Ada' }, { family: 'Lindqvist', given: 'Bo' }],
  year: 2022,
  venue: 'Journal of Replay Studies',
  volume: '12',
  arxivId: '2104.01234',
};
// A bioRxiv-style preprint and its journal version with one title, linked as Crossref links them.
const preprint = { doi: '10.1101/2021.03.01.433333', title: 'Pooled screens of widget variants in yeast', authors: [{ family: 'Moreau', given: 'Claire' }, { family: 'Tanaka', given: 'Ken' }], year: 2021, type: 'posted-content' };
const article = { doi: '10.5555/replay.versions.2', title: 'Pooled screens of widget variants in yeast', authors: preprint.authors, year: 2022, venue: 'Replay Genetics', volume: '3' };

before(async () => {
  replay = await startReplayServer();
  replay.addWorks([published, preprint, article]);
  http = new ScholarHttp({ email: 'versions@example.org', endpoints: replay.endpoints, policies: { crossref: fast, openalex: fast, semanticScholar: fast, arxiv: fast, unpaywall: fast, doi: fast, pdf: fast } });
});
after(async () => {
  await http.close();
  await replay.close();
});

async function resolve(bib: string, checkExisting = true) {
  const f = parseBib(bib);
  return resolveEntry(http, f, f.entries[0], { checkExisting });
}

test('an entry citing arXiv gets the arXiv DOI, confirmed by arXiv, and the published version is reported, not written', async () => {
  for (const form of [
    `@misc{a, title={Sparse widgets for reproducible bibliographies}, author={Okafor, Ada and Lindqvist, Bo}, year={2021}, eprint={2104.01234}, archivePrefix={arXiv}}`,
    `@article{a, title={Sparse Widgets for Reproducible Bibliographies}, author={Okafor, A. and Lindqvist, B.}, journal={arXiv preprint arXiv:2104.01234}, year={2021}}`,
    `@online{a, title={Sparse widgets for reproducible bibliographies}, author={Okafor, Ada}, url={https://arxiv.org/abs/2104.01234v3}, date={2021}}`,
  ]) {
    const r = await resolve(form);
    assert.equal(r.outcome, 'accept', `${form}: ${r.why}`);
    assert.equal(r.doi, '10.48550/arxiv.2104.01234');
    assert.equal(r.source, 'arxiv');
    assert.equal(r.published?.doi, '10.5555/replay.versions.1');
  }
  // The same work cited as the journal article gets the journal DOI.
  const j = await resolve(`@article{j, title={Sparse widgets for reproducible bibliographies}, author={Okafor, Ada and Lindqvist, Bo}, journal={Journal of Replay Studies}, volume={12}, year={2022}, eprint={2104.01234}, archivePrefix={arXiv}}`);
  assert.equal(j.outcome, 'accept', j.why);
  assert.equal(j.doi, '10.5555/replay.versions.1');
});

test('an arXiv id that names another paper is not accepted', async () => {
  const r = await resolve(`@misc{x, title={A completely different study of glaciers}, author={Nobody, Noel}, year={2021}, eprint={2104.01234}, archivePrefix={arXiv}}`);
  assert.notEqual(r.outcome, 'accept', r.why);
});

test('preprint and journal citations each get their own version; the other version alone goes to review', async () => {
  const authors = 'Moreau, Claire and Tanaka, Ken';
  const pre = await resolve(`@article{p, title={Pooled screens of widget variants in yeast}, author={${authors}}, journal={bioRxiv}, year={2021}}`);
  assert.equal(pre.outcome, 'accept', pre.why);
  assert.equal(pre.doi, '10.1101/2021.03.01.433333');
  const pub = await resolve(`@article{q, title={Pooled screens of widget variants in yeast}, author={${authors}}, journal={Replay Genetics}, volume={3}, year={2022}}`);
  assert.equal(pub.outcome, 'accept', pub.why);
  assert.equal(pub.doi, '10.5555/replay.versions.2');
  // A Research Square citation: the only copies known are on bioRxiv and in a journal; neither is it.
  const rs = await resolve(`@misc{r, title={Pooled screens of widget variants in yeast}, author={${authors}}, howpublished={Research Square}, year={2021}}`);
  assert.equal(rs.outcome, 'review', rs.why);
  assert.equal(rs.doi, undefined);
  assert.ok(rs.candidates.every((c) => c.versionOk === false), JSON.stringify(rs.candidates));
});

test('existing DOIs: a right one is kept, an unknown or another work’s is reported with the right replacement', async () => {
  const base = `title={Pooled screens of widget variants in yeast}, author={Moreau, Claire and Tanaka, Ken}, journal={Replay Genetics}, volume={3}, year={2022}`;
  const ok = await resolve(`@article{k, ${base}, doi={10.5555/replay.versions.2}}`);
  assert.equal(ok.outcome, 'has_doi');
  assert.equal(ok.existing?.status, 'ok');
  const truncated = await resolve(`@article{k, ${base}, doi={10.5555/replay.versions.}}`);
  assert.equal(truncated.outcome, 'doi_unknown', truncated.why);
  assert.equal(truncated.replacement?.doi, '10.5555/replay.versions.2');
  const other = await resolve(`@article{k, ${base}, doi={10.5555/replay.versions.1}}`);
  assert.equal(other.outcome, 'doi_mismatch', other.why);
  assert.equal(other.replacement?.doi, '10.5555/replay.versions.2');
  // Not asked to check: left alone, as before.
  assert.equal((await resolve(`@article{k, ${base}, doi={10.5555/replay.versions.}}`, false)).outcome, 'has_doi');
});

test('a failed check is a failure to retry, never a verdict on the DOI', async () => {
  replay.setOptions({ faults: [{ kind: 'status', status: 503, service: 'crossref' }] });
  try {
    const r = await resolve(`@article{k, title={Pooled screens of widget variants in yeast}, author={Moreau, Claire}, journal={Replay Genetics}, year={2022}, doi={10.5555/replay.versions.2}}`);
    assert.equal(r.outcome, 'failed', r.why);
  } finally {
    replay.setOptions({ faults: [] });
  }
});

test('an existing DOI of the other version is reported, with the cited version as the replacement', async () => {
  const authors = 'Moreau, Claire and Tanaka, Ken';
  const journal = await resolve(`@article{j, title={Pooled screens of widget variants in yeast}, author={${authors}}, journal={Replay Genetics}, volume={3}, year={2022}, doi={10.1101/2021.03.01.433333}}`);
  assert.equal(journal.outcome, 'doi_mismatch', journal.why);
  assert.match(journal.why, /names the preprint of this work/);
  assert.equal(journal.replacement?.doi, '10.5555/replay.versions.2');
  const biorxiv = await resolve(`@article{b, title={Pooled screens of widget variants in yeast}, author={${authors}}, journal={bioRxiv}, year={2021}, doi={10.5555/replay.versions.2}}`);
  assert.equal(biorxiv.outcome, 'doi_mismatch', biorxiv.why);
  assert.equal(biorxiv.replacement?.doi, '10.1101/2021.03.01.433333');
  // A citation that does not say which version it cites keeps either DOI: its DOI is not its own evidence.
  const bare = await resolve(`@misc{m, title={Pooled screens of widget variants in yeast}, author={${authors}}, year={2021}, doi={10.1101/2021.03.01.433333}}`);
  assert.equal(bare.outcome, 'has_doi', bare.why);
});
