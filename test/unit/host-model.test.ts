// The views' projections (src/host/model): what the tree, the hovers, the commands and the dashboard
// show about an entry and a job, computed from the models alone (no VS Code needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entryStatus, entryStateText } from '../../src/host/model/entryStatus';
import { jobReport, progressPlace, LONG_JOB_ENTRIES } from '../../src/host/model/jobReport';
import { ERROR_CODES, errorLabel } from '../../src/core/errors';
import { toDashboardSnapshot } from '../../src/host/model/dashboardSnapshot';
import type { Metadata, MatchInfo, PdfInfo } from '../../src/core/storage/metadata';
import type { EntryOutcome, JobSnapshot } from '../../src/core/jobs/run';

function meta(over: { doi?: string; match?: MatchInfo; pdf?: PdfInfo } = {}): Metadata {
  return { schemaVersion: 1, key: 'k', identifiers: {}, provenance: {}, updatedAt: '2026-01-01T00:00:00Z', ...over };
}
const pdf: PdfInfo = { sourceUrl: 'https://x/a.pdf', source: 'unpaywall', sha256: 'ab', size: 10, retrievedAt: '2026-01-01T00:00:00Z', verified: 'doi' };
const failed: EntryOutcome = { key: 'k', bibPath: '/r.bib', outcome: 'failed', reason: 'E_TIMEOUT', message: 'slow' };

test('an entry the library knows nothing about has no DOI state and no PDF', () => {
  assert.deepEqual(entryStatus({}), { doi: undefined, libraryDoi: undefined, doiState: 'none', pdfState: 'none', failure: undefined, meta: undefined });
});

test('the .bib is the truth for "has a DOI"; a DOI only the library accepted is libraryDoi', () => {
  assert.equal(entryStatus({ bibDoi: ' 10.1/a ' }).doiState, 'found');
  assert.equal(entryStatus({ bibDoi: ' 10.1/a ' }).doi, '10.1/a');
  const accepted = entryStatus({ meta: meta({ doi: '10.1/b', match: { score: 0.99, outcome: 'accepted' } }) });
  assert.equal(accepted.doiState, 'none');
  assert.equal(accepted.libraryDoi, '10.1/b');
  // With the DOI in the .bib, the library's copy is not reported a second time.
  assert.equal(entryStatus({ bibDoi: '10.1/b', meta: meta({ doi: '10.1/b', match: { score: 1, outcome: 'manual' } }) }).libraryDoi, undefined);
});

test('a user decision and a doubtful match are shown as recorded', () => {
  assert.equal(entryStatus({ meta: meta({ match: { score: 0, outcome: 'no_doi', source: 'user' } }) }).doiState, 'no_doi');
  assert.equal(entryStatus({ meta: meta({ match: { score: 0.7, outcome: 'review' } }) }).doiState, 'review');
  assert.equal(entryStatus({ meta: meta({ match: { score: 0, outcome: 'not_found' } }) }).doiState, 'not_found');
  // The running job's outcome counts before the index has it.
  assert.equal(entryStatus({ current: { key: 'k', bibPath: '/r.bib', outcome: 'review' } }).doiState, 'review');
});

test('a DOI found wrong is under review only while the entry still carries that DOI', () => {
  const wrong = meta({ match: { score: 0, outcome: 'doi_mismatch', replaces: '10.1/old' } });
  assert.equal(entryStatus({ bibDoi: '10.1/old', meta: wrong }).doiState, 'review');
  assert.equal(entryStatus({ bibDoi: '10.1/new', meta: wrong }).doiState, 'found');
});

test('PDF state: stored beats a failure, a failure beats pending, pending only in a running fetch not yet at the entry', () => {
  assert.equal(entryStatus({ meta: meta({ pdf }), failure: failed }).pdfState, 'stored');
  const f = entryStatus({ failure: failed });
  assert.equal(f.pdfState, 'failed');
  assert.equal(f.failure, 'E_TIMEOUT: slow');
  assert.equal(entryStatus({ inRunningFetch: true }).pdfState, 'pending');
  assert.equal(entryStatus({ inRunningFetch: true, current: { key: 'k', bibPath: '/r.bib', outcome: 'downloaded' } }).pdfState, 'none');
});

