// Extension-host benchmark of Scholar in a real VS Code (code-server), run by
// test/runners/benchVscode.mjs; not part of `npm test`. Three figures, measured in the extension
// host's own process (where Scholar runs):
//   1. activation: wall time of `ext.activate()` in a fresh window whose workspace has no .bib yet
//      (so nothing activated Scholar before): loading dist/extension.js plus activate() until its
//      promise resolves; then, separately, the first project scan (project.ready()).
//   2. event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) while
//      `scholar.fetchPdfs` runs over 5,000 entries against the replay server, which the runner starts
//      as a child process (so its work is not in this process) and wires in through user settings.
//   3. the library tree with 50,000 entries: TreeDataProvider.getChildren() for the root and for the
//      .bib node, and getTreeItem() over every entry (the provider's cost; the workbench's rendering
//      of what it receives is not in these numbers).
// Writes the figures to SCHOLAR_BENCH_OUT and the usual results file (one "test" per figure) to
// SCHOLAR_TEST_RESULTS for the runner.
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { ScholarApi } from '../../src/host/extension';
import type { JobSummary } from '../../src/host/controller';
import { bibEntry, corpus, EXTENSION_ID } from '../suite/scholar';
import { sleep, waitFor, workspaceRoot, writeAtomic } from '../suite/util';

