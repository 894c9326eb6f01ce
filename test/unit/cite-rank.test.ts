import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CiteRanker, familyOf, type CiteCandidate } from '../../src/core/cite/rank';

const c = (key: string, title: string, authors: string[], year: number, more: Partial<CiteCandidate> = {}): CiteCandidate => ({ key, title, authors, year, inBibliography: true, inLibrary: false, ...more });
const ENTRIES = [
  c('weinberg1967', 'A Model of Leptons', ['Steven Weinberg'], 1967, { doi: '10.1103/PhysRevLett.19.1264', venue: 'Physical Review Letters' }),
  c('glashow', 'Partial Symmetries of Weak Interactions', ['Glashow, Sheldon'], 1961, { venue: 'Nuclear Physics', hasPdf: true }),
  c('salam68', 'Weak and electromagnetic interactions', ['Abdus Salam'], 1968),
  c('einstein1905', 'Zur Elektrodynamik bewegter Körper', ['Albert Einstein'], 1905, { inBibliography: false, inLibrary: true, notices: ['retraction'] }),
  c('wein-other', 'Wine tasting', ['Anne Other'], 2001),
];
const keys = (r: ReturnType<CiteRanker['rank']>) => r.map((x) => x.candidate.key);

test('familyOf reads both name orders', () => {
  assert.equal(familyOf('Weinberg, Steven'), 'Weinberg');
  assert.equal(familyOf('Steven Weinberg'), 'Weinberg');
});

test('a key prefix ranks first; title and author words also match; non-matches are left out', () => {
  const r = new CiteRanker(ENTRIES);
  assert.deepEqual(keys(r.rank('wein')).slice(0, 2).sort(), ['wein-other', 'weinberg1967']);
  assert.equal(keys(r.rank('weinberg1967'))[0], 'weinberg1967');
  assert.deepEqual(keys(r.rank('leptons')), ['weinberg1967']);
  assert.deepEqual(keys(r.rank('salam')), ['salam68']);
  assert.equal(keys(r.rank('weak')).length, 2);
  assert.deepEqual(keys(r.rank('zzz')), []);
});

test('fuzzy: a subsequence of the key matches, and key + year fragments combine', () => {
  const r = new CiteRanker(ENTRIES);
  assert.ok(keys(r.rank('wnbrg')).includes('weinberg1967'));
  assert.equal(keys(r.rank('einstein1905'))[0], 'einstein1905');
  assert.equal(keys(r.rank('glashow1961'))[0], 'glashow');
  assert.equal(keys(r.rank('1968'))[0], 'salam68');
});

test('the document\u2019s bibliography comes before library-only entries at equal match', () => {
  const r = new CiteRanker([c('abc2', 'Same', ['X Y'], 2000, { inBibliography: false, inLibrary: true }), c('abc1', 'Same', ['X Y'], 2000)]);
  assert.deepEqual(keys(r.rank('abc')), ['abc1', 'abc2']);
  assert.deepEqual(keys(r.rank('')), ['abc1', 'abc2']);
});

test('the index query language: filters, phrases and negation, only when asked for', () => {
  const r = new CiteRanker(ENTRIES);
  assert.deepEqual(keys(r.rank('year:1960..1967', 10, { query: true })).sort(), ['glashow', 'weinberg1967']);
  assert.deepEqual(keys(r.rank('weak has:pdf', 10, { query: true })), ['glashow']);
  assert.deepEqual(keys(r.rank('"model of leptons"', 10, { query: true })), ['weinberg1967']);
  assert.deepEqual(keys(r.rank('status:retracted', 10, { query: true })), ['einstein1905']);
  assert.deepEqual(keys(r.rank('author:salam', 10, { query: true })), ['salam68']);
  assert.equal(keys(r.rank('-has:doi weak', 10, { query: true })).join(), keys(r.rank('weak', 10)).filter((k) => k !== 'weinberg1967').join());
  assert.throws(() => r.rank('year:abc', 10, { query: true }), /year filter/);
  // A key fragment holding a colon is not a filter in completion.
  const withColon = new CiteRanker([c('Weinberg:1967tq', 'A Model of Leptons', ['Steven Weinberg'], 1967)]);
  assert.deepEqual(keys(withColon.rank('Weinberg:19')), ['Weinberg:1967tq']);
});

test('the limit cuts the ranked list', () => {
  const many = Array.from({ length: 500 }, (_, i) => c(`k${i}`, `Title ${i}`, ['A B'], 2000 + (i % 20)));
  assert.equal(new CiteRanker(many).rank('k', 50).length, 50);
});

test('typing on reuses the previous matches and ranks exactly as a fresh ranker does', () => {
  const many = Array.from({ length: 300 }, (_, i) => c(`k${i}x${i % 7}`, `Title ${i} about ${['leptons', 'bosons', 'quarks'][i % 3]}`, [`Given Family${i % 11}`], 1990 + (i % 30)));
  const typing = new CiteRanker(many);
  for (const q of ['k', 'k1', 'k1x', 'k1x3', 'k1', 'famil', 'family1', 'family1 199', 'family1 1995', 'lep', 'b']) {
    assert.deepEqual(keys(typing.rank(q, 20)), keys(new CiteRanker(many).rank(q, 20)), q);
  }
});

test('cached short fragments give the same ranking as a fresh ranker, also after other queries', () => {
  const many = Array.from({ length: 200 }, (_, i) => c(`a${i}b`, `Word ${i}`, [`N Fam${i % 5}`], 2000 + (i % 9)));
  const r = new CiteRanker(many);
  for (const q of ['a', 'a1', 'fam', 'a', 'a1', 'a12', 'a1', '', 'a']) assert.deepEqual(keys(r.rank(q, 10)), keys(new CiteRanker(many).rank(q, 10)), q);
});