test('the dashboard snapshot without a job or a library is the empty one', () => {
  const s = toDashboardSnapshot({ services: [], trusted: false });
  assert.equal(s.job, null);
  assert.deepEqual(s.library, { entries: 0, withDoi: 0, withPdf: 0, needsReview: 0 });
  assert.deepEqual([s.stages, s.errors, s.activity, s.throughput], [[], [], [], []]);
  assert.equal(s.trusted, false);
});

test('the dashboard snapshot projects the job, its errors, the last 50 activities and the index totals', () => {
  const job: JobSnapshot = {
    id: 'j1',
    kind: 'fetch',
    state: 'running',
    stats: {
      total: 10, done: 4, failed: 1, inFlight: 2, paused: false, cancelled: false, startedAt: 0, elapsedMs: 5000, etaMs: 7000,
      stages: [{ name: 'download', concurrency: 4, queued: 3, active: 2, done: 4, failed: 1, failedByReason: { E_TIMEOUT: 1 }, throughputPerMin: 48 }],
      outcomes: { downloaded: 4, failed: 1 },
    },
    errors: [{ reason: 'E_TIMEOUT', message: 'slow', permanent: false, keys: ['a', 'b'] }],
    activity: Array.from({ length: 80 }, (_, i) => ({ at: i, text: `t${i}`, level: 'info' as const })),
    throughput: Array.from({ length: 100 }, (_, i) => i),
  };
  const s = toDashboardSnapshot({ job, library: { entries: 12, withPdf: 5, withDoi: 9, byDoiStatus: { review: 2 }, byPdfStatus: {}, jobs: 1 }, services: [], trusted: true });
  assert.deepEqual(s.job, { id: 'j1', kind: 'fetch', state: 'running', title: 'Fetch PDFs', total: 10, done: 4, failed: 1, elapsedMs: 5000, etaMs: 7000, outcomes: { downloaded: 4, failed: 1 } });
  assert.deepEqual(s.stages, [{ name: 'download', queued: 3, active: 2, done: 4, failed: 1, throughputPerMin: 48 }]);
  assert.deepEqual(s.errors, [{ reason: 'E_TIMEOUT', label: errorLabel('E_TIMEOUT'), message: 'slow', count: 2, permanent: false, keys: ['a', 'b'] }]);
  assert.equal(s.activity.length, 50);
  assert.equal(s.activity[0].text, 't30');
  assert.equal(s.throughput.length, 60);
  assert.equal(s.throughput[0], 40);
  assert.deepEqual(s.library, { entries: 12, withDoi: 9, withPdf: 5, needsReview: 2 });
});

test('every error group in the dashboard carries the registry\'s human label, the code kept apart for the tooltip', () => {
  const codes = Object.keys(ERROR_CODES);
  const job: JobSnapshot = {
    id: 'j2', kind: 'fetch', state: 'done',
    stats: { total: codes.length, done: 0, failed: codes.length, inFlight: 0, paused: false, cancelled: false, startedAt: 0, elapsedMs: 1, etaMs: 0, stages: [], outcomes: { failed: codes.length } },
    errors: [...codes, 'ENOENT'].map((reason, i) => ({ reason, message: 'm', permanent: true, keys: [`k${i}`] })),
    activity: [],
    throughput: [],
  };
  const s = toDashboardSnapshot({ job, services: [], trusted: true });
  assert.equal(s.errors.length, codes.length + 1);
  for (const e of s.errors) {
    assert.match(e.reason, /^E/);
    assert.ok(e.label && !/^E_/.test(e.label), `${e.reason} is labelled "${e.label}"`);
  }
  assert.equal(s.errors.find((e) => e.reason === 'E_NO_PDF')?.label, ERROR_CODES.E_NO_PDF.label);
  // A code outside the registry (a Node error that slipped through) reads as the unexpected error, not as its code.
  assert.equal(s.errors.find((e) => e.reason === 'ENOENT')?.label, ERROR_CODES.E_INTERNAL.label);
});

