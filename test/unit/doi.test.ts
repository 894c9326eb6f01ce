import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doiPath, isValidDoi, normalizeDoi, parseDoi } from '../../src/core/doi';

test('normalizeDoi always answers a canonical string, valid or not (for comparing what a user typed)', () => {
  assert.equal(normalizeDoi('https://doi.org/10.1000/ABC.def'), '10.1000/abc.def');
  assert.equal(normalizeDoi('doi: 10.1000/x\\_y.'), '10.1000/x_y');
  assert.equal(normalizeDoi('{10.1000/a%2Fb}'), '10.1000/a/b');
  // Not a DOI, but still an answer: callers decide with isValidDoi.
  assert.equal(normalizeDoi('  Not A DOI '), 'not a doi');
  assert.equal(isValidDoi('Not A DOI'), false);
  assert.equal(normalizeDoi(''), '');
});

test('parseDoi answers a valid canonical DOI or undefined (for reading API answers)', () => {
  assert.equal(parseDoi('https://dx.doi.org/10.1103/PhysRevLett.116.061102'), '10.1103/physrevlett.116.061102');
  assert.equal(parseDoi('10.1000/xyz'), normalizeDoi('10.1000/xyz'));
  assert.equal(parseDoi('Not A DOI'), undefined);
  assert.equal(parseDoi('10.12/too-short-prefix'), undefined);
  assert.equal(parseDoi(''), undefined);
  assert.equal(parseDoi(null), undefined);
  assert.equal(parseDoi(undefined), undefined);
});

test('the two contracts agree wherever parseDoi answers', () => {
  for (const raw of ['10.1000/ABC', 'doi:10.5555/12345678', 'https://www.doi.org/10.48550/arXiv.2101.01234', 'garbage', '10.1/x']) {
    const p = parseDoi(raw);
    if (p !== undefined) assert.equal(p, normalizeDoi(raw));
    assert.equal(p !== undefined, isValidDoi(raw), raw);
  }
});

test('doiPath keeps / and : readable and escapes the rest', () => {
  assert.equal(doiPath('10.1002/(sici)1097-4636:x y'), '10.1002/(sici)1097-4636:x%20y');
});
