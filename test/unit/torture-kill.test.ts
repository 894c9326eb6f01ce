// Torture: SIGKILL `scholar fetch` at random moments, then resume; and two CLI processes on one
// storage folder at once. After every kill each file in storage is complete and valid, nothing
// stored before is lost, and the last, uninterrupted run stores every obtainable PDF. Two
// processes never download one key twice and lose no metadata update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startReplayServer, type ReplayServer } from '../../src/replay';
import { startupCleanup } from '../../src/core/storage/locks';
import { count, LONG, inspectStorage, Rng, runCliChild, seedOf, sleep, startCli, tempDir, type CliRun, type FetchJson } from './torture-helpers';

const seed = seedOf('torture-kill');
const rng = new Rng(seed);

interface Library {
  replay: ReplayServer;
  dir: string;
  cleanup(): void;
  args: string[];
  gold: string[];
  closed: string[];
  doiOfKey: Map<string, string>;
}

async function setup(tag: string, n: number, closedEvery = 10): Promise<Library> {
  const { dir, cleanup } = tempDir();
  const replay = await startReplayServer({ latencyMs: [20, 120], pdfBytes: 150_000, pdfBandwidth: 1_500_000 });
  const gold: string[] = [];
  const closed: string[] = [];
  const doiOfKey = new Map<string, string>();
  const works = [];
  let bib = '';
  for (let i = 0; i < n; i++) {
    const isClosed = i % closedEvery === closedEvery - 1;
    const key = i % 7 === 3 ? `Kill${tag}:${i}` : `kill-${tag}-${i}`;
    const doi = `10.5555/torture.kill.${tag}.${i}z`;
    const title = `Interrupted download ${tag} number ${i} survives`;
    works.push({ doi, title, year: 2019, oa: isClosed ? ('closed' as const) : ('gold' as const), authors: [{ family: 'Killer', given: 'K.' }] });
    (isClosed ? closed : gold).push(key);
    doiOfKey.set(key, doi.toLowerCase());
    bib += `@article{${key},\n  title = {${title}},\n  author = {Killer, K.},\n  year = {2019},\n  doi = {${doi}}\n}\n\n`;
  }
  replay.addWorks(works);
  fs.writeFileSync(path.join(dir, 'refs.bib'), bib);
  const endpoints = Object.entries(replay.endpoints)
    .filter(([k]) => k !== 'pdf')
    .flatMap(([k, u]) => ['--endpoint', `${k}=${u}`]);
  return { replay, dir, cleanup, gold, closed, doiOfKey, args: ['fetch', 'refs.bib', '--json', '--quiet', '--storage', 'storage', '--mailto', 'kill@scholar.invalid', ...endpoints] };
}

