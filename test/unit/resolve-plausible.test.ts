// The rule that decides which fallbacks a resolve asks (src/core/resolve/plausible.ts, issue 17),
// on real entries of the fixtures, and the resolver applying it against the replay server.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseBib, type BibFile } from '../../src/core/bib/parse';
import { entryFacts } from '../../src/core/match/facts';
import { ScholarHttp } from '../../src/core/net/http';
import { plausibleFallback, shouldAsk, type Fallback } from '../../src/core/resolve/plausible';
import { resolveEntry } from '../../src/core/resolve/resolver';
import { startReplayServer, type ReplayServer } from '../../src/replay';
import { parseArgs, USAGE } from '../../src/cli/args';
import { runCli } from '../../src/cli/main';
import { endpointFlags, sink } from './cli-helpers';

const fixtures = path.resolve(__dirname, '../../test/fixtures');
// A real AI bibliography (zotero-better-bibtex issue 873, via bibtex-tidy's test data: test/fixtures/bib/README.md).
const aiBib = parseBib(readFileSync(path.join(fixtures, 'bib/bbt-issue873-ai-bibliography.bib'), 'utf8'));
// The labelled set, built from real Crossref records (test/bench/make-labelled.mjs).
const labelled = parseBib(readFileSync(path.join(fixtures, 'labelled/labelled.bib'), 'utf8'));

function decide(file: BibFile, key: string, service: Fallback) {
  const e = file.entries.find((x) => x.key === key);
  assert.ok(e, `no entry ${key} in the fixture`);
  return plausibleFallback(e, entryFacts(file, e), service);
}
const asks = (file: BibFile, key: string) => ({ openalex: decide(file, key, 'openalex').ask, semanticScholar: decide(file, key, 'semanticScholar').ask, arxiv: decide(file, key, 'arxiv').ask });

test('no fallback is asked for a @misc without a venue, a @manual, or an @unpublished note', () => {
  for (const key of ['Prather:77', 'CLASSIC:95', 'AICPub215:1997', 'McAllester:POBacktrack', 'Norvig:90a']) {
    assert.deepEqual(asks(aiBib, key), { openalex: false, semanticScholar: false, arxiv: false }, key);
  }
  assert.match(decide(aiBib, 'Prather:77', 'openalex').why, /without a venue/);
  assert.match(decide(aiBib, 'McAllester:POBacktrack', 'semanticScholar').why, /@unpublished without a preprint/);
});

test('theses, old books and pre-2000 papers get OpenAlex but not the slow fallbacks', () => {
  for (const key of ['Cullingford:78', 'Pednault:86', 'Green:1979', 'Biermann:75', 'Guzman:68', 'Hayes:74']) {
    assert.deepEqual(asks(aiBib, key), { openalex: true, semanticScholar: false, arxiv: false }, key);
  }
  assert.match(decide(aiBib, 'Pednault:86', 'semanticScholar').why, /thesis/);
  assert.match(decide(aiBib, 'Biermann:75', 'semanticScholar').why, /before 2000/);
});

test('a recent article or paper with a venue gets Semantic Scholar too, but not arXiv without a sign of a preprint', () => {
  assert.deepEqual(asks(aiBib, 'DBLP:journals/ai/KatzD10'), { openalex: true, semanticScholar: true, arxiv: false });
  assert.deepEqual(asks(aiBib, 'fujimoto-WIIAT2010'), { openalex: true, semanticScholar: true, arxiv: false });
});

test('a cited arXiv preprint gets every fallback, arXiv included', () => {
  assert.deepEqual(asks(labelled, 'arxiv993'), { openalex: true, semanticScholar: true, arxiv: true });
});

test('a two-word title keeps OpenAlex (it found such DOIs on the tuning share) but not the slow fallbacks', () => {
  // pos75: "Issue information", a real Wiley record whose DOI OpenAlex's search found.
  assert.deepEqual(asks(labelled, 'pos75'), { openalex: true, semanticScholar: false, arxiv: false });
  assert.match(decide(labelled, 'pos75', 'semanticScholar').why, /title of 2 words/);
});

test('the rule `all` asks everything and `fast` never the slow fallbacks', () => {
  const e = aiBib.entries.find((x) => x.key === 'Prather:77')!;
  const f = entryFacts(aiBib, e);
  for (const s of ['openalex', 'semanticScholar', 'arxiv'] as const) assert.equal(shouldAsk('all', e, f, s), true);
  const k = aiBib.entries.find((x) => x.key === 'DBLP:journals/ai/KatzD10')!;
  const kf = entryFacts(aiBib, k);
  assert.equal(shouldAsk('fast', k, kf, 'semanticScholar'), false);
  assert.equal(shouldAsk('fast', k, kf, 'openalex'), true);
  assert.equal(shouldAsk('plausible', k, kf, 'semanticScholar'), true);
});

// ---------- the resolver applying the rule ----------

let replay: ReplayServer;
let http: ScholarHttp;
const fast = { rate: { requests: 1000, intervalMs: 1000 }, searchRate: { requests: 1000, intervalMs: 1000 }, concurrency: 8, backoffBaseMs: 5, backoffMaxMs: 10 };

