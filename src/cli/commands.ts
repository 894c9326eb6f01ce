/** The CLI's commands over the shared core: the same jobs the editor runs, without the editor. */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { CliOptions } from './args';
import { failureLine, writeJson, type CliIO } from './io';
import { ScholarError, SERVICE_DOWN_CODES } from '../core/errors';
import { networkFromEnv, type NetworkOptions } from '../core/net/network';
import { describeNetIssue } from '../core/net/issues';
import { rateFromPerSecond, type PolicyOverrides } from '../core/net/policy';
import type { HttpOptions } from '../core/net/http';
import { discoverProject, loadBibFile, type LoadedBib } from '../core/tex/project';
import { checkProject } from '../core/tex/check';
import { Library } from '../core/jobs/library';
import { Job, type JobEntry, type JobSnapshot } from '../core/jobs/run';
import { inShard } from '../core/jobs/shard';
import { unifiedDiffOfEdits, writeDoisToFile, planDoiEdits, type DoiWrite } from '../core/resolve/writeback';
import { LibraryIndex } from '../core/index/library';
import { StorageWriter } from '../core/storage/writer';
import { LockManager, startupCleanup } from '../core/storage/locks';
import { createHash } from 'node:crypto';
import { storageIsNew, writeStorageGitignore } from '../core/storage/gitignore';
import { runIndexFulltext, snippetLine } from './fulltext';

/** The .bib files a path names: the file itself, or every .bib of a folder (and those its .tex files name). */
export async function bibsOf(target: string, storage: string, signal: AbortSignal): Promise<{ root: string; bibs: LoadedBib[]; cited: Set<string> }> {
  let st;
  try {
    st = await stat(target);
  } catch {
    throw new ScholarError('E_NOT_FOUND', `no such file or folder: ${target}`);
  }
  if (st.isFile()) {
    if (!/\.bib$/i.test(target)) throw new ScholarError('E_USAGE', `not a .bib file: ${target}`);
    return { root: path.dirname(target), bibs: [await loadBibFile(target, signal)], cited: new Set() };
  }
  const project = await discoverProject(target, { storageFolder: storage, signal });
  const bibs: LoadedBib[] = [];
  for (const p of project.bibFiles) bibs.push(await loadBibFile(p, signal));
  return { root: target, bibs, cited: new Set(project.citedKeys.keys()) };
}

function entriesOf(bibs: LoadedBib[]): JobEntry[] {
  return bibs.flatMap((b) => b.file.entries.map((entry) => ({ key: entry.key, bibPath: b.path, file: b.file, entry })));
}

/** The proxy from --proxy, else from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, either case). */
export function cliNetwork(opts: Pick<CliOptions, 'proxy'>, env: Record<string, string | undefined>): NetworkOptions {
  if (opts.proxy === null) return {};
  let fromEnv: ReturnType<typeof networkFromEnv>;
  try {
    fromEnv = networkFromEnv(env);
  } catch (err) {
    throw new ScholarError('E_USAGE', `proxy environment variable: ${(err as Error).message}`);
  }
  if (opts.proxy) return { httpProxy: opts.proxy, httpsProxy: opts.proxy, noProxy: fromEnv.noProxy };
  return fromEnv;
}

export function httpOptions(opts: CliOptions, io: CliIO): HttpOptions {
  const policies: PolicyOverrides = {};
  for (const [name, l] of Object.entries(opts.limits)) {
    policies[name as keyof PolicyOverrides] = { rate: rateFromPerSecond(l.requestsPerSecond), ...(l.concurrency ? { concurrency: l.concurrency } : {}) };
  }
  return {
    email: opts.mailto ?? io.env.SCHOLAR_MAILTO ?? undefined,
    endpoints: opts.endpoints,
    apiKeys: { openalex: io.env.OPENALEX_API_KEY || undefined, semanticScholar: io.env.S2_API_KEY || undefined },
    policies,
    network: cliNetwork(opts, io.env),
  };
}

/** Failures whose cause was reported once for the whole job (an unreachable service): one line, not one per entry. */
function isServiceDownReason(reason: string | null | undefined): boolean {
  return !!reason && (SERVICE_DOWN_CODES as readonly string[]).includes(reason);
}

function downSummary(io: CliIO, failed: { reason: string | null }[], verb: string): void {
  const n = failed.filter((e) => isServiceDownReason(e.reason)).length;
  if (n) io.stderr.write(`  ${n} ${n === 1 ? 'entry' : 'entries'} not ${verb} because a service could not be asked (see above); run the same command again to retry them\n`);
}

