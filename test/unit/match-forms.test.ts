// Forms as data (src/core/match/version.ts): what an entry cites and what a record is, and when a
// journal article and a conference paper are one paper.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { citedForm, isOtherForm, workForm } from '../../src/core/match/version';

const cite = (type: string, fields: Record<string, string> = {}) => ({ type, get: (n: string) => fields[n] });

test('the form an entry cites comes from its type, and for @misc or a journal from the words naming a series', () => {
  assert.equal(citedForm(cite('TechReport', { institution: 'Computer Science Department, University of Maryland' })), 'report');
  assert.equal(citedForm(cite('phdthesis')), 'thesis');
  assert.equal(citedForm(cite('inproceedings', { booktitle: 'ICAPS' })), 'conference');
  assert.equal(citedForm(cite('article', { journal: 'IEEE Intelligent Systems' })), 'article');
  assert.equal(citedForm(cite('article', { journal: 'NBER Working Paper Series' })), 'report');
  assert.equal(citedForm(cite('misc', { howpublished: 'Working paper' })), 'report');
  assert.equal(citedForm(cite('misc', { note: 'Unpublished manuscript' })), 'report');
  assert.equal(citedForm(cite('misc', { howpublished: 'Online' })), undefined);
  // Preprints are the version rules' business.
  assert.equal(citedForm(cite('techreport', { institution: 'arXiv' })), undefined);
  assert.equal(citedForm(cite('article', { journal: 'Scientific Reports' })), 'article');
});

test('the form of a record is its Crossref type; a preprint or an untyped record has none', () => {
  assert.equal(workForm({ type: 'journal-article', doi: '10.1109/mis.2005.20' }), 'article');
  assert.equal(workForm({ type: 'report', doi: '10.3386/w14448' }), 'report');
  assert.equal(workForm({ type: 'proceedings-article' }), 'conference');
  assert.equal(workForm({ type: 'dissertation' }), 'thesis');
  assert.equal(workForm({ type: 'journal-article', doi: '10.2139/ssrn.1234567' }), undefined); // SSRN: a preprint server typed as journal article
  assert.equal(workForm({ type: 'posted-content' }), undefined);
  assert.equal(workForm({}), undefined);
});

test('a report or thesis never takes an article; a conference paper and a journal article are one paper only where the venues say so', () => {
  const none = { venuesAgree: false, identicalTo: false };
  assert.equal(isOtherForm('report', 'article', none), true);
  assert.equal(isOtherForm('thesis', 'conference', none), true);
  assert.equal(isOtherForm('article', 'report', none), true);
  assert.equal(isOtherForm('report', 'report', none), false);
  assert.equal(isOtherForm('thesis', 'book' as never, none), false);
  assert.equal(isOtherForm('conference', 'article', { ...none, entryVenue: 'Proceedings of ICAPS', workVenue: 'IEEE Intelligent Systems' }), true);
  // Journals that publish conference papers.
  assert.equal(isOtherForm('conference', 'article', { ...none, entryVenue: 'IFAC Proceedings Volumes', workVenue: 'IFAC Proceedings Volumes', venuesAgree: true }), false);
  assert.equal(isOtherForm('conference', 'article', { ...none, entryVenue: 'ICAPS', workVenue: 'Proceedings of the International Conference on Automated Planning and Scheduling' }), false);
  assert.equal(isOtherForm('conference', 'article', { ...none, entryVenue: 'SIGMETRICS', workVenue: 'ACM SIGMETRICS Performance Evaluation Review', identicalTo: true }), false);
  // The journal written as the booktitle is the journal's paper; a conference named after a journal is not.
  assert.equal(isOtherForm('conference', 'article', { ...none, entryVenue: 'IEEE Robotics and Automation Letters', workVenue: 'IEEE Robotics and Automation Letters', venuesAgree: true }), false);
  assert.equal(isOtherForm('conference', 'article', { ...none, entryVenue: 'Proceedings of the 24th International Conference on Ocean Engineering', workVenue: 'Ocean Engineering', venuesAgree: true }), true);
  assert.equal(isOtherForm('article', 'conference', { ...none, entryVenue: 'Proc. VLDB Endow.', workVenue: 'VLDB' }), false);
});
