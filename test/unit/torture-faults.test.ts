// Torture: every fault mode of the replay server in one `scholar fetch` run, each entry hitting a
// different fault, plus hostile citation keys and a `file` field pointing outside the workspace.
// The run must complete; each faulted entry gets its own failure with a reason code; the others
// are stored and verified; nothing is written outside the storage folder; no temp file is left;
// the CLI's peak memory stays bounded on the huge-body and gzip-bomb faults.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startReplayServer, makePdf, type FaultRule, type ReplayServer } from '../../src/replay';
import { keyToFolderName } from '../../src/core/storage/keys';
import { count, LONG, inspectStorage, runCliChild, sha256File, tempDir, walk, type FetchJson } from './torture-helpers';

interface Case {
  key: string;
  /** The fault on this entry's PDF download (none: must be stored). */
  fault?: Omit<FaultRule, 'doi'>;
  /** Reason codes accepted for the failure (any E_* code when omitted). */
  reason?: RegExp;
  permanent?: boolean;
  /** Stored in the end despite the fault (it only delays or hits a side service). */
  stored?: boolean;
}

const MB = 1024 * 1024;

const CASES: Case[] = [
  { key: 'status404', fault: { kind: 'status', service: 'pdf', status: 404 }, reason: /^E_HTTP_STATUS$/, permanent: true },
  { key: 'status503', fault: { kind: 'status', service: 'pdf', status: 503, retryAfter: '0' }, reason: /^E_HTTP_STATUS$|^E_CIRCUIT/ },
  { key: 'status503once', fault: { kind: 'status', service: 'pdf', status: 503, retryAfter: '0', times: 1 }, stored: true },
  { key: 'rateLimited', fault: { kind: 'rateLimit', service: 'pdf', retryAfter: '1' }, reason: /^E_HTTP_STATUS$|^E_RATE|^E_CIRCUIT/ },
  { key: 'reset', fault: { kind: 'reset', service: 'pdf' }, reason: /^E_(NETWORK|RESET|CONN|SOCKET|HTTP|CIRCUIT)/ },
  { key: 'slowHeaders', fault: { kind: 'slowHeaders', service: 'pdf', delayMs: 1500 }, stored: true },
  { key: 'slowBody', fault: { kind: 'slowBody', service: 'pdf', delayMs: 1500 }, reason: /^E_NOT_PDF$|^E_PDF/ },
  { key: 'truncated', fault: { kind: 'truncated', service: 'pdf' }, reason: /^E_/ },
  { key: 'htmlAsPdf', fault: { kind: 'htmlAsPdf', service: 'pdf' }, reason: /^E_NOT_PDF$/, permanent: true },
  { key: 'hugeDeclared', fault: { kind: 'huge', service: 'pdf', bytes: 300 * MB, declareLength: true }, reason: /^E_TOO_LARGE$/, permanent: true },
  { key: 'hugeUndeclared', fault: { kind: 'huge', service: 'pdf', bytes: 64 * MB }, reason: /^E_NOT_PDF$|^E_TOO_LARGE$/, permanent: true },
  { key: 'gzipBomb', fault: { kind: 'gzipBomb', service: 'pdf', bytes: 160 * MB }, reason: /^E_NOT_PDF$|^E_DECODED_TOO_LARGE$|^E_TOO_LARGE$/, permanent: true },
  { key: 'redirectLoop', fault: { kind: 'redirectLoop', service: 'pdf' }, reason: /^E_REDIRECT_LOOP$/, permanent: true },
  { key: 'redirectFile', fault: { kind: 'redirectFile', service: 'pdf' }, reason: /^E_REDIRECT_SCHEME$/, permanent: true },
  // Faults on the metadata and location services: the PDF is still found elsewhere.
  { key: 'crossrefBomb', fault: { kind: 'gzipBomb', service: 'crossref', bytes: 64 * MB }, stored: true },
  { key: 'unpaywallHuge', fault: { kind: 'huge', service: 'unpaywall', bytes: 16 * MB }, stored: true },
  { key: 'openalexReset', fault: { kind: 'reset', service: 'openalex' }, stored: true },
  // Hostile keys with nothing wrong on the network: stored, inside storage.
  { key: '../../evil' },
  { key: '../../../../../../tmp/evil2' },
  { key: 'CON' },
  { key: 'nul.txt' },
  { key: 'a/b' },
  { key: '..' },
  { key: '.hidden' },
  { key: 'x:y' },
  { key: 'C:\\Windows\\evil' },
  { key: 'Smith2020' },
  { key: 'smith2020' },
  { key: 'ключ' },
  { key: `long${'x'.repeat(300)}` },
  { key: 'plain-ok' },
];

