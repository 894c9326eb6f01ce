/**
 * Messages between the extension host and the dashboard webview. Typed unions keyed on `type`.
 * The host sends nothing before the webview says `ready`; then full snapshots with an increasing
 * sequence number (never partial patches). Every inbound message is validated before use.
 */

export interface StageView {
  name: string;
  queued: number;
  active: number;
  done: number;
  failed: number;
  throughputPerMin: number;
}

export interface ServiceView {
  service: string;
  requests: number;
  inFlight: number;
  /** Requests in the last second, against the configured limit. */
  ratePerSec: number;
  limitPerSec: number;
  concurrency: number;
  status429: number;
  retries: number;
  circuit: 'closed' | 'open' | 'half-open';
}

export interface ErrorGroupView {
  reason: string;
  message: string;
  count: number;
  permanent: boolean;
  keys: string[];
}

export interface ActivityView {
  at: number;
  text: string;
  level: 'info' | 'warn' | 'error';
}

export interface JobView {
  id: string;
  kind: 'resolve' | 'fetch';
  state: 'running' | 'paused' | 'cancelling' | 'done' | 'cancelled';
  title: string;
  total: number;
  done: number;
  failed: number;
  elapsedMs: number;
  etaMs: number | null;
  outcomes: Record<string, number>;
}

export interface DashboardSnapshot {
  seq: number;
  job: JobView | null;
  stages: StageView[];
  services: ServiceView[];
  errors: ErrorGroupView[];
  activity: ActivityView[];
  /** Items finished per 10 s bucket, oldest first (for the throughput chart). */
  throughput: number[];
  library: { entries: number; withDoi: number; withPdf: number; needsReview: number };
  trusted: boolean;
}

export type HostToWebview = { type: 'snapshot'; snapshot: DashboardSnapshot };

export type WebviewCommand = 'resolve' | 'fetch' | 'cancel' | 'pause' | 'resume' | 'retryFailed' | 'retryReason' | 'openLog';

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'command'; command: WebviewCommand; reason?: string };

const COMMANDS: readonly WebviewCommand[] = ['resolve', 'fetch', 'cancel', 'pause', 'resume', 'retryFailed', 'retryReason', 'openLog'];

/** Validates a message from the webview; anything else is dropped. */
export function parseWebviewMessage(raw: unknown): WebviewToHost | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const m = raw as Record<string, unknown>;
  if (m.type === 'ready') return { type: 'ready' };
  if (m.type === 'command' && typeof m.command === 'string' && (COMMANDS as readonly string[]).includes(m.command)) {
    const reason = typeof m.reason === 'string' && m.reason.length <= 64 && /^[A-Z0-9_]+$/.test(m.reason) ? m.reason : undefined;
    return { type: 'command', command: m.command as WebviewCommand, reason };
  }
  return undefined;
}

export function emptySnapshot(seq = 0): DashboardSnapshot {
  return {
    seq,
    job: null,
    stages: [],
    services: [],
    errors: [],
    activity: [],
    throughput: [],
    library: { entries: 0, withDoi: 0, withPdf: 0, needsReview: 0 },
    trusted: true,
  };
}
