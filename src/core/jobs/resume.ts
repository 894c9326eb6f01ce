/**
 * Resuming after a crash or a closed window: job state in storage/jobs/<id>.json says which
 * entries were finished. A job whose state is still "running" was interrupted.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { hostname } from 'node:os';
import { storagePaths } from '../storage/layout';
import { isPidAlive } from '../storage/locks';
import type { JobKind } from './run';

export interface InterruptedJob {
  id: string;
  kind: JobKind;
  bibFiles: string[];
  /** Keys that finished (done or permanently failed): a resumed run skips them. */
  finished: Set<string>;
  total: number;
  raw: Record<string, unknown>;
}

const ACTIVE = new Set(['running', 'paused', 'cancelling']);

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
      const raw = JSON.parse(await readFile(path.join(dir, n), 'utf8')) as Record<string, unknown>;
      if (!ACTIVE.has(String(raw.status)) || (raw.kind !== 'resolve' && raw.kind !== 'fetch')) continue;
      if (raw.host === hostname() && typeof raw.pid === 'number' && raw.pid !== process.pid && isPidAlive(raw.pid)) continue;
      const entries = (raw.entries ?? {}) as Record<string, { outcome?: string; permanent?: boolean }>;
      const finished = new Set(Object.entries(entries).filter(([, e]) => e.outcome && e.outcome !== 'cancelled' && (e.outcome !== 'failed' || e.permanent)).map(([k]) => k));
      out.push({ id: String(raw.id), kind: raw.kind, bibFiles: Array.isArray(raw.bibFiles) ? raw.bibFiles.map(String) : [], finished, total: Number(raw.total) || 0, raw });
    } catch {
      // A job file that does not parse is not a job to resume (the writer never leaves one half-written).
    }
  }
  return out.sort((a, b) => b.id.localeCompare(a.id));
}