// The replay server matches a fault's DOI as a substring: the `z` keeps case 3 from matching case 30.
const doiOf = (i: number) => `10.5555/torture.fault.${i}z`;
const titleOf = (i: number) => `Torture fault case number ${i} on resilient downloads`;

const TRANSIENT = new Set(['status503', 'rateLimited', 'reset', 'truncated']);

/** Runs `scholar fetch` over CASES filtered by `include`; returns the problems found (empty = pass). */
async function faultScenario(label: string, include: (c: Case) => boolean): Promise<string[]> {
  const { dir, cleanup } = tempDir();
  let replay: ReplayServer | undefined;
  try {
    const ws = path.join(dir, 'ws');
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(ws);
    fs.mkdirSync(outside);
    // A real PDF outside the workspace that a hostile `file` field names: must never be copied in.
    const secret = makePdf({ title: 'Secret outside the workspace', doi: '10.5555/secret' });
    fs.writeFileSync(path.join(outside, 'secret.pdf'), secret);
    const secretSha = sha256File(path.join(outside, 'secret.pdf'));

    const cases = CASES.map((c, i) => ({ c, i })).filter(({ c }) => include(c));
    const faults: FaultRule[] = cases.flatMap(({ c, i }) => (c.fault ? [{ ...c.fault, doi: doiOf(i) }] : []));
    replay = await startReplayServer({ faults, pdfBytes: 30_000, latencyMs: [0, 20] });
    replay.addWorks(cases.map(({ i }) => ({ doi: doiOf(i), title: titleOf(i), authors: [{ family: 'Tester', given: 'T.' }], year: 2021, oa: 'gold' as const, venue: 'Journal of Torture' })));

    const bib = cases.map(({ c, i }) => `@article{${c.key},\n  title = {${titleOf(i)}},\n  author = {Tester, T.},\n  year = {2021},\n  doi = {${doiOf(i)}}\n}\n`).join('\n');
    const extra = `\n@article{outsideFile,\n  title = {Secret outside the workspace},\n  file = {:../outside/secret.pdf:PDF}\n}\n\n@article{absFile,\n  title = {Secret outside the workspace},\n  file = {${path.join(outside, 'secret.pdf')}}\n}\n`;
    fs.writeFileSync(path.join(ws, 'refs.bib'), bib + extra);

    const before = new Set(walk(dir));
    const endpoints = Object.entries(replay.endpoints)
      .filter(([n]) => n !== 'pdf')
      .flatMap(([n, u]) => ['--endpoint', `${n}=${u}`]);
    const run = await runCliChild(['fetch', 'refs.bib', '--json', '--quiet', '--storage', 'storage', '--mailto', 'torture@scholar.invalid', ...endpoints], { cwd: ws, measureRss: true });
    process.stderr.write(`[torture-faults] ${label}: fetch of ${cases.length + 2} entries took ${run.ms} ms, exit ${run.code}, peak RSS ${run.maxRssKb ? `${Math.round(run.maxRssKb / 1024)} MB` : 'not measured'}\n`);

    // The run completed: exit 1 (some entries failed), a JSON summary with every entry in it.
    if (run.signal || run.code !== 1) return [`exit ${run.code} signal ${run.signal}: ${run.stderr.slice(-2000)}`];
    const out = JSON.parse(run.stdout) as FetchJson;
    const byKey = new Map(out.entries.map((e) => [e.key, e]));
    const problems: string[] = [];
    for (const { c } of cases) {
      const e = byKey.get(c.key);
      if (!e) {
        problems.push(`${c.key}: missing from the --json output`);
        continue;
      }
      const mustStore = !c.fault || c.stored;
      if (mustStore) {
        if (!e.outcome.startsWith('stored')) problems.push(`${c.key}: expected stored, got ${e.outcome} ${e.reason ?? ''} ${e.message ?? ''}`);
        continue;
      }
      if (e.outcome !== 'failed') {
        problems.push(`${c.key} (${c.fault!.kind}): expected failed, got ${e.outcome}`);
        continue;
      }
      if (!e.reason || !/^E_[A-Z0-9_]+$/.test(e.reason)) problems.push(`${c.key}: reason ${JSON.stringify(e.reason)} is not a code`);
      else if (c.reason && !c.reason.test(e.reason)) problems.push(`${c.key} (${c.fault!.kind}): reason ${e.reason} not ${c.reason} (${e.message})`);
      if (!e.message) problems.push(`${c.key}: no message`);
      if (c.permanent !== undefined && e.permanent !== c.permanent) problems.push(`${c.key} (${c.fault!.kind}): permanent=${e.permanent}, expected ${c.permanent} (${e.reason} ${e.message})`);
    }
    for (const k of ['outsideFile', 'absFile']) {
      const e = byKey.get(k);
      if (!e) problems.push(`${k}: missing from the --json output`);
      else if (e.outcome.startsWith('stored')) problems.push(`${k}: a PDF outside the workspace was stored (${e.source})`);
    }

    // Storage: every file valid, every stored key's PDF vouched for, no temp or lock left behind.
    const storage = path.join(ws, 'storage');
    const rep = inspectStorage(storage);
    problems.push(...rep.problems.map((p) => `storage: ${p}`));
    if (rep.debris.length) problems.push(`left behind after a clean run: ${rep.debris.join(', ')}`);
    for (const { c } of cases) {
      const stored = rep.stored.has(c.key);
      const want = !c.fault || !!c.stored;
      if (want && !stored) problems.push(`${c.key}: no verified paper.pdf in ${keyToFolderName(c.key)}`);
      if (!want && fs.existsSync(path.join(storage, 'by_key', keyToFolderName(c.key), 'paper.pdf'))) problems.push(`${c.key}: a paper.pdf exists despite the fault`);
      const meta = rep.entries.get(c.key);
      if (meta && meta.key !== c.key) problems.push(`${c.key}: metadata holds ${meta.key}`);
    }
    for (const rel of walk(storage)) if (rel.endsWith('paper.pdf') && sha256File(path.join(storage, rel)) === secretSha) problems.push(`the outside secret.pdf was copied to ${rel}`);

    // Nothing written anywhere but inside the storage folder.
    const after = walk(dir).filter((f) => !before.has(f));
    const escaped = after.filter((f) => !f.startsWith('ws/storage/'));
    if (escaped.length) problems.push(`files written outside storage: ${escaped.join(', ')}`);
    if (fs.existsSync('/tmp/evil2')) problems.push('/tmp/evil2 was written');

    // Memory: the huge body and the gzip bomb are streamed and capped, never buffered whole.
    if (run.maxRssKb !== undefined && run.maxRssKb > 400 * 1024) problems.push(`CLI peak RSS ${Math.round(run.maxRssKb / 1024)} MB > 400 MB`);

    // Each faulted PDF URL was really requested (the fault was exercised, not skipped).
    const log = replay.stats().log;
    for (const { c, i } of cases) {
      if (c.fault?.service !== 'pdf') continue;
      if (!log.some((l) => l.service === 'pdf' && l.path.toLowerCase().includes(doiOf(i)))) problems.push(`${c.key}: its PDF was never requested`);
    }
    if (problems.length) problems.push(`--- totals ${JSON.stringify(out.totals)}`);
    return problems;
  } finally {
    await replay?.close();
    cleanup();
  }
}