function formatMs(ms: number | null): string {
  if (ms === null) return '?';
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A live progress line on a TTY (one line, rewritten), nothing otherwise. */
function progressLine(io: CliIO, job: Job, quiet: boolean): () => void {
  if (quiet || !io.stderr.isTTY) return () => {};
  let last = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 200) return;
    last = now;
    const s = job.snapshot().stats;
    const stages = s.stages.map((st) => `${st.name} ${st.active}/${st.queued}`).join(' · ');
    io.stderr.write(`\r\x1b[K${s.done + s.failed}/${s.total} done, ${s.failed} failed · ${stages} · ETA ${formatMs(s.etaMs)}`);
  };
  const timer = setInterval(() => draw(true), 500);
  return () => {
    clearInterval(timer);
    io.stderr.write('\r\x1b[K');
  };
}

/** One job over a storage folder, with the live progress line; the library is closed (write queue drained) after. */
async function runJob(kind: 'resolve' | 'fetch', storage: string, bibs: LoadedBib[], cited: Set<string>, opts: CliOptions, io: CliIO): Promise<{ job: Job; snap: JobSnapshot }> {
  const lib = await Library.open(storage, { http: httpOptions(opts, io), gitignore: !opts.noGitignore });
  try {
    const job = new Job(lib, {
      kind,
      entries: entriesOf(bibs),
      priority: cited,
      checkExisting: kind === 'resolve' && !opts.noCheckExisting,
      shard: opts.shard,
      fallbackRule: opts.fallbacks,
      signal: io.signal,
      describeIssue: (i) => describeNetIssue(i, 'cli'),
      // One line per service that cannot be asked, as soon as it is known (also with --json, on stderr).
      onNetIssue: (i) => io.stderr.write(`${io.stderr.isTTY && !opts.quiet ? '\r\x1b[K' : ''}scholar: ${describeNetIssue(i, 'cli')}\n`),
    });
    const stop = progressLine(io, job, opts.quiet);
    try {
      return { job, snap: await job.run() };
    } finally {
      stop();
    }
  } finally {
    await lib.close();
  }
}

/** `crossref 12, openalex 3, …`: what each service was asked during the job. */
function requestsLine(job: Job): string {
  const r = Object.entries(job.requests).sort((a, b) => b[1] - a[1]);
  return r.length ? r.map(([k, v]) => `${k} ${v}`).join(', ') : 'none';
}

