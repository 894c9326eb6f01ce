import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBibFiles } from '../../src/core/bib/lint';
import { entryArxivId, entryDoi, extractArxivId, extractDoi, isValidDoi, normalizeDoi } from '../../src/core/doi';
import { decodeBibBytes, findEntry, parseBib } from '../../src/core/bib/parse';
import { readFixture } from './bib-helpers';

const load = (name: string) => ({ path: name, file: parseBib(decodeBibBytes(readFixture(name)).text) });

test('normalizeDoi strips resolvers, prefixes, escapes, encoding and trailing punctuation', () => {
  assert.equal(normalizeDoi('https://doi.org/10.1000/ABC.def'), '10.1000/abc.def');
  assert.equal(normalizeDoi('http://dx.doi.org/10.1007/s00779-005-0347-6'), '10.1007/s00779-005-0347-6');
  assert.equal(normalizeDoi('http://doi.acm.org/10.1145/1137627.1137631'), '10.1145/1137627.1137631');
  assert.equal(normalizeDoi('doi:10.1000/xyz.'), '10.1000/xyz');
  assert.equal(normalizeDoi('DOI: 10.1000/xyz);'), '10.1000/xyz');
  assert.equal(normalizeDoi('10.1002/(SICI)1097-0258(19980815)17:15<1661::AID-SIM968>3.0.CO;2-2'), '10.1002/(sici)1097-0258(19980815)17:15<1661::aid-sim968>3.0.co;2-2');
  assert.equal(normalizeDoi('https://doi.org/10.1000/a%2Fb%20'), '10.1000/a/b');
  assert.equal(normalizeDoi('10.1000/foo\\_bar'), '10.1000/foo_bar');
  assert.equal(normalizeDoi('10.1000/x(1)'), '10.1000/x(1)');
  assert.ok(isValidDoi('https://doi.org/10.1000/x'));
  assert.ok(!isValidDoi('10.10/x'));
  assert.ok(!isValidDoi('not a doi'));
});

test('extractDoi and extractArxivId', () => {
  assert.equal(extractDoi('see https://doi.org/10.1103/PhysRevLett.116.061102.'), '10.1103/physrevlett.116.061102');
  assert.equal(extractDoi('no doi here 10.12/x'), undefined);
  assert.equal(extractArxivId('2101.01234v2'), '2101.01234v2');
  assert.equal(extractArxivId('arXiv:1706.03762'), '1706.03762');
  assert.equal(extractArxivId('arXiv preprint arXiv:1412.6980'), '1412.6980');
  assert.equal(extractArxivId('http://arxiv.org/abs/hep-th/9901001v1'), 'hep-th/9901001v1');
  assert.equal(extractArxivId('hep-th/9901001'), 'hep-th/9901001');
  assert.equal(extractArxivId('https://arxiv.org/pdf/math.GT/0309136'), 'math.GT/0309136');
  assert.equal(extractArxivId('pages 1234.5678 of something'), undefined);
  const bib = parseBib(`
@misc{a, eprint = {1502.03167}, archivePrefix = {arXiv}}
@misc{b, journal = {arXiv preprint arXiv:1603.04467}}
@misc{c, eprint = {123}, eprinttype = {pubmed}, note = {see arXiv:1001.0001v3}}
@misc{d, url = {https://doi.org/10.5555/12345678}}
@misc{e, doi = {https://doi.org/10.1/X}}
`);
  assert.deepEqual(
    bib.entries.map(entryArxivId),
    ['1502.03167', '1603.04467', '1001.0001v3', undefined, undefined],
  );
  assert.deepEqual(
    bib.entries.map(entryDoi),
    [undefined, undefined, undefined, '10.5555/12345678', '10.1/x'],
  );
  const d2l = load('d2l-2022-12.bib').file;
  assert.ok(d2l.entries.filter((e) => entryArxivId(e)).length >= 113);
  const sharkdp = load('thesis-sharkdp-all.bib').file;
  assert.ok(sharkdp.entries.filter((e) => entryArxivId(e)).length >= 90);
});

test('duplicate DOIs in the fixtures (as documented in index.json)', () => {
  const count = (name: string) => new Set(checkBibFiles([load(name)]).filter((f) => f.code === 'W_DUP_DOI').map((f) => /DOI (\S+)/.exec(f.message)![1])).size;
  assert.equal(count('thesis-sharkdp-all.bib'), 2);
  assert.equal(count('bbt-mendeley-export.bib'), 3); // one of them under three keys
  assert.equal(count('jabref-complex.bib'), 1);
  const jab = checkBibFiles([load('jabref-complex.bib')]);
  const dup = jab.find((f) => f.code === 'W_DUP_DOI')!;
  assert.equal(dup.file, 'jabref-complex.bib');
  assert.ok(dup.line > 1 && dup.column === 1 && dup.key);
});

test('duplicates across files, by title/author/year, malformed DOIs, parse errors', () => {
  const a = parseBib(`@article{a1, author = {M{\\"u}ller, Hans}, title = {{Deep} Learning!}, year = 2020, doi = {10.1000/ABC}}
@article{a2, author = {X}, title = {Other}, year = 2020, doi = {10.1000/bad doi}}
@article{a3, author = {Y}, title = {Ok}, year = 2021, doi = {12.34/nope}}
@article{broken, title = {x`);
  const b = parseBib(`@inproceedings{b1, author = {Hans Müller}, title = {Deep learning}, date = {2020-05}}
@misc{b2, author = {Z}, title = {Z}, year = 2000, doi = {https://doi.org/10.1000/abc}}
@misc{b3, author = {Hans Müller}, title = {Deep learning}, year = 2020, doi = {10.9999/other}}
@misc{b4, author = {Hans Müller}, title = {Deep learning}, year = 2020, doi = {10.8888/yet-another}}`);
  const f = checkBibFiles([
    { path: 'a.bib', file: a },
    { path: 'b.bib', file: b },
  ]);
  const brief = f.map((x) => [x.code, x.file, x.key ?? null, x.line]);
  assert.deepEqual(brief, [
    ['E_BIB_UNTERMINATED', 'a.bib', null, 4],
    ['W_BAD_DOI', 'a.bib', 'a2', 2],
    ['W_BAD_DOI', 'a.bib', 'a3', 3],
    ['W_DUP_TITLE', 'b.bib', 'b1', 1],
    ['W_DUP_DOI', 'b.bib', 'b2', 2],
  ]);
  assert.match(f[4].message, /a1/);
  // b3 matches a1 by title but both have different DOIs: two works. b4 likewise.
  const ex = load('biblatex-examples.bib');
  assert.ok(findEntry(ex.file, 'knuth:ct'));
});
