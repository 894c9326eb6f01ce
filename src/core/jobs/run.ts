/**
 * A job: one pipeline run over a set of entries, plus the single result processor that turns the
 * workers' messages into writes (through the library's writer) and into the state the UIs show.
 */
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Pipeline, type PipelineMessage, type PipelineStats } from '../pipeline/pipeline';
import type { BibEntry, BibFile } from '../bib/parse';
import type { MetadataPatch } from '../storage/metadata';
import type { ResolveResult } from '../resolve/resolver';
import type { FallbackRule } from '../resolve/plausible';
import { bibPatch, fetchStages, workPatch, type FetchOptions } from './fetch';
import type { FetchItem } from './item';
import { resolveStage, matchOf } from './stages/resolve';
import { JOB_STATE_VERSION, type JobKind, type JobStateV1 } from '../storage/jobState';
import { inShard, shardText, type Shard } from './shard';
import { requestCounts } from './requests';
import type { Library } from './library';
import { errorMessage, SERVICE_DOWN_CODES } from '../errors';
import type { NetIssue } from '../net/issues';

export type { JobKind } from '../storage/jobState';

export interface JobEntry {
  key: string;
  bibPath: string;
  file: BibFile;
  entry: BibEntry;
}

export interface EntryOutcome {
  key: string;
  bibPath: string;
  outcome: string;
  stage?: string;
  reason?: string;
  permanent?: boolean;
  message?: string;
  doi?: string;
  score?: number;
  source?: string;
}

export interface ErrorGroup {
  reason: string;
  message: string;
  permanent: boolean;
  keys: string[];
}

export interface Activity {
  at: number;
  text: string;
  level: 'info' | 'warn' | 'error';
}

export interface JobSnapshot {
  id: string;
  kind: JobKind;
  state: 'running' | 'paused' | 'cancelling' | 'done' | 'cancelled';
  stats: PipelineStats;
  errors: ErrorGroup[];
  activity: Activity[];
  /** Items finished per 10 s bucket since the start. */
  throughput: number[];
}

export interface JobOptions {
  kind: JobKind;
  entries: JobEntry[];
  /** Keys to do first (for example the keys cited in the open document). */
  priority?: Set<string>;
  /** Resolve: also check entries that already have a DOI. */
  checkExisting?: boolean;
  /** Which entries the slow resolve fallbacks are asked for (resolve/plausible.ts; default `plausible`). */
  fallbackRule?: FallbackRule;
  fetch?: FetchOptions;
  /** Only the entries of this shard (`--shard I/N`); the others are left to the other processes. */
  shard?: Shard;
  maxInFlight?: number;
  resolveConcurrency?: number;
  signal?: AbortSignal;
  /** Called (throttled by the caller) whenever something changed. */
  onChange?: () => void;
  onMessage?: (msg: PipelineMessage) => void;
  log?: (level: Activity['level'], text: string) => void;
  /** A service was found unreachable (or refused us) and is not asked again in this job: once per service. */
  onNetIssue?: (issue: NetIssue) => void;
  /** Turns an issue into the line the activity log shows (the frontends name their own settings). */
  describeIssue?: (issue: NetIssue) => string;
}

/**
 * Entries in flight across all stages. Sockets are bounded by the per-service lanes and PDFs stream
 * to disk, so an entry in flight costs little; enough of them keep the slowest lane (Semantic Scholar,
 * 1 req/s, asked for a quarter of the entries) busy while the others flow past it.
 */
/**
 * Entries in flight at once. 256, not 64: with 64, a fetch whose PDFs come from 16 hosts left the
 * busiest host without a waiting entry for 132 s of a 398 s run (docs/decisions.md, issue 17).
 */
export const DEFAULT_MAX_IN_FLIGHT = 256;

export { DOI_CHECK_TTL_MS } from './stages/resolve';

const ACTIVITY_LIMIT = 200;
const BUCKET_MS = 10_000;