function summaryLine(snap: JobSnapshot): string {
  const o = snap.stats.outcomes;
  return Object.entries(o)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${v} ${k.replace(/_/g, ' ')}`)
    .join(', ');
}

/**
 * With --shard, other processes write their DOIs into the same .bib: the file is read again under
 * a lock in the shared storage folder, so each shard adds its lines to what the others wrote.
 */
async function writeDoisShared(bib: LoadedBib, writes: DoiWrite[], storage: string, signal: AbortSignal): Promise<{ written: number }> {
  const locks = new LockManager(storage);
  const lock = await locks.acquire(`scholar:bib-write:${createHash('sha1').update(path.resolve(bib.path)).digest('hex').slice(0, 16)}`, { kind: 'meta', timeoutMs: 120_000, signal });
  try {
    return await writeDoisToFile(await loadBibFile(bib.path, signal), writes);
  } finally {
    await lock.release();
  }
}

export async function runResolve(opts: CliOptions, io: CliIO): Promise<number> {
  if (opts.fixExisting && opts.noCheckExisting) throw new ScholarError('E_USAGE', '--fix-existing needs the existing DOIs checked; drop --no-check-existing');
  const target = path.resolve(io.cwd, opts.positionals[0]);
  const storage = path.resolve(io.cwd, opts.storage);
  const { bibs, cited } = await bibsOf(target, storage, io.signal);
  const { job, snap } = await runJob('resolve', storage, bibs, cited, opts, io);
  // Write-back (or the diff, with --dry-run), file by file.
  const perFile: { path: string; written: number; diff?: string; error?: string }[] = [];
  for (const bib of bibs) {
    const inFile = (key: string) => bib.file.entries.some((e) => e.key === key);
    const writes: DoiWrite[] = [];
    for (const r of job.resolutions.values()) {
      if (!inFile(r.key)) continue;
      if (r.outcome === 'accept' && r.doi) writes.push({ key: r.key, doi: r.doi });
      // A user's DOI is rewritten only when they ask for it, and only with a confident replacement.
      else if (opts.fixExisting && (r.outcome === 'doi_unknown' || r.outcome === 'doi_mismatch') && r.replacement && r.existing) {
        writes.push({ key: r.key, doi: r.replacement.doi, replaces: bib.file.entries.find((e) => e.key === r.key)?.fields.get('doi')?.value ?? r.existing.doi });
      }
    }
    if (!writes.length) continue;
    const rel = path.relative(io.cwd, bib.path) || path.basename(bib.path);
    if (opts.dryRun) {
      const { edits } = planDoiEdits(bib.file, writes);
      const diff = unifiedDiffOfEdits(bib.file.text, edits, rel);
      perFile.push({ path: rel, written: 0, diff });
      if (!opts.json) io.stdout.write(diff);
    } else {
      try {
        const r = opts.shard ? await writeDoisShared(bib, writes, storage, io.signal) : await writeDoisToFile(bib, writes);
        perFile.push({ path: rel, written: r.written });
      } catch (err) {
        perFile.push({ path: rel, written: 0, error: (err as Error).message });
        io.stderr.write(`scholar: ${(err as Error).message}\n`);
      }
    }
  }
  const entries = [...job.results.values()].map((r) => {
    const res = job.resolutions.get(r.key);
    return {
      key: r.key,
      file: path.relative(io.cwd, r.bibPath),
      outcome: r.outcome,
      doi: res?.doi ?? null,
      score: res?.score !== undefined ? Math.round(res.score * 1000) / 1000 : null,
      reason: r.reason ?? (res?.outcome === 'has_doi' ? res.existing?.status : undefined) ?? null,
      message: r.message ?? res?.why ?? null,
      cited: res?.cited ?? null,
      replacement: res?.replacement ? { doi: res.replacement.doi, score: Math.round(res.replacement.score * 1000) / 1000, title: res.replacement.title } : null,
      published: res?.published ?? null,
    };
  });
  const failed = entries.filter((e) => e.outcome === 'failed').length;
  const fileErrors = perFile.filter((f) => f.error).length;
  if (opts.json) {
    writeJson(io, { command: 'resolve', dryRun: opts.dryRun, ...(opts.shard ? { shard: `${opts.shard.index}/${opts.shard.count}` } : {}), totals: snap.stats.outcomes, requests: job.requests, files: perFile, entries, servicesDown: job.netIssues });
  } else {
    const written = perFile.reduce((a, f) => a + f.written, 0);
    io.stderr.write(`resolve: ${summaryLine(snap)}${opts.dryRun ? '' : ` · ${written} DOIs written`}\n`);
    io.stderr.write(`  requests: ${requestsLine(job)}\n`);
    for (const e of entries.filter((x) => x.outcome === 'review')) io.stderr.write(`  review: ${e.key} (best ${e.score})\n`);
    for (const e of entries.filter((x) => x.outcome === 'failed' && !isServiceDownReason(x.reason))) io.stderr.write(failureLine(e));
    downSummary(io, entries.filter((x) => x.outcome === 'failed'), 'resolved');
    for (const e of entries.filter((x) => x.outcome === 'doi_mismatch' || x.outcome === 'doi_unknown')) {
      const fix = e.replacement ? (opts.fixExisting ? ` (replaced with ${e.replacement.doi})` : ` (--fix-existing replaces it with ${e.replacement.doi})`) : ' (no confident replacement found)';
      io.stderr.write(`  ${e.outcome === 'doi_unknown' ? 'unknown DOI' : 'wrong DOI'}: ${e.key}: ${e.doi}: ${e.message}${fix}\n`);
    }
  }
  if (io.signal.aborted) return 2;
  return failed > 0 || fileErrors > 0 ? 1 : 0;
}

export async function runFetch(opts: CliOptions, io: CliIO): Promise<number> {
  const target = path.resolve(io.cwd, opts.positionals[0]);
  const storage = path.resolve(io.cwd, opts.storage);
  const { bibs, cited } = await bibsOf(target, storage, io.signal);
  if (opts.dryRun) {
    const entries = entriesOf(bibs).filter((e) => inShard(e.key, opts.shard));
    if (opts.json) writeJson(io, { command: 'fetch', dryRun: true, entries: entries.map((e) => ({ key: e.key, file: path.relative(io.cwd, e.bibPath) })) });
    else io.stderr.write(`fetch --dry-run: would look for PDFs of ${entries.length} entries into ${path.relative(io.cwd, storage) || '.'}\n`);
    return 0;
  }
  const { job, snap } = await runJob('fetch', storage, bibs, cited, opts, io);
  const entries = [...job.results.values()].map((r) => ({ key: r.key, file: path.relative(io.cwd, r.bibPath), outcome: r.outcome, source: r.source ?? null, doi: r.doi ?? null, reason: r.reason ?? null, permanent: r.permanent ?? null, message: r.message ?? null }));
  const failed = entries.filter((e) => e.outcome === 'failed').length;
  if (opts.json) {
    writeJson(io, { command: 'fetch', storage: path.relative(io.cwd, storage) || '.', ...(opts.shard ? { shard: `${opts.shard.index}/${opts.shard.count}` } : {}), totals: snap.stats.outcomes, requests: job.requests, entries, servicesDown: job.netIssues });
  } else {
    io.stderr.write(`fetch: ${summaryLine(snap)} · storage ${path.relative(io.cwd, storage) || '.'}\n`);
    io.stderr.write(`  requests: ${requestsLine(job)}\n`);
    for (const e of entries.filter((x) => x.outcome === 'failed' && !isServiceDownReason(x.reason))) io.stderr.write(failureLine(e));
    downSummary(io, entries.filter((x) => x.outcome === 'failed'), 'fetched');
  }
  if (io.signal.aborted) return 2;
  return failed > 0 ? 1 : 0;
}

export async function runCheck(opts: CliOptions, io: CliIO): Promise<number> {
  const targets = opts.positionals.length ? opts.positionals : ['.'];
  const storage = path.resolve(io.cwd, opts.storage);
  const findings = [];
  for (const t of targets) findings.push(...(await checkProject(path.resolve(io.cwd, t), { storageFolder: storage, signal: io.signal })));
  const shown = findings.map((f) => ({ ...f, file: path.relative(io.cwd, f.file) || f.file }));
  if (opts.json) writeJson(io, { command: 'check', problems: shown.length, findings: shown });
  else {
    for (const f of shown) io.stdout.write(`${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.code}]\n`);
    io.stderr.write(`check: ${shown.length ? `${shown.length} problem${shown.length === 1 ? '' : 's'}` : 'no problems'}\n`);
  }
  return shown.length ? 1 : 0;
}

export async function runIndex(opts: CliOptions, io: CliIO): Promise<number> {
  if (opts.positionals[0] === 'fulltext') return runIndexFulltext(opts, io);
  const storage = path.resolve(io.cwd, opts.storage);
  if (storageIsNew(storage) && !opts.noGitignore) await writeStorageGitignore(storage);
  await startupCleanup(storage);
  const index = await LibraryIndex.open(storage, { reconcile: false });
  const writer = await StorageWriter.open(storage, { index });
  try {
    const report = await writer.indexTask((ix) => ix.rebuildFromFolders(io.signal));
    const saved = writer.saveIndex();
    await writer.close();
    await saved;
    if (opts.json) writeJson(io, { command: 'index rebuild', entries: report.count, errors: report.errors });
    else {
      io.stderr.write(`index: rebuilt from ${report.count} folders${report.errors.length ? `, ${report.errors.length} unreadable` : ''}\n`);
      for (const e of report.errors) io.stderr.write(`  ${e.folder}: ${e.message}\n`);
    }
    return report.errors.length ? 1 : 0;
  } finally {
    index.close();
  }
}

export async function runSearch(opts: CliOptions, io: CliIO): Promise<number> {
  const storage = path.resolve(io.cwd, opts.storage);
  const index = await LibraryIndex.open(storage);
  try {
    await index.warmFullText({ signal: io.signal });
    const hits = index.search(opts.positionals.join(' '), { limit: 50 });
    if (opts.json) writeJson(io, { command: 'search', query: opts.positionals.join(' '), hits });
    else {
      for (const h of hits) {
        io.stdout.write(`${h.key}\t${h.year ?? ''}\t${h.hasPdf ? 'pdf' : '-'}\t${h.doi ?? ''}\t${h.title ?? ''}\n`);
        if (h.snippet) io.stdout.write(`\t${snippetLine(h.snippet)}\n`);
      }
      io.stderr.write(`search: ${hits.length} result${hits.length === 1 ? '' : 's'}\n`);
    }
    return 0;
  } finally {
    index.close();
  }
}
