// Issue 7's acceptance run: a project of many entries against the replay server with latency, rate
// limits (enforced by the server, which counts violations) and injected faults. The run completes;
// every obtainable PDF is stored and verified; every injected fault is a per-entry error with a code.
// 150 entries in `npm test`, 1,000 with SCHOLAR_TORTURE=long (`npm run torture`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startReplayServer, type FaultRule } from '../../src/replay/server';
import { Library } from '../../src/core/jobs/library';
import { Job } from '../../src/core/jobs/run';
import { loadBibFile } from '../../src/core/tex/project';
import type { PolicyOverrides } from '../../src/core/net/policy';
import { count, inspectStorage, pdfProblem, tempDir } from './torture-helpers';

const N = count(150, 1000);
const FAULTS: Omit<FaultRule, 'doi'>[] = [
  { kind: 'status', status: 503 },
  { kind: 'reset' },
  { kind: 'truncated' },
  { kind: 'htmlAsPdf' },
  { kind: 'huge', bytes: 200 * 1024 * 1024, declareLength: true },
  { kind: 'gzipBomb', bytes: 64 * 1024 * 1024 },
  { kind: 'redirectLoop' },
  { kind: 'redirectFile' },
];
// The `z` keeps entry 3's DOI from being a substring of entry 30's (faults match DOIs as substrings).
const doiOf = (i: number) => `10.5555/thousand.${i}z`;

test(`a ${N}-entry fetch with latency, enforced rate limits and injected faults completes, storing every obtainable PDF`, { timeout: 600_000 }, async () => {
  const { dir, cleanup } = tempDir();
  // Every 10th entry gets a fault on its PDF, cycling through the fault kinds.
  const faulted = new Map<number, Omit<FaultRule, 'doi'>>();
  for (let i = 0; i < N; i += 10) faulted.set(i, FAULTS[(i / 10) % FAULTS.length]);
  const limit = { requests: 40, intervalMs: 1000, concurrency: 6 };
  const replay = await startReplayServer({
    latencyMs: [5, 30],
    pdfBytes: 40_000,
    faults: [...faulted].map(([i, f]) => ({ ...f, service: 'pdf' as const, doi: doiOf(i) })),
    limits: { crossref: limit, openalex: limit, unpaywall: limit, semanticScholar: limit, doi: limit, arxiv: limit, pdf: { requests: 80, intervalMs: 1000, concurrency: 12 } },
  });
  try {
    replay.addWorks(Array.from({ length: N }, (_, i) => ({ doi: doiOf(i), title: `Resilient pipelines under load, study number ${i}`, authors: [{ family: 'Tester', given: 'T.' }], year: 2022, oa: 'gold' as const, venue: 'Journal of Torture' })));
    const bibPath = path.join(dir, 'refs.bib');
    fs.writeFileSync(bibPath, Array.from({ length: N }, (_, i) => `@article{k${i},\n  title = {Resilient pipelines under load, study number ${i}},\n  author = {Tester, T.},\n  year = {2022},\n  doi = {${doiOf(i)}}\n}\n`).join('\n'));
    // The client runs 25 % under the server's limits: the replay server shares this process's event
    // loop, so a pause of the loop bunches arrivals that left evenly spaced (rate compliance itself is
    // net-rate.test.ts's subject). The run must never be told 429.
    const policy = { rate: { requests: 30, intervalMs: 1000 }, concurrency: 6, backoffBaseMs: 50 };
    const policies: PolicyOverrides = { crossref: policy, openalex: policy, unpaywall: policy, semanticScholar: policy, doi: policy, arxiv: policy, pdf: { rate: { requests: 60, intervalMs: 1000 }, concurrency: 12, backoffBaseMs: 50 } };
    const storage = path.join(dir, 'storage');
    const lib = await Library.open(storage, { http: { email: 'torture@scholar.invalid', endpoints: replay.endpoints, policies } });
    const bib = await loadBibFile(bibPath);
    const job = new Job(lib, { kind: 'fetch', entries: bib.file.entries.map((entry) => ({ key: entry.key, bibPath, file: bib.file, entry })) });
    let snap;
    try {
      snap = await job.run();
    } finally {
      await lib.close();
    }
    process.stderr.write(`[torture-thousand] ${N} entries in ${Math.round(snap.stats.elapsedMs / 100) / 10} s: ${JSON.stringify(snap.stats.outcomes)}\n`);

    assert.equal(snap.stats.done + snap.stats.failed, N, 'every entry finished');
    const stats = replay.stats();
    assert.equal(Object.values(stats.violations).reduce((a, b) => a + b, 0), 0, `rate violations: ${JSON.stringify(stats.violations)}`);
    const problems: string[] = [];
    for (let i = 0; i < N; i++) {
      const r = job.results.get(`k${i}`);
      if (!r) {
        problems.push(`k${i}: no result`);
        continue;
      }
      const fault = faulted.get(i);
      if (!fault) {
        if (r.outcome !== 'stored') problems.push(`k${i}: expected stored, got ${r.outcome} ${r.reason ?? ''} ${r.message ?? ''}`);
        else {
          const meta = JSON.parse(fs.readFileSync(path.join(storage, 'by_key', `k${i}`, 'metadata.json'), 'utf8'));
          const pdf = path.join(storage, 'by_key', `k${i}`, 'paper.pdf');
          const bad = pdfProblem(pdf);
          if (bad) problems.push(`k${i}: ${bad}`);
          if (!['doi', 'title'].includes(meta.pdf?.verified)) problems.push(`k${i}: PDF not verified (${meta.pdf?.verified})`);
        }
      } else if (r.outcome !== 'failed' || !/^E_[A-Z0-9_]+$/.test(r.reason ?? '') || r.reason === 'E_NO_PDF' || !r.message) {
        problems.push(`k${i} (${fault.kind}): expected a per-entry error with a code, got ${r.outcome} ${r.reason ?? ''} ${r.message ?? ''}`);
      }
    }
    assert.deepEqual(problems, []);
    const report = inspectStorage(storage);
    assert.deepEqual(report.problems, [], 'storage is consistent');
    assert.deepEqual(report.debris, [], 'no temp or lock file left after a clean run');
  } finally {
    await replay.close();
    cleanup();
  }
});
