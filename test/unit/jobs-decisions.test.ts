// A user's decision is never overwritten: a Fetch PDFs after "this entry has no DOI", after a DOI
// chosen by hand, or after "keep this DOI" leaves each decision as it was (real Library, real jobs,
// the replay server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseBib } from '../../src/core/bib/parse';
import { Library } from '../../src/core/jobs/library';
import { Job } from '../../src/core/jobs/run';
import { startReplayServer } from '../../src/replay';

const fast = { rate: { requests: 1000, intervalMs: 1000 }, searchRate: { requests: 1000, intervalMs: 1000 }, concurrency: 8 };

test('fetch and resolve keep the decisions no_doi, manual and a kept wrong DOI', async () => {
  const replay = await startReplayServer();
  const storage = mkdtempSync(path.join(tmpdir(), 'scholar-decisions-'));
  // Real corpus records: the first would resolve to 10.1007/s10468-019-09889-1 if asked.
  const text = `@article{nodoi, title={Integrals in Left Coideal Subalgebras and Group-Like Projections}, author={Chirvasitu, Alexandru and Kasprzak, Pawe{\l} and Szulim, Piotr}, year={2019}}
@article{manual, title={Integrals in Left Coideal Subalgebras and Group-Like Projections}, author={Chirvasitu, Alexandru and Kasprzak, Pawe{\l} and Szulim, Piotr}, year={2019}}
@article{kept, title={Integrals in Left Coideal Subalgebras and Group-Like Projections}, author={Chirvasitu, Alexandru and Kasprzak, Pawe{\l} and Szulim, Piotr}, year={2019}, doi={10.1007/s00382-019-04712-5}}
`;
  const file = parseBib(text);
  const entries = file.entries.map((entry) => ({ key: entry.key, bibPath: path.join(storage, 'refs.bib'), file, entry }));
  const lib = await Library.open(storage, { http: { email: 'decisions@scholar.invalid', endpoints: replay.endpoints, policies: { crossref: fast, openalex: fast, semanticScholar: fast, arxiv: fast, unpaywall: fast, doi: fast, pdf: fast } } });
  try {
    await lib.writer.writeMetadata('nodoi', { match: { score: 0, outcome: 'no_doi', source: 'user' } });
    await lib.writer.writeMetadata('manual', { doi: '10.1002/aqc.3262', match: { score: 1, outcome: 'manual', source: 'user' }, provenance: { doi: 'user' } });
    await lib.writer.writeMetadata('kept', { doi: '10.1007/s00382-019-04712-5', match: { score: 1, outcome: 'manual', source: 'user' } });
    await lib.writer.flush();
    const before = Object.fromEntries(['nodoi', 'manual', 'kept'].map((k) => [k, JSON.stringify(lib.index.get(k)?.match)]));

    const fetch = new Job(lib, { kind: 'fetch', entries });
    await fetch.run();
    assert.equal(fetch.results.get('nodoi')?.reason, 'E_NO_DOI');
    assert.equal(fetch.results.get('nodoi')?.permanent, true);
    const resolve = new Job(lib, { kind: 'resolve', entries, checkExisting: true });
    await resolve.run();
    for (const k of ['nodoi', 'manual', 'kept']) assert.equal(resolve.results.get(k)?.outcome, 'skipped', `${k}: the decision is not asked again`);
    await lib.writer.flush();
    for (const k of ['nodoi', 'manual', 'kept']) assert.equal(JSON.stringify(lib.index.get(k)?.match), before[k], `${k}: match unchanged`);
    assert.equal(lib.index.get('manual')?.doi, '10.1002/aqc.3262');
  } finally {
    await lib.close();
    await replay.close();
  }
});

test('a DOI found right is remembered: the next resolve does not look it up again, a changed one is checked', async () => {
  const replay = await startReplayServer();
  const storage = mkdtempSync(path.join(tmpdir(), 'scholar-doicheck-'));
  const entry = (doi: string) => `@article{ok, title={Integrals in Left Coideal Subalgebras and Group-Like Projections}, author={Chirvasitu, Alexandru and Kasprzak, Pawe{\\l} and Szulim, Piotr}, year={2019}, doi={${doi}}}\n`;
  const jobOf = (text: string, lib: Library) => {
    const file = parseBib(text);
    return new Job(lib, { kind: 'resolve', checkExisting: true, entries: file.entries.map((e) => ({ key: e.key, bibPath: path.join(storage, 'refs.bib'), file, entry: e })) });
  };
  const lib = await Library.open(storage, { http: { email: 'doicheck@scholar.invalid', endpoints: replay.endpoints, policies: { crossref: fast, openalex: fast, semanticScholar: fast, arxiv: fast, unpaywall: fast, doi: fast, pdf: fast } } });
  // A DOI lookup, one at a time (/works/<doi>) or in a job's batch (/works?filter=doi:…).
  const crossrefWorks = () => replay.stats().log.filter((l) => l.service === 'crossref' && (/\/works\/10\./.test(l.path) || /[?&]filter=doi(:|%3A)/i.test(l.path))).length;
  try {
    const first = jobOf(entry('10.1007/s10468-019-09889-1'), lib);
    await first.run();
    assert.equal(first.resolutions.get('ok')?.existing?.status, 'ok');
    assert.equal(crossrefWorks(), 1);
    assert.equal(lib.index.get('ok')?.doiCheck?.doi, '10.1007/s10468-019-09889-1');
    const second = jobOf(entry('10.1007/s10468-019-09889-1'), lib);
    await second.run();
    assert.equal(second.results.get('ok')?.outcome, 'has_doi');
    assert.equal(crossrefWorks(), 1, 'no second lookup');
    // The user changed the DOI: it is checked again (and this one names another work).
    const third = jobOf(entry('10.1007/s00382-019-04712-5'), lib);
    await third.run();
    assert.equal(third.results.get('ok')?.outcome, 'doi_mismatch');
    assert.ok(crossrefWorks() >= 2);
  } finally {
    await lib.close();
    await replay.close();
  }
});
