/**
 * The job state in storage/jobs/<id>.json: one type, one parser. The runner writes it, resume reads
 * it back after a crash, the host marks it resumed or discarded, the index lists it. Files written
 * before the version field existed (version 0) parse too: they had the same fields, untyped.
 */
import { ScholarError } from '../errors';

export const JOB_STATE_VERSION = 1;

export type JobKind = 'resolve' | 'fetch';

export const JOB_STATUSES = ['running', 'paused', 'cancelling', 'done', 'cancelled', 'resumed', 'discarded'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job that was not finished when its state was last written (a crash, a closed window). */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['running', 'paused', 'cancelling'];

export interface JobEntryState {
  outcome: string;
  reason?: string;
  permanent?: boolean;
}

export interface JobStateV1 {
  version: 1;
  id: string;
  /** Absent only in status records written by hand or by older versions. */
  kind?: JobKind;
  status: JobStatus;
  updatedAt: string;
  /** Who runs it: another window must not offer to resume a job that is alive elsewhere. */
  pid?: number;
  host?: string;
  total: number;
  done: number;
  failed: number;
  bibFiles: string[];
  /** `I/N` when the job took one shard of the entries. */
  shard?: string;
  /** API requests per service during the job. */
  requests?: Record<string, number>;
  entries: Record<string, JobEntryState>;
}

/**
 * What the writer accepts: the runner's full state, or a status change of a state read back (the
 * writer stamps `updatedAt` and the version). Extra fields are kept as they are.
 */
export type JobStateInput = JobStateV1 | ({ id: string; status: string; updatedAt?: string } & Record<string, unknown>);

const bad = (why: string) => new ScholarError('E_BAD_JOB_STATE', `job state: ${why}`);

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

/** Validates a parsed job file. Throws E_BAD_JOB_STATE for what cannot be a job; fills what older files lack. */
export function parseJobState(raw: unknown): JobStateV1 {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('not an object');
  const r = raw as Record<string, unknown>;
  const version = r.version ?? 0;
  if (version !== 0 && version !== 1) throw bad(`version ${String(version)} is newer than this Scholar`);
  if (typeof r.id !== 'string' || !r.id) throw bad('no id');
  if (!(JOB_STATUSES as readonly unknown[]).includes(r.status)) throw bad(`unknown status ${JSON.stringify(r.status)}`);
  if (r.kind !== undefined && r.kind !== 'resolve' && r.kind !== 'fetch') throw bad(`unknown kind ${JSON.stringify(r.kind)}`);
  const entries: Record<string, JobEntryState> = {};
  if (r.entries && typeof r.entries === 'object' && !Array.isArray(r.entries)) {
    for (const [k, e] of Object.entries(r.entries as Record<string, unknown>)) {
      // One unreadable entry record costs that entry a redo, not the whole job.
      if (!e || typeof e !== 'object' || typeof (e as JobEntryState).outcome !== 'string') continue;
      const x = e as JobEntryState;
      entries[k] = { outcome: x.outcome, ...(typeof x.reason === 'string' ? { reason: x.reason } : {}), ...(typeof x.permanent === 'boolean' ? { permanent: x.permanent } : {}) };
    }
  }
  const requests = r.requests && typeof r.requests === 'object' && !Array.isArray(r.requests)
    ? Object.fromEntries(Object.entries(r.requests as Record<string, unknown>).map(([k, v]) => [k, num(v)]))
    : undefined;
  return {
    version: 1,
    id: r.id,
    ...(r.kind ? { kind: r.kind as JobKind } : {}),
    status: r.status as JobStatus,
    updatedAt: typeof r.updatedAt === 'string' ? r.updatedAt : new Date(0).toISOString(),
    ...(typeof r.pid === 'number' ? { pid: r.pid } : {}),
    ...(typeof r.host === 'string' ? { host: r.host } : {}),
    total: num(r.total),
    done: num(r.done),
    failed: num(r.failed),
    bibFiles: Array.isArray(r.bibFiles) ? r.bibFiles.filter((b): b is string => typeof b === 'string') : [],
    ...(typeof r.shard === 'string' ? { shard: r.shard } : {}),
    ...(requests ? { requests } : {}),
    entries,
  };
}

/** Keys that finished (done or permanently failed): a resumed run skips them. */
export function finishedKeys(state: JobStateV1): Set<string> {
  return new Set(Object.entries(state.entries).filter(([, e]) => !!e.outcome && e.outcome !== 'cancelled' && (e.outcome !== 'failed' || e.permanent)).map(([k]) => k));
}
