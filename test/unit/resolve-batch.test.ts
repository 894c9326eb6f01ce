// Resolve looks identifiers up in batches (issue 17): the arXiv ids of a job's entries go to arXiv in
// one id_list query, the DOIs it checks to Crossref in one filter list, against the replay server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseBib } from '../../src/core/bib/parse';
import { Library } from '../../src/core/jobs/library';
import { Job } from '../../src/core/jobs/run';
import { startReplayServer } from '../../src/replay';

const fast = { rate: { requests: 1000, intervalMs: 1000 }, searchRate: { requests: 1000, intervalMs: 1000 }, concurrency: 8 };
const policies = { crossref: fast, openalex: fast, semanticScholar: fast, arxiv: fast, unpaywall: fast, doi: fast, pdf: fast };

async function runResolve(bib: string, works: Parameters<Awaited<ReturnType<typeof startReplayServer>>['addWorks']>[0]) {
  const replay = await startReplayServer();
  replay.addWorks(works);
  const storage = mkdtempSync(path.join(tmpdir(), 'scholar-resolve-batch-'));
  const file = parseBib(bib);
  const entries = file.entries.map((entry) => ({ key: entry.key, bibPath: path.join(storage, 'refs.bib'), file, entry }));
  const lib = await Library.open(storage, { http: { email: 'batch@scholar.invalid', endpoints: replay.endpoints, policies } });
  try {
    const job = new Job(lib, { kind: 'resolve', entries, checkExisting: true });
    await job.run();
    const log = replay.stats().log;
    return { job, log };
  } finally {
    await lib.close();
    await replay.close();
  }
}

describe('resolve job: identifier lookups in batches', () => {
  it('confirms 12 arXiv ids with one arXiv query and accepts each preprint DOI', async () => {
    const works = Array.from({ length: 12 }, (_, i) => ({
      doi: `10.5555/published.${i}`,
      title: `Sparse estimators for batched preprint confirmation, part ${i}`,
      authors: [{ family: 'Okafor', given: 'Ngozi' }],
      year: 2021,
      arxivId: `2101.${String(10000 + i)}`,
      venue: 'J. Batches',
    }));
    const bib = works.map((w, i) => `@misc{p${i}, title={${w.title}}, author={Okafor, Ngozi}, year={2021}, eprint={${w.arxivId}}, archivePrefix={arXiv}}\n`).join('');
    const { job, log } = await runResolve(bib, works);
    const api = log.filter((l) => l.service === 'arxiv' && l.path.startsWith('/arxiv/api/query'));
    assert.equal(api.length, 1, `one id_list query: ${api.map((l) => l.path).join(' | ')}`);
    assert.match(decodeURIComponent(api[0]!.path), /id_list=2101\.10000,2101\.10001/);
    works.forEach((w, i) => {
      const r = job.resolutions.get(`p${i}`);
      assert.equal(r?.outcome, 'accept', `p${i}: ${r?.why}`);
      assert.equal(r?.doi, `10.48550/arxiv.${w.arxivId}`, `p${i}`);
    });
  });

  it('checks 10 DOIs with one Crossref list request, and a DOI Crossref lacks is still asked at doi.org', async () => {
    const works = Array.from({ length: 10 }, (_, i) => ({
      doi: `10.5555/checked.${i}`,
      title: `Checking existing identifiers in one request, study ${i}`,
      authors: [{ family: 'Lindqvist', given: 'Maja' }],
      year: 2019,
      venue: 'J. Checks',
    }));
    const bib =
      works.map((w, i) => `@article{c${i}, title={${w.title}}, author={Lindqvist, Maja}, year={2019}, journal={J. Checks}, doi={${w.doi}}}\n`).join('') +
      `@article{gone, title={A paper whose DOI nobody registered}, author={Nobody, N.}, year={2019}, doi={10.5555/never.registered}}\n`;
    const { job, log } = await runResolve(bib, works);
    const singles = log.filter((l) => l.service === 'crossref' && /^\/crossref\/works\/10\./.test(decodeURIComponent(l.path)));
    // (The unknown DOI's entry is then searched by title: that is a list request of its own.)
    const lists = log.filter((l) => l.service === 'crossref' && /^\/crossref\/works\?.*filter=doi/.test(decodeURIComponent(l.path)));
    assert.equal(singles.length, 0, `no singleton lookups: ${singles.map((l) => l.path).join(' | ')}`);
    assert.equal(lists.length, 1, 'one filter=doi list request');
    works.forEach((_, i) => assert.equal(job.resolutions.get(`c${i}`)?.outcome, 'has_doi', `c${i}`));
    // Absent from Crossref's list, as a 404 would say: doi.org is asked before the DOI is called unknown.
    assert.equal(job.resolutions.get('gone')?.outcome, 'doi_unknown');
    assert.ok(log.some((l) => l.service === 'doi' && l.path.includes('never.registered')), 'doi.org asked about the unknown DOI');
  });
});
