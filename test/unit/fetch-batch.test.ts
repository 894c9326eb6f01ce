// Batch lookups of the fetch job (issue 17) against the replay server on loopback: Semantic Scholar's
// POST /graph/v1/paper/batch and Crossref's filter=doi:A,doi:B,… give what their singleton forms give
// about each work, and a fetch job asks each service once per batch for the DOIs it knows up front,
// with Unpaywall only for the entries OpenAlex has no PDF for.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScholarHttp } from '../../src/core/net/http';
import * as s2 from '../../src/core/sources/semanticScholar';
import * as crossref from '../../src/core/sources/crossref';
import { parseBib } from '../../src/core/bib/parse';
import { Library } from '../../src/core/jobs/library';
import { Job } from '../../src/core/jobs/run';
import { startReplayServer, type ReplayServer } from '../../src/replay';

let replay: ReplayServer;
let http: ScholarHttp;
const fast = { rate: { requests: 1000, intervalMs: 1000 }, searchRate: { requests: 1000, intervalMs: 1000 }, concurrency: 8 };
// Recorded S2 and Crossref bodies (test/fixtures/api) and corpus works.
const S2_KNOWN = ['10.1073/pnas.1414271111', '10.1016/j.addr.2015.01.008', '10.1007/s10468-019-09889-1', '10.1002/aqc.3262'];
const CR_KNOWN = ['10.1073/pnas.1414271111', '10.1063/1.4938384', '10.1007/s10468-019-09889-1', '10.1002/aqc.3262'];
// Recorded as a 404 by S2 (s2-paper-doi-10.1101_2024.04.01.587366-404.json) and by Crossref.
const S2_UNKNOWN = '10.1101/2024.04.01.587366';
const CR_UNKNOWN = '10.1371/notarealdoi';

before(async () => {
  replay = await startReplayServer();
  http = new ScholarHttp({ email: 'batch@example.org', endpoints: replay.endpoints, policies: { semanticScholar: fast, crossref: fast } });
});
after(async () => {
  await http.close();
  await replay.close();
});

const requestsOf = (service: string) => replay.stats().log.filter((l) => l.service === service);

describe('semantic scholar batch', () => {
  it('answers many ids in one POST, with what the singleton form says about each', async () => {
    const before = requestsOf('semanticScholar').length;
    const ids = [...S2_KNOWN, S2_UNKNOWN].map(s2.s2DoiId);
    const map = await s2.papersByIds(http, ids);
    const sent = requestsOf('semanticScholar').slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].method, 'POST');
    assert.deepEqual([...map.keys()].sort(), S2_KNOWN.map(s2.s2DoiId).sort(), 'the unknown id is absent (null in the array), not an error');
    for (const d of S2_KNOWN) {
      const one = (await s2.paperByDoi(http, d))!;
      const many = map.get(s2.s2DoiId(d))!;
      assert.equal(many.doi, one.doi);
      assert.equal(many.title, one.title);
      assert.deepEqual(many.oaLocations, one.oaLocations, `${d}: the same PDF location`);
      assert.equal(many.arxivId, one.arxivId);
    }
  });

  it('the replay answers in the order of the ids, null for unknown ones, and refuses more than 500', async () => {
    const r = await fetch(`${replay.endpoints.semanticScholar}/graph/v1/paper/batch?fields=externalIds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids: [`DOI:${S2_UNKNOWN}`, `DOI:${S2_KNOWN[2]}`] }),
    });
    assert.equal(r.status, 200);
    const body = (await r.json()) as ({ externalIds?: { DOI?: string } } | null)[];
    assert.equal(body.length, 2);
    assert.equal(body[0], null);
    assert.equal(body[1]?.externalIds?.DOI?.toLowerCase(), S2_KNOWN[2]);
    const many = Array.from({ length: 501 }, (_, i) => `DOI:10.9999/x${i}`);
    const tooMany = await fetch(`${replay.endpoints.semanticScholar}/graph/v1/paper/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: many }) });
    assert.equal(tooMany.status, 400);
    await assert.rejects(s2.papersByIds(http, many), RangeError);
  });
});