/** PDF GETs per DOI seen by the replay server (any status). */
function pdfRequests(replay: ReplayServer): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of replay.stats().log) {
    if (l.service !== 'pdf' || l.method !== 'GET') continue;
    const doi = decodeURIComponent(l.path.replace(/^\/pdf\//, '').replace(/\?.*$/, '')).replace(/\.pdf$/i, '').toLowerCase();
    m.set(doi, (m.get(doi) ?? 0) + 1);
  }
  return m;
}

const N = count(20, 60);
const TRIALS = count(5, 14);

test(`SIGKILL scholar fetch at ${TRIALS} random moments (${N} entries): storage stays valid, nothing stored is lost, the resumed run completes`, { timeout: LONG ? 1_800_000 : 170_000 }, async () => {
  const lib = await setup('a', N);
  const storage = path.join(lib.dir, 'storage');
  try {
    let storedBefore = new Set<string>();
    const history: string[] = [];
    const killedPids: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      // Early kills hit start-up and the first downloads; later ones land mid-run and mid-commit.
      const delay = rng.range(150, LONG ? 3000 + t * 4000 : 1500 + t * 700);
      const h = startCli(lib.args, { cwd: lib.dir });
      const killed = await Promise.race([sleep(delay).then(() => true), h.done.then(() => false)]);
      if (killed) h.child.kill('SIGKILL');
      const run: CliRun = await h.done;
      if (run.signal === 'SIGKILL') killedPids.push(run.pid);
      const rep = inspectStorage(storage);
      history.push(`trial ${t}: ${run.signal === 'SIGKILL' ? `killed after ${delay} ms` : `finished (exit ${run.code})`}, ${rep.stored.size} stored, ${rep.entries.size} metadata, ${rep.debris.length} debris`);
      assert.deepEqual(rep.problems, [], `after trial ${t} (killed after ${delay} ms, seed ${seed}):\n${rep.problems.join('\n')}`);
      const lost = [...storedBefore].filter((k) => !rep.stored.has(k));
      assert.deepEqual(lost, [], `trial ${t}: keys stored before the kill are gone (seed ${seed})`);
      if (run.signal !== 'SIGKILL') assert.ok(run.code === 0 || run.code === 1, `trial ${t}: exit ${run.code}: ${run.stderr.slice(-1500)}`);
      storedBefore = rep.stored;
    }

    // The resumed run, uninterrupted: every obtainable PDF is stored, the closed ones fail cleanly.
    const before = storedBefore;
    lib.replay.resetStats();
    const final = await runCliChild(lib.args, { cwd: lib.dir });
    history.push(`final: exit ${final.code} in ${final.ms} ms`);
    process.stderr.write(`[torture-kill] ${history.join('\n[torture-kill] ')}\n`);
    assert.equal(final.code, lib.closed.length ? 1 : 0, final.stderr.slice(-2000));
    const out = JSON.parse(final.stdout) as FetchJson;
    const byKey = new Map(out.entries.map((e) => [e.key, e]));
    for (const k of lib.gold) assert.match(byKey.get(k)?.outcome ?? 'missing', /^(stored|already_stored)/, `${k}: ${byKey.get(k)?.reason} ${byKey.get(k)?.message}`);
    for (const k of lib.closed) assert.equal(byKey.get(k)?.reason, 'E_NO_PDF', k);
    const rep = inspectStorage(storage);
    assert.deepEqual(rep.problems, []);
    assert.deepEqual(lib.gold.filter((k) => !rep.stored.has(k)), [], 'obtainable PDFs missing after the resumed run');
    // The final run leaves no debris of its own; what the killed runs left is recognised as theirs.
    assert.deepEqual(rep.debris.filter((d) => d.includes(String(final.pid))), [], 'debris of the clean final run');
    const cleaned = await startupCleanup(storage, { minAgeMs: 0, lockTtlMs: 0 });
    const after = inspectStorage(storage);
    assert.deepEqual(after.debris, [], `debris startupCleanup does not recognise (it removed ${cleaned.removedTemps.length} temps, ${cleaned.removedLocks.length} locks)`);
    assert.deepEqual(after.problems, []);
    // A resumed run skips what is done: nothing stored before it is downloaded again.
    const req = pdfRequests(lib.replay);
    const again = [...before].filter((k) => (req.get(lib.doiOfKey.get(k)!) ?? 0) > 0);
    assert.deepEqual(again, [], 'the resumed run downloaded PDFs that were already stored');
  } finally {
    await lib.replay.close();
    lib.cleanup();
  }
});

test(`two scholar fetch processes on one storage folder (${N} entries): no key downloaded twice, no update lost`, { timeout: LONG ? 1_800_000 : 170_000 }, async () => {
  const lib = await setup('b', N);
  const storage = path.join(lib.dir, 'storage');
  try {
    const runs = await Promise.all([runCliChild(lib.args, { cwd: lib.dir }), sleep(rng.int(400)).then(() => runCliChild(lib.args, { cwd: lib.dir }))]);
    for (const r of runs) assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr.slice(-1500)}`);
    const outs = runs.map((r) => JSON.parse(r.stdout) as FetchJson);
    process.stderr.write(`[torture-kill] two processes: ${outs.map((o) => JSON.stringify(o.totals)).join(' | ')}\n`);
    // Between them, every obtainable key is stored, and each process reports every entry.
    for (const o of outs) assert.equal(o.entries.length, N);
    const rep = inspectStorage(storage);
    assert.deepEqual(rep.problems, []);
    assert.deepEqual(rep.debris, [], 'temps or locks left by two clean runs');
    assert.deepEqual(lib.gold.filter((k) => !rep.stored.has(k)), [], 'obtainable PDFs missing');
    // No lost metadata update: each folder with a paper.pdf has metadata vouching for it, and the
    // enrich update (DOI, title) of every entry is there.
    for (const k of [...lib.gold, ...lib.closed]) {
      const m = rep.entries.get(k);
      assert.ok(m, `${k}: no metadata.json`);
      assert.equal(m.doi?.toLowerCase(), lib.doiOfKey.get(k), `${k}: DOI update lost`);
      assert.ok(m.title, `${k}: title update lost`);
      if (lib.gold.includes(k)) assert.ok(m.pdf, `${k}: pdf update lost`);
    }
    for (const f of fs.readdirSync(path.join(storage, 'by_key'))) {
      if (fs.existsSync(path.join(storage, 'by_key', f, 'paper.pdf'))) assert.ok([...rep.entries.values()].some((m) => m.pdf && rep.stored.has(m.key)), `${f}: paper.pdf without metadata`);
    }
    // Each PDF fetched once across both processes.
    const req = pdfRequests(lib.replay);
    const twice = [...req].filter(([, n]) => n > 1).map(([doi, n]) => `${doi} ×${n}`);
    assert.deepEqual(twice, [], 'PDFs downloaded more than once by the two processes');
  } finally {
    await lib.replay.close();
    lib.cleanup();
  }
});