export class Job {
  readonly id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(3).toString('hex')}`;
  readonly kind: JobKind;
  readonly results = new Map<string, EntryOutcome>();
  /** Resolve jobs: the full resolver result per key (for write-back and review). */
  readonly resolutions = new Map<string, ResolveResult>();
  /** Services Scholar stopped asking during this job, in the order they were found. */
  readonly netIssues: NetIssue[] = [];
  /** API requests per service sent while this job ran (PDF hosts summed as `pdf`). */
  requests: Record<string, number> = {};
  private requestsBefore: Record<string, number> = {};
  private readonly pipeline: Pipeline<FetchItem>;
  private readonly items: FetchItem[];
  private readonly itemByKey: Map<string, FetchItem>;
  private readonly activity: Activity[] = [];
  private readonly buckets: number[] = [];
  private readonly pendingWrites: Promise<unknown>[] = [];
  private state: JobSnapshot['state'] = 'running';
  private startedAt = Date.now();
  private jobStateTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly lib: Library,
    private readonly opts: JobOptions,
  ) {
    this.kind = opts.kind;
    const pri = opts.priority ?? new Set<string>();
    const seen = new Set<string>();
    this.items = opts.entries
      .filter((e) => (seen.has(e.key) ? false : (seen.add(e.key), true)) && inShard(e.key, opts.shard))
      .map((e, i) => ({ e, i }))
      // Stable: cited keys of the open document first, then file order.
      .sort((a, b) => Number(pri.has(b.e.key)) - Number(pri.has(a.e.key)) || a.i - b.i)
      .map(({ e }) => ({ key: e.key, bibPath: e.bibPath, file: e.file, entry: e.entry }));
    // The result processor looks items up per message: a map, not a scan of 5,000 items each time.
    this.itemByKey = new Map(this.items.map((i) => [i.key, i]));
    const stages = opts.kind === 'fetch' ? fetchStages(lib, { ...opts.fetch, fallbackRule: opts.fallbackRule ?? opts.fetch?.fallbackRule }, this.items) : [resolveStage(lib, { kind: 'resolve', concurrency: opts.resolveConcurrency ?? 6, checkExisting: opts.checkExisting, fallbackRule: opts.fallbackRule, items: this.items })];
    this.pipeline = new Pipeline<FetchItem>({
      stages,
      keyOf: (i) => i.key,
      maxInFlight: opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
      onMessage: (m) => this.onMessage(m),
      signal: opts.signal,
    });
  }

  get signal(): AbortSignal {
    return this.pipeline.signal;
  }

  async run(): Promise<JobSnapshot> {
    this.startedAt = Date.now();
    this.requestsBefore = requestCounts(this.lib.http.stats());
    this.note('info', `${this.kind === 'fetch' ? 'Fetching PDFs' : 'Resolving DOIs'} for ${this.items.length} entries`);
    this.persistState();
    // One network scope per job: an unreachable service is reported once and then left alone.
    const scope = this.lib.http.beginScope((issue) => {
      this.netIssues.push(issue);
      this.note('error', this.opts.describeIssue?.(issue) ?? `${issue.service} (${issue.host}): ${issue.cause}`);
      this.opts.onNetIssue?.(issue);
    });
    let stats: PipelineStats;
    try {
      stats = await this.pipeline.run(this.items);
    } finally {
      scope.end();
      // Anything downloaded but not committed (a cancel between the two) is removed, its lock freed.
      for (const item of this.items) {
        if (item.download && !this.results.get(item.key)?.outcome.startsWith('stored')) {
          await rm(item.download.tempPath, { force: true });
          await this.lib.locks.release(item.key).catch(() => undefined);
        }
      }
    }
    await Promise.allSettled(this.pendingWrites);
    this.requests = this.requestsSoFar();
    this.state = stats.cancelled ? 'cancelled' : 'done';
    this.note('info', `${this.state === 'cancelled' ? 'Cancelled' : 'Finished'}: ${Object.entries(stats.outcomes).map(([k, v]) => `${k} ${v}`).join(', ') || 'nothing to do'}`);
    clearTimeout(this.jobStateTimer);
    await this.lib.writer.writeJobState(this.jobState()).catch(() => undefined);
    this.opts.onChange?.();
    return this.snapshot();
  }

  pause(): void {
    this.pipeline.pause();
    this.state = 'paused';
    this.note('info', 'Paused');
  }

  resume(): void {
    this.pipeline.resume();
    this.state = 'running';
    this.note('info', 'Resumed');
  }

  cancel(): void {
    if (this.state === 'done' || this.state === 'cancelled') return;
    this.state = 'cancelling';
    this.pipeline.cancel();
    this.note('warn', 'Cancelling…');
  }

  get isRunning(): boolean {
    return this.state === 'running' || this.state === 'paused' || this.state === 'cancelling';
  }

  /** The entries whose failure a retry may fix (or all failures, on request). */
  failedEntries(all = false): JobEntry[] {
    const failed = new Set([...this.results.values()].filter((r) => r.outcome === 'failed' && (all || !r.permanent)).map((r) => r.key));
    return this.opts.entries.filter((e) => failed.has(e.key));
  }

  entriesFailedWith(reason: string): JobEntry[] {
    const keys = new Set([...this.results.values()].filter((r) => r.outcome === 'failed' && r.reason === reason).map((r) => r.key));
    return this.opts.entries.filter((e) => keys.has(e.key));
  }

  snapshot(): JobSnapshot {
    const groups = new Map<string, ErrorGroup>();
    for (const r of this.results.values()) {
      if (r.outcome !== 'failed' || !r.reason || r.reason === 'E_ABORTED') continue;
      const g = groups.get(r.reason) ?? { reason: r.reason, message: r.message ?? '', permanent: !!r.permanent, keys: [] };
      g.keys.push(r.key);
      g.permanent = g.permanent && !!r.permanent;
      groups.set(r.reason, g);
    }
    return {
      id: this.id,
      kind: this.kind,
      state: this.state,
      stats: this.pipeline.stats(),
      errors: [...groups.values()].sort((a, b) => b.keys.length - a.keys.length),
      activity: this.activity.slice(),
      throughput: this.buckets.slice(),
    };
  }

  private note(level: Activity['level'], text: string): void {
    this.activity.push({ at: Date.now(), text, level });
    if (this.activity.length > ACTIVITY_LIMIT) this.activity.splice(0, this.activity.length - ACTIVITY_LIMIT);
    this.opts.log?.(level, text);
  }

  private bump(): void {
    const b = Math.floor((Date.now() - this.startedAt) / BUCKET_MS);
    while (this.buckets.length <= b) this.buckets.push(0);
    this.buckets[b]++;
  }

  private write(p: Promise<unknown>, what: string): void {
    const guarded = p.catch((err) => this.note('error', `${what}: ${errorMessage(err)}`));
    this.pendingWrites.push(guarded);
    void guarded.then(() => {
      const i = this.pendingWrites.indexOf(guarded);
      if (i >= 0) this.pendingWrites.splice(i, 1);
    });
  }

  /**
   * The single result processor: turns the workers' messages into metadata and job-state writes.
   * (The commit stage hands its PDF to the writer itself: the file is that stage's output, and the
   * writer still serialises it with everything else.)
   */
  private onMessage(m: PipelineMessage): void {
    this.opts.onMessage?.(m);
    switch (m.type) {
      case 'result': {
        if (m.stage === 'resolve') {
          const r = m.data as ResolveResult;
          this.resolutions.set(m.key, r);
          const item = this.itemByKey.get(m.key);
          if (item && r.outcome !== 'skipped' && r.outcome !== 'failed') {
            const patch = resolvePatch(item, r);
            // A DOI once found wrong and now right (the user corrected it): the old finding goes.
            const prev = this.lib.index.get(m.key)?.match?.outcome;
            if (r.outcome === 'has_doi' && r.existing?.status === 'ok' && (prev === 'doi_unknown' || prev === 'doi_mismatch')) patch.match = null;
            this.write(this.lib.writer.writeMetadata(m.key, patch), `metadata of ${m.key}`);
          }
        } else if (m.stage === 'enrich') {
          this.write(this.lib.writer.writeMetadata(m.key, m.data as MetadataPatch), `metadata of ${m.key}`);
        }
        break;
      }
      case 'item_done': {
        const item = this.itemByKey.get(m.key);
        const r = this.resolutions.get(m.key) ?? item?.resolve;
        this.results.set(m.key, { key: m.key, bibPath: item?.bibPath ?? '', outcome: m.outcome, stage: m.stage, doi: r?.doi ?? item?.doi, score: r?.score, source: item?.download?.candidate.source ?? r?.source });
        this.bump();
        if (m.outcome === 'stored' || m.outcome === 'accept') this.note('info', `${m.key}: ${m.outcome === 'stored' ? `PDF stored (${item?.download?.candidate.source})` : `DOI ${r?.doi}`}`);
        else if (m.outcome === 'review') this.note('warn', `${m.key}: needs review`);
        this.persistState();
        break;
      }
      case 'item_failed': {
        const item = this.itemByKey.get(m.key);
        this.results.set(m.key, { key: m.key, bibPath: item?.bibPath ?? '', outcome: m.reason === 'E_ABORTED' ? 'cancelled' : 'failed', stage: m.stage, reason: m.reason, permanent: m.permanent, message: m.message });
        if (m.reason !== 'E_ABORTED') {
          this.bump();
          // The unreachable service was reported once already; a line per entry would bury it.
          if (!(SERVICE_DOWN_CODES as readonly string[]).includes(m.reason)) this.note('error', `${m.key}: ${m.stage} failed: ${m.reason} ${m.message}`);
        }
        this.persistState();
        break;
      }
      case 'log':
        this.note(m.level === 'debug' ? 'info' : m.level, m.message);
        break;
      default:
        break;
    }
    this.opts.onChange?.();
  }

  private jobState(): JobStateV1 {
    const stats = this.pipeline.stats();
    return {
      version: JOB_STATE_VERSION,
      id: this.id,
      kind: this.kind,
      status: this.state,
      updatedAt: new Date().toISOString(),
      // Who runs it: another window must not offer to resume a job that is alive elsewhere.
      pid: process.pid,
      host: hostname(),
      total: stats.total,
      done: stats.done,
      failed: stats.failed,
      bibFiles: [...new Set(this.opts.entries.map((e) => e.bibPath))],
      ...(this.opts.shard ? { shard: shardText(this.opts.shard) } : {}),
      requests: this.requestsSoFar(),
      entries: Object.fromEntries([...this.results.values()].map((r) => [r.key, { outcome: r.outcome, ...(r.reason ? { reason: r.reason } : {}), ...(r.permanent !== undefined ? { permanent: r.permanent } : {}) }])),
    };
  }

  /** The HTTP client may serve other jobs before this one: only what was sent since its start counts. */
  private requestsSoFar(): Record<string, number> {
    const now = requestCounts(this.lib.http.stats());
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(now)) if (v - (this.requestsBefore[k] ?? 0) > 0) out[k] = v - (this.requestsBefore[k] ?? 0);
    return out;
  }

  /** Job state is a snapshot: coalesced by the writer, and written at most every second. */
  private persistState(): void {
    if (this.jobStateTimer) return;
    this.jobStateTimer = setTimeout(() => {
      this.jobStateTimer = undefined;
      this.write(this.lib.writer.writeJobState(this.jobState()), 'job state');
    }, 1000);
  }
}

function resolvePatch(item: FetchItem, r: ResolveResult): MetadataPatch {
  const patch: MetadataPatch = { ...bibPatch(item) };
  if (r.work && (r.outcome === 'accept' || (r.outcome === 'has_doi' && r.existing?.status === 'ok'))) {
    const wp = workPatch(r.work);
    Object.assign(patch, wp, { provenance: { ...patch.provenance, ...wp.provenance } });
  }
  if (r.outcome === 'accept' && r.doi) {
    patch.doi = r.doi;
    patch.provenance = { ...patch.provenance, doi: r.source ?? 'crossref' };
  }
  if (r.arxivId) patch.identifiers = { ...(patch.identifiers ?? {}), arxiv: r.arxivId };
  if (r.outcome === 'doi_unknown' || r.outcome === 'doi_mismatch') {
    // The entry's own DOI is wrong: kept for review beside the replacement, never replaced here.
    const cands = r.replacement ? [{ doi: r.replacement.doi, title: r.replacement.title, score: Math.round(r.replacement.score * 1000) / 1000, source: r.replacement.source }] : [];
    for (const c of r.candidates) if (!cands.some((x) => x.doi === c.doi)) cands.push({ doi: c.doi, title: c.title, year: c.year, score: c.score, source: c.source } as (typeof cands)[number]);
    patch.match = {
      score: Math.round((r.replacement?.score ?? r.existing?.score ?? 0) * 1000) / 1000,
      outcome: r.outcome,
      source: r.replacement?.source,
      candidates: cands.slice(0, 5),
      replaces: item.entry.fields.get('doi')?.value.trim() ?? r.existing?.doi,
      replacement: r.replacement?.doi,
      why: r.why,
    };
    // A wrong DOI is not the library's DOI of this work.
    patch.doi = null;
    patch.provenance = { ...patch.provenance, doi: null };
  } else if (r.outcome === 'has_doi') {
    // Checked now (a lookup named this work, or doi.org knows it): remembered, so a re-run does not ask again.
    if (r.existing?.status === 'ok' && r.existing.checked && r.doi) patch.doiCheck = { doi: r.doi, at: new Date().toISOString() };
  } else {
    patch.match = matchOf(r);
  }
  return patch;
}
