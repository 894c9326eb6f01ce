import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyMetadata, mergeMetadata, validateMetadata, type Metadata } from '../../src/core/storage/metadata';

const full: Metadata = {
  schemaVersion: 1,
  key: 'smith2020',
  originalKey: 'Smith2020',
  doi: '10.1000/xyz',
  identifiers: { arxiv: '2001.00001', pmid: '123' },
  title: 'A title',
  authors: [{ family: 'Smith', given: 'Jane' }, { family: 'Doe' }],
  year: 2020,
  venue: 'Journal',
  type: 'article',
  abstract: 'Abstract.',
  provenance: { title: 'crossref' },
  match: { score: 0.97, outcome: 'accepted', source: 'crossref', candidates: [{ doi: '10.1000/xyz', score: 0.97 }] },
  pdf: {
    sourceUrl: 'https://example.org/a.pdf',
    source: 'unpaywall',
    license: 'cc-by',
    sha256: 'a'.repeat(64),
    size: 1234,
    pages: 10,
    retrievedAt: '2024-01-01T00:00:00.000Z',
    verified: 'doi',
  },
  notices: [{ type: 'retraction', doi: '10.1000/retr', date: '2021-01-01', source: 'crossref' }],
  tags: ['ml'],
  updatedAt: '2024-01-01T00:00:00.000Z',
};

test('a full document survives a JSON round trip through validation', () => {
  assert.deepEqual(validateMetadata(JSON.parse(JSON.stringify(full))), full);
});

test('garbage is refused with a code and the field that is wrong', () => {
  const cases: [unknown, RegExp][] = [
    [null, /\(root\)/],
    ['x', /\(root\)/],
    [[], /\(root\)/],
    [{ ...full, schemaVersion: 2 }, /schemaVersion/],
    [{ ...full, key: 5 }, /key/],
    [{ ...full, key: '' }, /key/],
    [{ ...full, year: '2020' }, /year/],
    [{ ...full, year: 2020.5 }, /year/],
    [{ ...full, authors: [{ given: 'x' }] }, /authors\[0\]\.family/],
    [{ ...full, match: { score: 1, outcome: 'maybe' } }, /match\.outcome/],
    [{ ...full, pdf: { ...full.pdf, sha256: 'nope' } }, /pdf\.sha256/],
    [{ ...full, pdf: { ...full.pdf, size: -1 } }, /pdf\.size/],
    [{ ...full, pdf: { ...full.pdf, verified: 'yes' } }, /pdf\.verified/],
    [{ ...full, notices: [{ type: 'oops', source: 'x' }] }, /notices\[0\]\.type/],
    [{ ...full, tags: [1] }, /tags\[0\]/],
    [{ ...full, provenance: { a: 1 } }, /provenance\.a/],
    [{ ...full, updatedAt: undefined }, /updatedAt/],
  ];
  for (const [input, field] of cases) {
    assert.throws(() => validateMetadata(input), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'E_BAD_METADATA');
      assert.match(err.message, field);
      return true;
    });
  }
});

test('unknown fields are dropped, missing maps are filled in', () => {
  const m = validateMetadata({ schemaVersion: 1, key: 'k', updatedAt: 'now', evil: '<script>' });
  assert.deepEqual(m, { schemaVersion: 1, key: 'k', identifiers: {}, provenance: {}, updatedAt: 'now' });
});

test('merge: maps merge per entry, null removes, undefined keeps, key is immutable', () => {
  const a = validateMetadata(full);
  const m = mergeMetadata(a, {
    identifiers: { pmid: null, openalex: 'W1' },
    provenance: { doi: 'user', title: null },
    title: 'New',
    abstract: null,
    venue: undefined,
    ...({ key: 'other', schemaVersion: 9 } as object),
  });
  assert.equal(m.key, 'smith2020');
  assert.equal(m.schemaVersion, 1);
  assert.deepEqual(m.identifiers, { arxiv: '2001.00001', openalex: 'W1' });
  assert.deepEqual(m.provenance, { doi: 'user' });
  assert.equal(m.title, 'New');
  assert.equal('abstract' in m, false);
  assert.equal(m.venue, 'Journal');
  // inputs untouched
  assert.equal(a.title, 'A title');
  assert.deepEqual(a.identifiers, { arxiv: '2001.00001', pmid: '123' });
});

test('sequential merges equal the patches applied in order', () => {
  let m = emptyMetadata('k', 't0');
  m = mergeMetadata(m, { title: 'one', tags: ['a'] });
  m = mergeMetadata(m, { title: 'two' });
  m = mergeMetadata(m, { tags: null, year: 1999 });
  assert.deepEqual(validateMetadata(m), { schemaVersion: 1, key: 'k', identifiers: {}, provenance: {}, title: 'two', year: 1999, updatedAt: 't0' });
});