before(async () => {
  replay = await startReplayServer();
  http = new ScholarHttp({ email: 'plausible@example.org', endpoints: replay.endpoints, policies: { crossref: fast, openalex: fast, semanticScholar: fast, arxiv: fast, unpaywall: fast, doi: fast, pdf: fast } });
});
after(async () => {
  await http.close();
  await replay.close();
});

/** Resolves one real entry (unknown to the replay) and returns the requests each service received. */
async function requestsFor(key: string, rule?: 'all' | 'plausible' | 'fast') {
  const e = aiBib.entries.find((x) => x.key === key)!;
  replay.resetStats();
  const r = await resolveEntry(http, aiBib, e, { fallbackRule: rule });
  assert.equal(r.outcome, 'not_found', `${key}: ${r.why}`);
  return replay.stats().requests;
}

test('resolve: a 1978 thesis Crossref cannot match costs OpenAlex but no Semantic Scholar request; with `all` it costs one', async () => {
  const after = await requestsFor('Cullingford:78');
  assert.equal(after.crossref, 1);
  assert.equal(after.openalex, 1);
  assert.equal(after.semanticScholar ?? 0, 0);
  const all = await requestsFor('Cullingford:78', 'all');
  assert.equal(all.semanticScholar, 1);
});

test('resolve: a web-page @misc costs only the Crossref search', async () => {
  const r = await requestsFor('Prather:77');
  assert.deepEqual({ crossref: r.crossref, openalex: r.openalex ?? 0, semanticScholar: r.semanticScholar ?? 0 }, { crossref: 1, openalex: 0, semanticScholar: 0 });
});

test('resolve: a 2010 conference paper Crossref and OpenAlex cannot match still asks Semantic Scholar', async () => {
  // The real entry fujimoto-WIIAT2010 of the AI bibliography without its doi field (as the benchmark
  // resolves it): the replay does not know the work.
  const real = aiBib.entries.find((x) => x.key === 'fujimoto-WIIAT2010')!;
  const src = `@inproceedings{w, ${['author', 'booktitle', 'title', 'year', 'pages'].map((n) => `${n} = {${real.fields.get(n)!.value}}`).join(', ')}}`;
  const f = parseBib(src);
  replay.resetStats();
  const r = await resolveEntry(http, f, f.entries[0]);
  assert.equal(r.outcome, 'not_found', r.why);
  assert.equal(replay.stats().requests.semanticScholar, 1);
});

// ---------- the CLI: --fallbacks, and the requests per service in --json ----------

test('--fallbacks is parsed for resolve and fetch, and refused elsewhere or with an unknown value', () => {
  assert.equal(parseArgs(['resolve', 'a.bib', '--fallbacks', 'all']).fallbacks, 'all');
  assert.equal(parseArgs(['fetch', 'a.bib', '--fallbacks=fast']).fallbacks, 'fast');
  assert.equal(parseArgs(['resolve', 'a.bib']).fallbacks, undefined);
  assert.throws(() => parseArgs(['resolve', 'a.bib', '--fallbacks', 'some']), /--fallbacks expects one of plausible, all, fast/);
  assert.throws(() => parseArgs(['check', '--fallbacks', 'all']), /--fallbacks is for resolve and fetch/);
  assert.match(USAGE, /--fallbacks plausible\|all\|fast/);
});

test('scholar resolve --json reports the requests per service; --fallbacks all sends Semantic Scholar what the rule spares it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-plausible-'));
  // Three real entries of the AI bibliography, the replay knows none: a thesis, a @misc without a
  // venue, and a 2010 conference paper (its doi field left out).
  const pick = (key: string, fields: string[]) => {
    const e = aiBib.entries.find((x) => x.key === key)!;
    return `@${e.type}{${key.replace(/[^A-Za-z0-9]/g, '')}, ${fields.filter((n) => e.fields.get(n)).map((n) => `${n} = {${e.fields.get(n)!.value}}`).join(', ')}}`;
  };
  writeFileSync(
    path.join(dir, 'refs.bib'),
    [pick('Cullingford:78', ['author', 'year', 'institution', 'title']), pick('Prather:77', ['author', 'year', 'title']), pick('fujimoto-WIIAT2010', ['author', 'booktitle', 'title', 'year', 'pages'])].join('\n\n'),
  );
  const run = async (...extra: string[]) => {
    const out = sink();
    const err = sink();
    const code = await runCli(['resolve', 'refs.bib', '--json', '--dry-run', ...extra, ...endpointFlags(replay.endpoints), '--mailto', 'test@scholar.invalid'], { stdout: out.stream, stderr: err.stream, cwd: dir, env: {}, signal: new AbortController().signal });
    assert.equal(code, 0, err.text());
    return JSON.parse(out.text()) as { requests: Record<string, number> };
  };
  const rule = await run();
  assert.equal(rule.requests.crossref, 3);
  assert.equal(rule.requests.openalex, 2, 'no OpenAlex search for the @misc without a venue');
  assert.equal(rule.requests.semanticScholar, 1, 'Semantic Scholar only for the 2010 paper');
  const all = await run('--fallbacks', 'all');
  assert.equal(all.requests.openalex, 3);
  assert.equal(all.requests.semanticScholar, 3);
});