interface TestResult {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

const FETCH_ENTRIES = Number(process.env.SCHOLAR_BENCH_FETCH_ENTRIES ?? 5_000);
const TREE_ENTRIES = Number(process.env.SCHOLAR_BENCH_TREE_ENTRIES ?? 50_000);
/** The fetch run is cancelled after this long if it has not finished (see the runner for why it may not). */
const FETCH_MAX_S = Number(process.env.SCHOLAR_BENCH_FETCH_S ?? 240);

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const ms = (ns: number) => round(ns / 1e6, 2);

/**
 * The histogram records the time between the monitor's timer ticks, so its values include the 1 ms
 * sampling interval: an idle loop reads about 1.08 ms. The delay that work added is value − 1 ms.
 */
function histogramMs(h: IntervalHistogram) {
  return {
    samples: h.count,
    min: ms(h.min),
    p50: ms(h.percentile(50)),
    p90: ms(h.percentile(90)),
    p99: ms(h.percentile(99)),
    p999: ms(h.percentile(99.9)),
    max: ms(h.max),
    mean: ms(h.mean),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** `n` .bib entries from the corpus records (with their DOI), repeated under distinct keys e00001… */
function bibText(n: number): string {
  const records = corpus();
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(bibEntry(`e${String(i + 1).padStart(5, '0')}`, records[i % records.length]!, { doi: true }));
  return parts.join('\n');
}

/**
 * Writes a .bib and waits until the project model holds exactly that text. One write, then a second
 * only if the watcher seems to have missed it (see writeWorkspaceFile in test/suite/scholar.ts):
 * rewriting every 2 s as that helper does would restart the parse of a large file again and again.
 */
async function writeBib(api: ScholarApi, rel: string, text: string): Promise<{ uri: vscode.Uri; seenMs: number }> {
  const file = path.join(workspaceRoot(), rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const uri = vscode.Uri.file(file);
  const t0 = performance.now();
  fs.writeFileSync(file, text);
  const seen = () => api.project.bibDoc(uri)?.file.text === text;
  try {
    await waitFor(seen, 10_000, rel, 20);
  } catch {
    fs.writeFileSync(file, text);
    await waitFor(seen, 90_000, rel, 20);
  }
  return { uri, seenMs: round(performance.now() - t0, 1) };
}

async function removeBib(api: ScholarApi, uri: vscode.Uri): Promise<void> {
  fs.rmSync(uri.fsPath, { force: true });
  await waitFor(async () => {
    if (!api.project.bibDoc(uri)) return true;
    await api.project.reload(); // a missed delete event
    return !api.project.bibDoc(uri);
  }, 30_000, `the project model to drop ${path.basename(uri.fsPath)}`, 500);
}

// ------------------------------------------------------------------------------------- figures
let api: ScholarApi | undefined;

async function activation(): Promise<Record<string, unknown>> {
  const ext = vscode.extensions.getExtension<ScholarApi | undefined>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded`);
  const alreadyActive = ext.isActive;
  const t0 = performance.now();
  const exported = await ext.activate();
  const activateMs = performance.now() - t0;
  if (!exported) throw new Error('activate() returned no API (see the Scholar log)');
  api = exported;
  const t1 = performance.now();
  await exported.project.ready();
  const readyMs = performance.now() - t1;
  return {
    what: 'ext.activate() wall time in a fresh window with no .bib (code loading + activate() until it resolves); then the first project scan',
    alreadyActive,
    activateMs: round(activateMs, 1),
    firstProjectScanMs: round(readyMs, 1),
    bundleBytes: fs.statSync(path.join(ext.extensionPath, 'dist/extension.js')).size,
  };
}

async function fetchRun(): Promise<Record<string, unknown>> {
  if (!api) throw new Error('no API (activation failed)');
  const cfg = vscode.workspace.getConfiguration('scholar');
  const endpoint = cfg.inspect<string>('endpoints.crossref')?.globalValue;
  if (!endpoint) throw new Error('scholar.endpoints.crossref is not set in user settings (run through test/runners/benchVscode.mjs)');

  const { uri, seenMs } = await writeBib(api, 'bench/fetch.bib', bibText(FETCH_ENTRIES));
  if (api.project.bibDoc(uri)?.file.entries.length !== FETCH_ENTRIES) throw new Error(`the model has ${api.project.bibDoc(uri)?.file.entries.length} entries, not ${FETCH_ENTRIES}`);

  // Baseline: the same monitor over 10 s with nothing running.
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await sleep(10_000);
  idle.disable();

  const h = monitorEventLoopDelay({ resolution: 1 });
  const progress: { s: number; done: number; failed: number; inFlight: number }[] = [];
  h.enable();
  const t0 = performance.now();
  const run = Promise.resolve(vscode.commands.executeCommand('scholar.fetchPdfs', uri)) as Promise<JobSummary | undefined>;
  let settled = false;
  void run.finally(() => (settled = true));
  let cancelled = false;
  while (!settled) {
    await sleep(1_000);
    const s = api.session.currentJob?.snapshot().stats;
    if (s) progress.push({ s: round((performance.now() - t0) / 1000, 1), done: s.done, failed: s.failed, inFlight: s.inFlight });
    if (!cancelled && performance.now() - t0 > FETCH_MAX_S * 1000) {
      cancelled = true;
      await vscode.commands.executeCommand('scholar.cancel');
    }
  }
  const summary = await run;
  const wallMs = performance.now() - t0;
  h.disable();
  if (!summary) throw new Error('scholar.fetchPdfs returned no summary (see the Scholar log)');
  const snap = summary.job.snapshot();
  // Entries the job finished (stored, failed, …), not those it dropped when cancelled.
  const finished = Object.entries(snap.stats.outcomes).reduce((n, [k, v]) => (k === 'cancelled' ? n : n + v), 0);
  return {
    what: `event-loop delay of the extension host (monitorEventLoopDelay, 1 ms resolution) during scholar.fetchPdfs over ${FETCH_ENTRIES} entries; replay server in a child process`,
    entries: FETCH_ENTRIES,
    bibSeenByModelMs: seenMs,
    completed: !cancelled && snap.state === 'done',
    cancelledAfterS: cancelled ? FETCH_MAX_S : undefined,
    state: snap.state,
    wallS: round(wallMs / 1000, 1),
    finished,
    entriesPerS: round(finished / (wallMs / 1000), 1),
    outcomes: snap.stats.outcomes,
    eventLoopDelayMs: histogramMs(h),
    eventLoopNote: 'histogram values include the 1 ms sampling interval (idle reads ~1.08 ms); added delay = value - 1 ms',
    idleBaselineMs: histogramMs(idle),
    progress: progress.filter((_, i) => i % 10 === 0 || i === progress.length - 1),
    rss: process.memoryUsage().rss,
    _uri: uri.toString(),
  };
}

async function treeCost(fetchUri: string | undefined): Promise<Record<string, unknown>> {
  if (!api) throw new Error('no API (activation failed)');
  // Only this .bib in the model (the fetch run's keys e00001… recur here, with their metadata and PDFs).
  if (fetchUri) await removeBib(api, vscode.Uri.parse(fetchUri));
  const text = bibText(TREE_ENTRIES);
  const { uri, seenMs } = await writeBib(api, 'bench/tree.bib', text);
  const count = api.project.bibDoc(uri)?.file.entries.length;
  if (count !== TREE_ENTRIES) throw new Error(`the model has ${count} entries, not ${TREE_ENTRIES}`);

  const t0 = performance.now();
  await api.project.reload();
  const reloadMs = performance.now() - t0;

  const tree = api.tree;
  const rootTimes: number[] = [];
  const bibTimes: number[] = [];
  const itemTimes: number[] = [];
  let children = 0;
  for (let run = 0; run < 5; run++) {
    let t = performance.now();
    const roots = tree.getChildren();
    rootTimes.push(performance.now() - t);
    const bib = roots.find((n) => n.kind === 'bib' && n.doc.uri.toString() === uri.toString());
    if (!bib) throw new Error('no tree node for tree.bib');
    t = performance.now();
    // Every entry, through the ranges a long .bib is shown in (what expanding all of them asks).
    const kids = tree.getChildren(bib).flatMap((n) => (n.kind === 'range' ? tree.getChildren(n) : [n]));
    bibTimes.push(performance.now() - t);
    children = kids.length;
    t = performance.now();
    for (const k of kids) tree.getTreeItem(k);
    itemTimes.push(performance.now() - t);
    await sleep(50);
  }
  // What a refresh costs end to end in this process: the tree's change event is fired and VS Code
  // asks the provider again (only for what the view shows); measured as the loop delay around it.
  await vscode.commands.executeCommand('workbench.view.extension.scholar');
  await sleep(2_000);
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  for (let i = 0; i < 5; i++) {
    tree.refreshNow();
    await sleep(1_000);
  }
  h.disable();
  await removeBib(api, uri);
  return {
    what: `TreeDataProvider cost with ${TREE_ENTRIES} entries in one .bib, 5 rounds (first and median): getChildren(root), getChildren(bib node) and of each range of 1,000 under it, getTreeItem() over every entry`,
    entries: TREE_ENTRIES,
    bibBytes: Buffer.byteLength(text),
    bibSeenByModelMs: seenMs,
    projectReloadMs: round(reloadMs, 1),
    children,
    getChildrenRootMs: { first: round(rootTimes[0]!, 1), median: round(median(rootTimes), 1) },
    getChildrenBibMs: { first: round(bibTimes[0]!, 1), median: round(median(bibTimes), 1) },
    getTreeItemAllMs: { first: round(itemTimes[0]!, 1), median: round(median(itemTimes), 1), perItemUs: round((median(itemTimes) * 1000) / children, 2) },
    eventLoopDelayDuring5RefreshesMs: histogramMs(h),
  };
}

// ------------------------------------------------------------------------------------- runner

export async function run(): Promise<void> {
  const resultsFile = process.env.SCHOLAR_TEST_RESULTS;
  const progressFile = resultsFile ? `${resultsFile}.progress` : undefined;
  const outFile = process.env.SCHOLAR_BENCH_OUT;
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    vscode: vscode.version,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
  };
  const results = { passed: 0, failed: 0, tests: [] as TestResult[] };
  const figure = async (name: string, fn: () => Promise<Record<string, unknown>>) => {
    const started = Date.now();
    let r: TestResult;
    try {
      report[name] = await fn();
      r = { name: `bench: ${name}`, ok: true, ms: Date.now() - started };
      results.passed++;
    } catch (err) {
      report[name] = { error: err instanceof Error ? err.message : String(err) };
      r = { name: `bench: ${name}`, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err), ms: Date.now() - started };
      results.failed++;
    }
    results.tests.push(r);
    if (progressFile) fs.appendFileSync(progressFile, JSON.stringify(r) + '\n');
    if (outFile) writeAtomic(outFile, JSON.stringify(report, null, 2));
  };
  await figure('activation', activation);
  await figure('fetch', fetchRun);
  const fetchUri = (report.fetch as { _uri?: string } | undefined)?._uri;
  if (report.fetch) delete (report.fetch as { _uri?: string })._uri;
  await figure('tree', () => treeCost(fetchUri));
  if (outFile) writeAtomic(outFile, JSON.stringify(report, null, 2));
  if (resultsFile) writeAtomic(resultsFile, JSON.stringify(results, null, 2));
}
