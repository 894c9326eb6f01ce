/**
 * Resuming after a crash or a closed window: job state in storage/jobs/<id>.json says which
 * entries were finished. A job whose state is still "running" was interrupted.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { hostname } from 'node:os';
import { storagePaths } from '../storage/layout';
import { isPidAlive } from '../storage/locks';
import { ACTIVE_STATUSES, finishedKeys, parseJobState, type JobKind, type JobStateV1 } from '../storage/jobState';

export interface InterruptedJob {
  id: string;
  kind: JobKind;
  bibFiles: string[];
  /** Keys that finished (done or permanently failed): a resumed run skips them. */
  finished: Set<string>;
  total: number;
  /** The state as read: the host writes it back with its new status (resumed, discarded). */
  raw: JobStateV1;
}

export async function interruptedJobs(storageRoot: string): Promise<InterruptedJob[]> {
  const dir = storagePaths(storageRoot).jobs;
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
  } catch {
    return [];
  }
  const out: InterruptedJob[] = [];
  for (const n of names) {
    try {
      const state = parseJobState(JSON.parse(await readFile(path.join(dir, n), 'utf8')));
      if (!ACTIVE_STATUSES.includes(state.status) || !state.kind) continue;
      if (state.host === hostname() && state.pid !== undefined && state.pid !== process.pid && isPidAlive(state.pid)) continue;
      out.push({ id: state.id, kind: state.kind, bibFiles: state.bibFiles, finished: finishedKeys(state), total: state.total, raw: state });
    } catch {
      // A job file that does not parse is not a job to resume (the writer never leaves one half-written).
    }
  }
  return out.sort((a, b) => b.id.localeCompare(a.id));
}
