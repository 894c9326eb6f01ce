import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hostname } from 'node:os';
import { interruptedJobs } from '../../src/core/jobs/resume';

test('a job whose state is still running is offered for resume, with its finished keys', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'scholar-resume-'));
  mkdirSync(path.join(root, 'jobs'));
  const state = (id: string, status: string) => ({
    id,
    kind: 'fetch',
    status,
    total: 4,
    bibFiles: ['/w/refs.bib'],
    entries: { a: { outcome: 'stored' }, b: { outcome: 'failed', permanent: true }, c: { outcome: 'failed', permanent: false }, d: { outcome: 'cancelled' } },
  });
  writeFileSync(path.join(root, 'jobs', '20260101-aaa.json'), JSON.stringify(state('20260101-aaa', 'done')));
  writeFileSync(path.join(root, 'jobs', '20260102-bbb.json'), JSON.stringify(state('20260102-bbb', 'running')));
  writeFileSync(path.join(root, 'jobs', '20260103-ccc.json'), '{ not json');
  // A job still alive in another process on this host is not offered.
  writeFileSync(path.join(root, 'jobs', '20260104-ddd.json'), JSON.stringify({ ...state('20260104-ddd', 'running'), pid: process.ppid, host: hostname() }));
  const jobs = await interruptedJobs(root);
  assert.equal(jobs.length, 1);
  assert.equal(jobs[0].id, '20260102-bbb');
  assert.deepEqual([...jobs[0].finished].sort(), ['a', 'b'], 'transient failures and cancelled entries are retried');
  assert.deepEqual(jobs[0].bibFiles, ['/w/refs.bib']);
});

test('no jobs folder means nothing to resume', async () => {
  assert.deepEqual(await interruptedJobs(path.join(tmpdir(), 'scholar-none-' + process.pid)), []);
});