describe('crossref filter=doi list', () => {
  it('answers many DOIs in one list request, with the same records the singleton form gives', async () => {
    const before = requestsOf('crossref').length;
    const map = await crossref.worksByDois(http, [...CR_KNOWN, CR_UNKNOWN]);
    const sent = requestsOf('crossref').slice(before);
    assert.equal(sent.length, 1);
    assert.match(sent[0].path, /^\/crossref\/works\?/);
    assert.deepEqual([...map.keys()].sort(), [...CR_KNOWN].sort(), 'the unknown DOI is absent, not an error');
    for (const d of CR_KNOWN) {
      const one = (await crossref.workByDoi(http, d))!;
      const many = map.get(d)!;
      assert.deepEqual({ ...many }, (({ score: _s, ...rest }) => rest)(one), `${d}: the same record`);
    }
    assert.ok(map.get('10.1073/pnas.1414271111')!.updates?.length, 'the updated-by notice is in the list form too');
  });

  it('keeps each URL under about 8 KB by splitting long lists', async () => {
    const before = requestsOf('crossref').length;
    const dois = Array.from({ length: 100 }, (_, i) => `10.9999/a-rather-long-doi-suffix-of-a-work-that-no-one-knows-${i}`);
    const map = await crossref.worksByDois(http, [...dois, CR_KNOWN[0]]);
    const sent = requestsOf('crossref').slice(before);
    assert.ok(sent.length >= 2, `${sent.length} requests`);
    for (const s of sent) assert.ok(s.path.length < 8000, `${s.path.length} characters`);
    assert.deepEqual([...map.keys()], [CR_KNOWN[0]]);
  });
});

describe('fetch job', () => {
  it('asks Crossref, OpenAlex and Semantic Scholar once for all its DOIs, Unpaywall only where OpenAlex lists an open copy without a PDF', async () => {
    const local = await startReplayServer();
    const storage = mkdtempSync(path.join(tmpdir(), 'scholar-fetch-batch-'));
    const works = Array.from({ length: 30 }, (_, i) => ({
      doi: `10.5555/batch.${i}`,
      title: `Batched lookup study number ${i} of open access copies`,
      authors: [{ family: 'Quill', given: 'Ada' }],
      year: 2020,
      // closed: OpenAlex knows the work and lists no open copy; bronze: open on the landing page, no PDF URL.
      oa: (['closed', 'bronze', 'gold'] as const)[i % 3]!,
    }));
    local.addWorks(works);
    const file = parseBib(works.map((w, i) => `@article{b${i}, title={${w.title}}, author={Quill, Ada}, year={2020}, doi={${w.doi}}}\n`).join(''));
    const entries = file.entries.map((entry) => ({ key: entry.key, bibPath: path.join(storage, 'refs.bib'), file, entry }));
    const lib = await Library.open(storage, { http: { email: 'batch@scholar.invalid', endpoints: local.endpoints, policies: { crossref: fast, openalex: fast, semanticScholar: fast, arxiv: fast, unpaywall: fast, doi: fast, pdf: fast } } });
    try {
      const job = new Job(lib, { kind: 'fetch', entries });
      await job.run();
      const count = (s: string) => local.stats().log.filter((l) => l.service === s).length;
      assert.equal(count('crossref'), 1, 'one Crossref list request');
      assert.equal(count('openalex'), 1, 'one OpenAlex filter request');
      assert.equal(count('semanticScholar'), 1, 'one Semantic Scholar batch');
      const bronze = works.filter((w) => w.oa === 'bronze').length;
      assert.equal(count('unpaywall'), bronze, 'Unpaywall only for the works OpenAlex lists as open without a PDF URL, not for those it calls closed');
      await lib.writer.flush();
      works.forEach((w, i) => {
        const r = job.results.get(`b${i}`);
        if (w.oa === 'gold') {
          assert.equal(r?.outcome, 'stored', `b${i}`);
          assert.equal(lib.index.get(`b${i}`)?.pdf?.source, 'openalex', `b${i}: OpenAlex's copy`);
          assert.equal(lib.index.get(`b${i}`)?.provenance?.title, 'crossref', `b${i}: metadata from Crossref's list`);
        } else if (w.oa === 'bronze') {
          // Free to read on the publisher's page: its citation_pdf_url, found in the second tier.
          assert.equal(r?.outcome, 'stored', `b${i}`);
          assert.equal(lib.index.get(`b${i}`)?.pdf?.source, 'landingPage', `b${i}: the landing page's copy`);
        } else assert.equal(r?.reason, 'E_NO_PDF', `b${i}`);
      });
    } finally {
      await lib.close();
      await local.close();
    }
  });
});
