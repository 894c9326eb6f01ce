import * as vscode from 'vscode';
import { Job, type EntryOutcome, type JobEntry, type JobKind } from '../core/jobs/run';
import type { Library } from '../core/jobs/library';
import { describeNetIssue } from '../core/net/issues';
import { resolverHost } from '../core/resolvers/zotero';
import { netIssueNotifier, type NetNotice } from './netNotice';
import type { LibraryRegistry } from './libraryRegistry';
import type { MetadataCache } from './metadataCache';
import type { ServiceView } from '../shared/protocol';
import type { Log } from './log';

export interface RunOptions {
  priority?: Set<string>;
  signal?: AbortSignal;
  checkExisting?: boolean;
  automatic?: boolean;
}

/**
 * Runs one job at a time on a folder's library, and remembers what the views need after it: the
 * last job, each entry's last failure across jobs, the network notices, the services' rates.
 */
export class JobRunner {
  private job: Job | undefined;
  private run: Promise<unknown> | undefined;
  private starting = false;
  private jobLibrary: Library | undefined;
  private lastJob: Job | undefined;
  private jobKeys = new Set<string>();
  private readonly rateWindow = new Map<string, { t: number; requests: number }[]>();
  private resolverLanes = new Map<string, string>();
  /**
   * The last failure of each entry, across jobs: a later job that did not touch an entry must not
   * make its failure disappear. Cleared when the entry succeeds.
   */
  private readonly failures = new Map<string, EntryOutcome>();
  /** What the user was told about services that could not be asked, one entry per job that met any (for the tests and the dashboard). */
  readonly netNotices: NetNotice[] = [];

  constructor(
    private readonly registry: LibraryRegistry,
    private readonly metadata: MetadataCache,
    private readonly log: Log,
    /** The job's progress or state changed (unthrottled). */
    private readonly notify: () => void,
  ) {}

  get currentJob(): Job | undefined {
    return this.job;
  }

  /** The running job, else the last finished one. */
  get previousJob(): Job | undefined {
    return this.job ?? this.lastJob;
  }

  /** Whether the running job works on this key (the other entries of the workspace are not pending). */
  inCurrentJob(key: string): boolean {
    return this.jobKeys.has(key);
  }

  lastFailure(key: string): EntryOutcome | undefined {
    const r = this.job?.results.get(key);
    if (r) return r.outcome === 'failed' ? r : undefined;
    return this.failures.get(key);
  }

  private recordOutcomes(job: Job): void {
    for (const r of job.results.values()) {
      if (r.outcome === 'failed') this.failures.set(r.key, r);
      else if (r.outcome !== 'cancelled') this.failures.delete(r.key);
    }
  }

  /** Runs one job at a time. Resolves with the finished job. */
  runJob(kind: JobKind, entries: JobEntry[], folder: vscode.WorkspaceFolder, opts: RunOptions = {}): Promise<Job> {
    if (this.job || this.starting) return Promise.reject(new Error(vscode.l10n.t('A Scholar job is already running. Cancel it or wait for it to finish.')));
    // Set before the first await: two commands started together must not both get through.
    this.starting = true;
    const run = this.start(kind, entries, folder, opts);
    this.run = run.catch(() => undefined);
    return run;
  }

  private async start(kind: JobKind, entries: JobEntry[], folder: vscode.WorkspaceFolder, opts: RunOptions): Promise<Job> {
    let lib: Library;
    let cfg: Awaited<ReturnType<LibraryRegistry['config']>>;
    try {
      lib = await this.registry.library(folder);
      cfg = await this.registry.config(folder);
    } finally {
      this.starting = false;
    }
    this.registry.show(lib.index);
    for (const e of cfg.resolverErrors) this.log.warn(`scholar.pdf.resolvers: ${e}`);
    // Zotero's rule: a resolver without "automatic": true serves only runs the user asked for.
    const resolvers = cfg.pdfResolvers.filter((r) => !opts.automatic || r.automatic);
    this.resolverLanes = new Map(resolvers.map((r) => [`pdf:${resolverHost(r)}`, r.name]));
    const job = new Job(lib, {
      kind,
      entries,
      priority: opts.priority,
      checkExisting: opts.checkExisting,
      fallbackRule: cfg.resolveFallbacks,
      signal: opts.signal,
      maxInFlight: cfg.maxInFlight,
      fetch: { sources: cfg.pdfSources, concurrency: { download: cfg.downloadWorkers }, resolvers },
      onChange: () => this.notify(),
      onMessage: (m) => {
        if ('key' in m) this.metadata.invalidate(m.key);
      },
      log: (level, text) => (level === 'error' ? this.log.warn(text) : level === 'warn' ? this.log.info(text) : this.log.debug(text)),
      describeIssue: (i) => describeNetIssue(i, 'vscode'),
      onNetIssue: netIssueNotifier(this.log, (n) => this.netNotices.push(n)),
    });
    this.job = job;
    this.jobKeys = new Set(entries.map((e) => e.key));
    this.jobLibrary = lib;
    this.notify();
    try {
      await job.run();
      await lib.writer.flush();
      return job;
    } finally {
      this.metadata.invalidate();
      this.recordOutcomes(job);
      this.lastJob = job;
      this.job = undefined;
      this.jobKeys = new Set();
      this.notify();
    }
  }

  /** The services the running (or last) job's library asked, with their request rate over the last 5 s. */
  services(): ServiceView[] {
    const lib = this.jobLibrary;
    if (!lib) return [];
    const now = Date.now();
    const out: ServiceView[] = [];
    for (const st of Object.values(lib.http.stats())) {
      if (st.requests === 0) continue;
      const w = this.rateWindow.get(st.key) ?? [];
      // A library reopened (settings changed) counts from zero again: the old window would give a negative rate.
      if (w.length && st.requests < w[w.length - 1].requests) w.length = 0;
      w.push({ t: now, requests: st.requests });
      while (w.length > 1 && w[0].t < now - 5000) w.shift();
      this.rateWindow.set(st.key, w);
      const span = (now - w[0].t) / 1000;
      const rate = span > 0 ? (st.requests - w[0].requests) / span : 0;
      out.push({
        // A custom resolver's host is its own lane; the dashboard names it after the resolver.
        service: this.resolverLanes.has(st.key) ? vscode.l10n.t('resolver {0} ({1})', String(this.resolverLanes.get(st.key)), st.key.slice(4)) : st.key,
        requests: st.requests,
        inFlight: st.inFlight,
        ratePerSec: rate,
        limitPerSec: Math.round((st.limits.rate.requests * 1000 * 100) / st.limits.rate.intervalMs) / 100,
        concurrency: st.limits.concurrency,
        status429: st.status429,
        retries: st.retries,
        circuit: st.circuit,
      });
    }
    return out;
  }

  /** Cancels the running job and waits until it has stopped and flushed. */
  async dispose(): Promise<void> {
    this.job?.cancel();
    await this.run;
  }
}