test('the summary of a Resolve job says what happened in plain words, with singulars where there is one', () => {
  const r = jobReport({ kind: 'resolve', outcomes: { accept: 24, has_doi: 4, review: 2, not_found: 1 }, written: 24, refused: 0, writeBack: true, cancelled: false });
  assert.equal(r.message, 'Scholar: 24 DOIs added, 2 need your review, 1 not found, 4 already had their DOIs.');
  assert.deepEqual(r.actions, ['Review']);
  const one = jobReport({ kind: 'resolve', outcomes: { accept: 1, review: 1, has_doi: 1, failed: 1 }, written: 1, refused: 0, writeBack: true, cancelled: false });
  assert.equal(one.message, 'Scholar: 1 DOI added, 1 needs your review, 1 already had its DOI, 1 could not be looked up.');
  assert.deepEqual(one.actions, ['Review', 'Show Dashboard']);
  for (const m of [r.message, one.message]) assert.doesNotMatch(m, /has doi|has_doi|accept|\b1 DOIs\b|_/);
});

test('the summary counts DOIs written, not DOIs found, and says which were not written and why', () => {
  const r = jobReport({ kind: 'resolve', outcomes: { accept: 3 }, written: 2, refused: 1, writeBack: true, cancelled: false });
  assert.equal(r.message, 'Scholar: 2 DOIs added, 1 DOI not written (the entry changed meanwhile).');
  const found = jobReport({ kind: 'resolve', outcomes: { accept: 3, doi_unknown: 1, doi_mismatch: 1 }, written: 0, refused: 0, writeBack: false, cancelled: false });
  assert.equal(found.message, 'Scholar: 3 DOIs found, 2 DOIs look wrong.');
  assert.deepEqual(found.actions, ['Review']);
});

test('the summary of a Fetch job, a cancelled one, and one with nothing to do', () => {
  const f = jobReport({ kind: 'fetch', outcomes: { stored: 5, stored_unverified: 1, already_stored: 1, failed: 3, skipped: 1 }, written: 0, refused: 0, writeBack: true, cancelled: false });
  assert.equal(f.message, 'Scholar: 6 PDFs stored, 1 PDF was already stored, 3 PDFs could not be fetched, 1 skipped.');
  assert.deepEqual(f.actions, ['Show Dashboard']);
  const c = jobReport({ kind: 'fetch', outcomes: { stored: 1, cancelled: 9 }, written: 0, refused: 0, writeBack: true, cancelled: true });
  assert.equal(c.message, 'Scholar: cancelled; 1 PDF stored.');
  assert.equal(jobReport({ kind: 'resolve', outcomes: {}, written: 0, refused: 0, writeBack: true, cancelled: false }).message, 'Scholar: no DOI to look up.');
});

test('progress is a notification only for a long job started from the palette, never for an automatic one', () => {
  assert.equal(progressPlace({ entries: LONG_JOB_ENTRIES + 1, fromPalette: true, automatic: false }), 'notification');
  assert.equal(progressPlace({ entries: LONG_JOB_ENTRIES, fromPalette: true, automatic: false }), 'view');
  assert.equal(progressPlace({ entries: 5000, fromPalette: false, automatic: false }), 'view');
  assert.equal(progressPlace({ entries: 5000, fromPalette: true, automatic: true }), 'view');
});

test('an entry\'s state in words says what its icon\'s colour says', () => {
  assert.equal(entryStateText({ doiState: 'found', pdfState: 'stored' }), 'has a DOI, PDF stored');
  assert.equal(entryStateText({ doiState: 'review', pdfState: 'none' }), 'DOI needs your review, no PDF');
  assert.equal(entryStateText({ doiState: 'none', pdfState: 'failed' }), 'no DOI yet, PDF failed');
  assert.equal(entryStateText({ doiState: 'no_doi', pdfState: 'pending' }), 'marked as having no DOI, PDF pending');
  assert.equal(entryStateText({ doiState: 'not_found', pdfState: 'none' }), 'no DOI found, no PDF');
});
