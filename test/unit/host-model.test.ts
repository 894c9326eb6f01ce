// The views' projections (src/host/model): what the tree, the hovers, the commands and the dashboard
// show about an entry and a job, computed from the models alone (no VS Code needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entryStatus } from '../../src/host/model/entryStatus';
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
  assert.deepEqual(s.errors, [{ reason: 'E_TIMEOUT', message: 'slow', count: 2, permanent: false, keys: ['a', 'b'] }]);
  assert.equal(s.activity.length, 50);
  assert.equal(s.activity[0].text, 't30');
  assert.equal(s.throughput.length, 60);
  assert.equal(s.throughput[0], 40);
  assert.deepEqual(s.library, { entries: 12, withDoi: 9, withPdf: 5, needsReview: 2 });
});
