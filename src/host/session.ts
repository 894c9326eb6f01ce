import * as vscode from 'vscode';
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { Library } from '../core/jobs/library';
import { Job, type EntryOutcome, type JobEntry, type JobKind } from '../core/jobs/run';
import type { Metadata } from '../core/storage/metadata';
import { readConfig, readNetwork, type ScholarConfig } from './config';
import { netIssueNotifier, type NetNotice } from './netNotice';
import { describeNetIssue } from '../core/net/issues';
import type { Log } from './log';
import type { DashboardSnapshot, ServiceView } from '../shared/protocol';
import { emptySnapshot } from '../shared/protocol';
import { resolverHost } from '../core/resolvers/zotero';

const SECRET_KEYS = { openalex: 'scholar.apiKey.openalex', semanticScholar: 'scholar.apiKey.semanticScholar' } as const;

/**
 * Owns the library (storage, index, writer, HTTP) of each workspace folder and the job that runs
 * now. Nothing here touches the network or the disk until a trusted user asks for it.
 */
export class Session implements vscode.Disposable {
  private readonly libraries = new Map<string, Promise<Library>>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires (unthrottled) when the job, the library or the index changed. */
  readonly onDidChange = this.changed.event;
  private job: Job | undefined;
  private jobRun: Promise<unknown> | undefined;
  private starting = false;
  private jobLibrary: Library | undefined;
  private lastJob: Job | undefined;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private readonly rateWindow = new Map<string, { t: number; requests: number }[]>();
  private resolverLanes = new Map<string, string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('scholar')) void this.reopen();
        // Proxy and certificates apply to the next request, even in a running job: no reopen.
        else if (e.affectsConfiguration('http')) void this.updateNetwork();
      }),
      context.secrets.onDidChange((e) => {
        if (Object.values(SECRET_KEYS).includes(e.key as (typeof SECRET_KEYS)[keyof typeof SECRET_KEYS])) void this.updateKeys();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
    );
  }

  get trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  get currentJob(): Job | undefined {
    return this.job;
  }

  /** Whether the running job works on this key (the other entries of the workspace are not pending). */
  inCurrentJob(key: string): boolean {
    return this.jobKeys.has(key);
  }

  private jobKeys = new Set<string>();

  /**
   * The last failure of each entry, across jobs: a later job that did not touch an entry must not
   * make its failure disappear. Cleared when the entry succeeds.
   */
  private readonly failures = new Map<string, EntryOutcome>();

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

  get previousJob(): Job | undefined {
    return this.job ?? this.lastJob;
  }

  folderFor(uri?: vscode.Uri): vscode.WorkspaceFolder | undefined {
    return (uri && vscode.workspace.getWorkspaceFolder(uri)) ?? vscode.workspace.workspaceFolders?.[0];
  }

  async config(folder: vscode.WorkspaceFolder): Promise<ScholarConfig> {
    return readConfig(folder, await this.apiKeys());
  }

  /** Keys from SecretStorage (Scholar: Set API Key), else from the environment VS Code was started with. */
  private async apiKeys(): Promise<{ openalex?: string; semanticScholar?: string }> {
    const [openalex, semanticScholar] = await Promise.all([this.context.secrets.get(SECRET_KEYS.openalex), this.context.secrets.get(SECRET_KEYS.semanticScholar)]);
    return { openalex: openalex || process.env.OPENALEX_API_KEY || undefined, semanticScholar: semanticScholar || process.env.S2_API_KEY || undefined };
  }

  /** What the user was told about services that could not be asked, one entry per job that met any (for the tests and the dashboard). */
  readonly netNotices: NetNotice[] = [];

  private async updateNetwork(): Promise<void> {
    let network;
    try {
      network = readNetwork();
    } catch (err) {
      this.log.warn(`network settings: ${err instanceof Error ? err.message : String(err)}`);
      void vscode.window.showWarningMessage(`Scholar: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    for (const lib of this.libraries.values()) lib.then((l) => l.http.setNetwork(network), () => undefined);
    this.log.info(`network: ${network.httpsProxy || network.httpProxy ? `proxy ${new URL(network.httpsProxy ?? network.httpProxy!).host}` : 'direct'}${network.noProxy?.length ? `, no proxy for ${network.noProxy.join(', ')}` : ''}`);
  }

  private async updateKeys(): Promise<void> {
    const keys = await this.apiKeys();
    for (const lib of this.libraries.values()) lib.then((l) => l.http.setApiKeys(keys), () => undefined);
  }

  /** The storage folders of all workspace folders (never walked for .bib files), as far as they resolve. */
  storageFolders(): string[] {
    const out: string[] = [];
    for (const f of vscode.workspace.workspaceFolders ?? []) {
      const rel = vscode.workspace.getConfiguration('scholar', f.uri).get<string>('storageFolder') || 'storage';
      out.push(path.resolve(f.uri.fsPath, rel));
    }
    return out;
  }

  /** Opens (once) the library of a folder. Refused in Restricted Mode: opening it writes to disk. */
  library(folder: vscode.WorkspaceFolder): Promise<Library> {
    if (!this.trusted) return Promise.reject(new Error('Scholar writes nothing in Restricted Mode. Trust this folder to build the library.'));
    const k = folder.uri.toString();
    let lib = this.libraries.get(k);
    if (!lib) {
      lib = this.config(folder).then((cfg) =>
        Library.open(cfg.storageRoot, {
          gitignore: cfg.storageGitignore,
          http: { ...cfg.http, log: (e) => this.log.trace(`${e.service} ${e.method} ${e.url} → ${e.status ?? e.code} (${e.ms} ms)`) },
          wasmPath: vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'sql-wasm.wasm').fsPath,
          onError: (err) => this.log.error('storage writer', err instanceof Error ? err : new Error(String(err))),
        }),
      );
      lib.then(
        (l) => {
          if (l.cleanup.removedTemps.length || l.cleanup.removedLocks.length) {
            this.log.info(`storage: removed ${l.cleanup.removedTemps.length} leftover temp files and ${l.cleanup.removedLocks.length} stale locks`);
          }
          this.watchStorage(l);
          this.changed.fire();
          // Build the search side in the background, in slices, so the first filter is instant.
          const t0 = Date.now();
          l.index
            .warmSearch()
            .then(() => {
              this.log.info(`search index ready: ${l.index.stats().entries} entries in ${Date.now() - t0} ms`);
              // Then the PDFs' texts (text: queries), read from the folders in slices.
              return l.index.warmFullText().then(() => this.log.info(`full text ready: ${l.index.fullTextFootprint().papers} PDFs in ${Date.now() - t0} ms`));
            })
            .catch((err: unknown) => this.log.error('search index', err instanceof Error ? err : new Error(String(err))));
        },
        () => this.libraries.delete(k),
      );
      this.libraries.set(k, lib);
    }
    return lib;
  }

  /**
   * Another window or the CLI writing to the same storage folder: its metadata.json changes are
   * picked up by re-scanning (only folders whose metadata changed are re-read). Our own writes are
   * already in the index, so nothing is re-scanned while this window runs a job.
   */
  private watchStorage(lib: Library): void {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(lib.root), 'by_key/*/metadata.json'));
    let timer: NodeJS.Timeout | undefined;
    const rescan = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (this.job || this.disposed) return;
        void lib.writer.indexTask((ix) => ix.reconcile()).then(
          (r) => {
            if (!r.updated && !r.removed) return;
            this.metaCache = undefined;
            this.log.info(`library: picked up ${r.updated} changed and ${r.removed} removed entries written elsewhere`);
            void lib.writer.saveIndex().catch(() => undefined);
            this.changed.fire();
          },
          (err) => this.log.warn(`library re-scan failed: ${err instanceof Error ? err.message : String(err)}`),
        );
      }, 1500);
    };
    // File watching is not reliable everywhere (remote and container file systems drop events), so
    // also poll the job states: every run of another process rewrites its jobs/<id>.json, a cheap
    // signal to look at by_key/ again.
    const jobsSignature = async () => {
      const ents = await readdir(path.join(lib.root, 'jobs'), { withFileTypes: true }).catch(() => []);
      const files = ents.filter((e) => e.isFile() && e.name.endsWith('.json'));
      const times = await Promise.all(files.map((f) => stat(path.join(lib.root, 'jobs', f.name)).then((st) => st.mtimeMs, () => 0)));
      return `${files.length}:${Math.max(0, ...times)}`;
    };
    // The baseline is taken now, as the library opens: a run that starts and ends before the first
    // poll must still count as a change.
    let signature: Promise<string> = jobsSignature();
    const poll = setInterval(() => {
      const before = signature;
      signature = jobsSignature();
      void Promise.all([before, signature]).then(([a, b]) => {
        if (a !== b) rescan();
      });
    }, 3000);
    poll.unref();
    this.storageWatchers.push(watcher, watcher.onDidCreate(rescan), watcher.onDidChange(rescan), watcher.onDidDelete(rescan), {
      dispose: () => {
        clearTimeout(timer);
        clearInterval(poll);
      },
    });
  }

  private storageWatchers: vscode.Disposable[] = [];

  /** The library if it is already open (for views that must not open one on their own). */
  async openedLibrary(folder: vscode.WorkspaceFolder | undefined): Promise<Library | undefined> {
    if (!folder) return undefined;
    const p = this.libraries.get(folder.uri.toString());
    return p ? p.catch(() => undefined) : undefined;
  }

  /**
   * Metadata for the views, from one bulk read of the index: the tree asks for every entry on each
   * refresh, and 50,000 single-row queries would block the extension host. Entries a job touches
   * are dropped from the cache as their messages arrive; the whole cache is dropped when the index
   * changes under us (job end, re-scan, rebuild, reopen).
   */
  /**
   * An entry's metadata from the index, cached: the cache is filled with every entry at once, so
   * a key missing from it is known to be absent (a .bib of 50,000 entries mostly outside the
   * library costs no query per entry). Keys invalidated one by one are read again on next use.
   */
  metadata(key: string): Metadata | undefined {
    const index = this.cachedIndex;
    if (!index) return undefined;
    if (!this.metaCache) {
      this.metaCache = index.allMetadata();
      this.metaStale.clear();
    }
    if (this.metaStale.delete(key)) {
      const m = index.get(key);
      if (m) this.metaCache.set(key, m);
      else this.metaCache.delete(key);
      return m;
    }
    return this.metaCache.get(key);
  }

  private metaCache: Map<string, Metadata> | undefined;
  private readonly metaStale = new Set<string>();

  /** Forget cached metadata (all of it, or one key's). */
  /** Tells the views that the library's data changed outside a job (a decision the user recorded). */
  notifyChanged(): void {
    this.changed.fire();
  }

  invalidateMetadata(key?: string): void {
    if (key === undefined) this.metaCache = undefined;
    else if (this.metaCache) {
      this.metaCache.delete(key);
      this.metaStale.add(key);
    }
  }

  private _cachedIndex: Library['index'] | undefined;

  private get cachedIndex(): Library['index'] | undefined {
    return this._cachedIndex;
  }

  private set cachedIndex(ix: Library['index'] | undefined) {
    if (ix === this._cachedIndex) return;
    this.metaCache = undefined;
    this._cachedIndex = ix;
    // Views showing library totals (the dashboard) are out of date.
    this.changed.fire();
  }

  /** Runs one job at a time. Resolves with the finished job. */
  async runJob(kind: JobKind, entries: JobEntry[], folder: vscode.WorkspaceFolder, opts: { priority?: Set<string>; signal?: AbortSignal; checkExisting?: boolean; automatic?: boolean } = {}): Promise<Job> {
    if (this.job || this.starting) throw new Error('A Scholar job is already running. Cancel it or wait for it to finish.');
    // Set before the first await: two commands started together must not both get through.
    this.starting = true;
    let lib: Library;
    let cfg: ScholarConfig;
    try {
      lib = await this.library(folder);
      cfg = await this.config(folder);
    } finally {
      this.starting = false;
    }
    this.cachedIndex = lib.index;
    for (const e of cfg.resolverErrors) this.log.warn(`scholar.pdf.resolvers: ${e}`);
    // Zotero's rule: a resolver without "automatic": true serves only runs the user asked for.
    const resolvers = cfg.pdfResolvers.filter((r) => !opts.automatic || r.automatic);
    this.resolverLanes = new Map(resolvers.map((r) => [`pdf:${resolverHost(r)}`, r.name]));
    const job = new Job(lib, {
      kind,
      entries,
      priority: opts.priority,
      checkExisting: opts.checkExisting,
      signal: opts.signal,
      maxInFlight: cfg.maxInFlight,
      fetch: { sources: cfg.pdfSources, concurrency: { download: cfg.downloadWorkers }, resolvers },
      onChange: () => this.changed.fire(),
      onMessage: (m) => {
        if ('key' in m) this.invalidateMetadata(m.key);
      },
      log: (level, text) => (level === 'error' ? this.log.warn(text) : level === 'warn' ? this.log.info(text) : this.log.debug(text)),
      describeIssue: (i) => describeNetIssue(i, 'vscode'),
      onNetIssue: netIssueNotifier(this.log, (n) => this.netNotices.push(n)),
    });
    this.job = job;
    this.jobKeys = new Set(entries.map((e) => e.key));
    this.jobLibrary = lib;
    this.changed.fire();
    const run = job.run();
    this.jobRun = run.catch(() => undefined);
    try {
      await run;
      await lib.writer.flush();
      return job;
    } finally {
      this.metaCache = undefined;
      this.recordOutcomes(job);
      this.lastJob = job;
      this.job = undefined;
      this.jobKeys = new Set();
      this.changed.fire();
    }
  }

  async indexFor(folder: vscode.WorkspaceFolder | undefined): Promise<Library['index'] | undefined> {
    if (!folder || !this.trusted) return undefined;
    try {
      const lib = await this.library(folder);
      this.cachedIndex = lib.index;
      return lib.index;
    } catch (err) {
      this.log.warn(`library unavailable: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  snapshot(): Omit<DashboardSnapshot, 'seq'> {
    const base = emptySnapshot();
    const job = this.job ?? this.lastJob;
    const s = job?.snapshot();
    const stats = this.cachedIndex?.stats();
    return {
      job: s
        ? {
            id: s.id,
            kind: s.kind,
            state: s.state,
            title: s.kind === 'fetch' ? 'Fetch PDFs' : 'Resolve DOIs',
            total: s.stats.total,
            done: s.stats.done,
            failed: s.stats.failed,
            elapsedMs: s.stats.elapsedMs,
            etaMs: s.stats.etaMs,
            outcomes: s.stats.outcomes,
          }
        : null,
      stages: s?.stats.stages.map((st) => ({ name: st.name, queued: st.queued, active: st.active, done: st.done, failed: st.failed, throughputPerMin: st.throughputPerMin })) ?? [],
      services: this.services(),
      errors: s?.errors.map((e) => ({ reason: e.reason, message: e.message, count: e.keys.length, permanent: e.permanent, keys: e.keys })) ?? [],
      activity: s?.activity.slice(-50) ?? [],
      throughput: s?.throughput.slice(-60) ?? [],
      library: stats
        ? { entries: stats.entries, withDoi: stats.withDoi, withPdf: stats.withPdf, needsReview: stats.byDoiStatus.review ?? 0 }
        : base.library,
      trusted: this.trusted,
    };
  }

  private services(): ServiceView[] {
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
        service: this.resolverLanes.has(st.key) ? `resolver ${this.resolverLanes.get(st.key)} (${st.key.slice(4)})` : st.key,
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

  private async closeLibraries(): Promise<void> {
    if (this.job) return; // settings apply to the next job; the running one keeps its library
    const libs = [...this.libraries.values()];
    this.libraries.clear();
    for (const w of this.storageWatchers.splice(0)) w.dispose();
    this.cachedIndex = undefined;
    for (const l of libs) {
      try {
        await (await l).close();
      } catch {
        // a library that failed to open has nothing to close
      }
    }
  }

  /** After a settings change: reopen the library (with the new settings) if its folder exists, so views keep their state. */
  private async reopen(): Promise<void> {
    await this.closeLibraries();
    if (this.disposed) return;
    const folder = this.folderFor();
    if (folder && this.trusted) {
      const cfg = await this.config(folder).catch(() => undefined);
      if (cfg && existsSync(cfg.storageRoot)) await this.indexFor(folder);
    }
    this.changed.fire();
  }

  /** Drains every write queue: called on deactivate. */
  private disposed = false;

  async dispose(): Promise<void> {
    this.disposed = true;
    this.job?.cancel();
    await this.jobRun;
    for (const d of this.disposables.splice(0)) d.dispose();
    await this.closeLibraries();
  }
}