// The two scenarios run side by side (separate replay servers and CLIs): each is bound by the
// services' client-side rate limits (Semantic Scholar: 1 request/s), not by this machine.
describe('replay faults through scholar fetch', { concurrency: 2 }, () => {
test('permanent faults and hostile keys in one scholar fetch: per-entry errors, the rest stored, nothing outside storage, bounded memory', { timeout: LONG ? 1_800_000 : 120_000 }, async () => {
  const problems = await faultScenario('permanent faults', (c) => !TRANSIENT.has(c.key));
  assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
});

// The full set, transient faults included. All PDFs of the replay server live on one host, as
// many real PDFs do (arxiv.org, a publisher): a few failing URLs must not cost the other entries.
test('every replay fault mode in one scholar fetch (transient ones too): the other entries are still stored', { timeout: LONG ? 1_800_000 : 170_000 }, async () => {
  const problems = await faultScenario('all faults', () => true);
  assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
});
});

// Repetitions under `npm run torture`: the same faults with random latency and a random order.
const reps = count(0, 3);
for (let r = 0; r < reps; r++) {
  test(`faults, long repetition ${r + 1}: concurrent fault-heavy runs still complete`, { timeout: LONG ? 1_800_000 : 240_000 }, async () => {
    const { dir, cleanup } = tempDir();
    const replay = await startReplayServer({ latencyMs: [0, 150], pdfBytes: 200_000, pdfBandwidth: 2_000_000 });
    try {
      const kinds: Omit<FaultRule, 'doi'>[] = CASES.filter((c) => c.fault && !c.stored).map((c) => c.fault!);
      const n = 60;
      replay.addWorks(Array.from({ length: n }, (_, i) => ({ doi: `10.5555/torture.rep.${r}.${i}z`, title: `Repeated torture ${r} item ${i} title`, year: 2020, oa: 'gold' as const })));
      const faults: FaultRule[] = [];
      for (let i = 0; i < n; i += 3) faults.push({ ...kinds[(i / 3) % kinds.length]!, doi: `10.5555/torture.rep.${r}.${i}z` });
      replay.setOptions({ faults });
      fs.writeFileSync(path.join(dir, 'refs.bib'), Array.from({ length: n }, (_, i) => `@article{r${i},\n  title = {Repeated torture ${r} item ${i} title},\n  doi = {10.5555/torture.rep.${r}.${i}z}\n}\n`).join('\n'));
      const endpoints = Object.entries(replay.endpoints)
        .filter(([k]) => k !== 'pdf')
        .flatMap(([k, u]) => ['--endpoint', `${k}=${u}`]);
      const run = await runCliChild(['fetch', 'refs.bib', '--json', '--quiet', '--mailto', 't@scholar.invalid', ...endpoints], { cwd: dir, measureRss: true });
      assert.equal(run.code, 1, run.stderr.slice(-2000));
      const out = JSON.parse(run.stdout) as FetchJson;
      assert.equal(out.entries.length, n);
      for (const e of out.entries) {
        const faulted = Number(e.key.slice(1)) % 3 === 0;
        if (faulted) assert.equal(e.outcome, 'failed', e.key);
        else assert.match(e.outcome, /^stored/, `${e.key}: ${e.reason} ${e.message}`);
      }
      const rep = inspectStorage(path.join(dir, 'storage'));
      assert.deepEqual(rep.problems, []);
      assert.deepEqual(rep.debris, []);
      if (run.maxRssKb !== undefined) assert.ok(run.maxRssKb < 400 * 1024, `peak RSS ${run.maxRssKb} KB`);
    } finally {
      await replay.close();
      cleanup();
    }
  });
}
