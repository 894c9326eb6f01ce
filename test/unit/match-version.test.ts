import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { citedVersion, isPreprintDoi, workVersion } from '../../src/core/match/version';
import { parseCrossrefWork } from '../../src/core/sources/crossref';
import { parseOpenAlexWork } from '../../src/core/sources/openalex';
import { parseBib } from '../../src/core/bib/parse';
import { entryFacts } from '../../src/core/match/facts';

const fixtures = path.resolve(__dirname, '../../test/fixtures');
const corpus = readFileSync(path.join(fixtures, 'corpus/crossref-works.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));

const cited = (bib: string) => {
  const f = parseBib(bib);
  return entryFacts(f, f.entries[0]).cited;
};

test('every posted-content record of the corpus reads as a preprint, every journal article with a relation to one as published', () => {
  const posted = corpus.filter((w) => w.type === 'posted-content' && w.subtype === 'preprint');
  assert.ok(posted.length >= 20);
  for (const w of posted) assert.equal(workVersion(parseCrossrefWork(w)), 'preprint', w.DOI);
  const withPreprint = corpus.filter((w) => w.type === 'journal-article' && w.relation?.['has-preprint']);
  assert.ok(withPreprint.length >= 20);
  for (const w of withPreprint) {
    assert.equal(workVersion(parseCrossrefWork(w)), 'published', w.DOI);
    // The preprint DOIs these articles name are recognised by their shape alone.
    for (const r of w.relation['has-preprint']) if (r['id-type'] === 'doi' && !/^10\.(5281|6084)\//.test(r.id)) assert.ok(isPreprintDoi(r.id), `${w.DOI} has-preprint ${r.id}`);
  }
});

test('preprint DOI shapes: servers, Copernicus Discussions against final papers, Cold Spring Harbor journals', () => {
  for (const d of ['10.48550/arXiv.1706.03762', '10.1101/014852', '10.1101/2020.06.17.20133843', '10.21203/rs.3.rs-17805/v2', '10.2139/ssrn.5250900', '10.26434/chemrxiv-2021-djssr', '10.1002/essoar.10503377.3', '10.5194/acp-2016-3', '10.5194/acpd-15-1234-2015', '10.31219/osf.io/abcde', '10.31234/osf.io/xyz12'])
    assert.ok(isPreprintDoi(d), d);
  for (const d of ['10.5194/acp-16-1234-2016', '10.5194/essd-8-199-2016', '10.5194/gmd-12-1234-2019', '10.1101/gad.123456.110', '10.1002/ece3.2314', '10.1016/j.xgen.2025.100814', '10.1029/2020JG005891']) assert.ok(!isPreprintDoi(d), d);
});

test('OpenAlex states a preprint by its type or its primary location', () => {
  assert.equal(workVersion(parseOpenAlexWork({ doi: 'https://doi.org/10.5555/x', title: 't', type: 'preprint', type_crossref: 'posted-content' })), 'preprint');
  assert.equal(workVersion(parseOpenAlexWork({ doi: 'https://doi.org/10.5555/x', title: 't', type: 'article', primary_location: { version: 'submittedVersion' } })), 'preprint');
  assert.equal(workVersion(parseOpenAlexWork({ doi: 'https://doi.org/10.5555/x', title: 't', type: 'article', type_crossref: 'journal-article', primary_location: { version: 'publishedVersion' } })), 'published');
});

test('the version a citation cites, from the ways researchers write it', () => {
  const t = 'title={T}, author={A, B}, year={2020}';
  assert.equal(cited(`@article{k, ${t}, journal={Nature}}`), 'published');
  assert.equal(cited(`@article{k, ${t}, journal={Nature}, eprint={2001.00001}, archivePrefix={arXiv}}`), 'published', 'a journal named beside an eprint');
  assert.equal(cited(`@article{k, ${t}, journal={arXiv preprint arXiv:2001.00001}}`), 'preprint');
  assert.equal(cited(`@article{k, ${t}, journal={CoRR}, volume={abs/2001.00001}}`), 'preprint', "DBLP's name for arXiv");
  assert.equal(cited(`@article{k, ${t}, journal={bioRxiv}}`), 'preprint');
  assert.equal(cited(`@article{k, ${t}, journal={Atmos. Chem. Phys. Discuss.}}`), 'preprint');
  assert.equal(cited(`@article{k, ${t}, journal={Faraday Discussions}}`), 'published', 'a journal, not a discussion paper');
  assert.equal(cited(`@misc{k, ${t}, howpublished={Research Square}}`), 'preprint');
  assert.equal(cited(`@misc{k, ${t}, publisher={Cold Spring Harbor Laboratory}, note={medRxiv}}`), 'preprint');
  assert.equal(cited(`@misc{k, ${t}, eprint={2001.00001}, archiveprefix={arXiv}}`), 'preprint');
  assert.equal(cited(`@online{k, ${t}, eprint={2001.00001}, eprinttype={arxiv}}`), 'preprint');
  assert.equal(cited(`@misc{k, ${t}, url={https://www.biorxiv.org/content/10.1101/014852v1}}`), 'preprint');
  assert.equal(cited(`@unpublished{k, ${t}, note={Manuscript}}`), 'preprint');
  assert.equal(cited(`@article{k, ${t}, journaltitle={Nature}, pubstate={prepublished}}`), 'preprint');
  assert.equal(cited(`@inproceedings{k, ${t}, booktitle={Proc. CHI}}`), 'published');
  assert.equal(cited(`@misc{k, ${t}}`), 'unknown');
  assert.equal(cited(`@article{k, ${t}}`), 'unknown');
  assert.equal(citedVersion({ type: 'book', get: () => undefined }), 'published');
});
