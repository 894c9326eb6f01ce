/**
 * Messages between the extension host and the dashboard webview. Typed unions keyed on `type`.
 * The host sends nothing before the webview says `ready`; then full snapshots with an increasing
 * sequence number (never partial patches). Every inbound message is validated before use.
 */
import type { CommandId } from './commands';

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
  /** The error code (shown in a tooltip; Retry names it). */
  reason: string;
  /** The code's short human label from the error registry (the heading a person reads). */
  label: string;
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

/** One result of a library search, as the dashboard shows it (all text is inserted as text). */
export interface SearchHitView {
  key: string;
  title: string;
  authors: string;
  year: number | null;
  venue: string;
  hasPdf: boolean;
  doi: string | null;
  doiStatus: string;
  /** Whether a .bib of the workspace has this key (so "Go to entry" can open it). */
  inProject: boolean;
  /** The query's words in the paper's full text, with some context around them. */
  snippet?: { before: string; hit: string; after: string };
}

export type HostToWebview =
  | { type: 'snapshot'; snapshot: DashboardSnapshot }
  /** The answer to a `search`; `id` is the request's, so a late answer to an older query is dropped. */
  | { type: 'searchResults'; id: number; query: string; hits: SearchHitView[]; ms: number; error?: string }
  /** Puts a query into the search box and runs it (the "search the library" command). */
  | { type: 'setQuery'; query: string };

export type WebviewCommand = 'resolve' | 'fetch' | 'cancel' | 'pause' | 'resume' | 'retryFailed' | 'retryReason' | 'openLog';

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'command'; command: WebviewCommand; reason?: string }
  | { type: 'search'; id: number; query: string }
  | { type: 'open'; key: string; what: 'pdf' | 'bib' }
  /** The webview rendered the results of search `id` (the keys in order): logged, and awaited by tests. */
  | { type: 'searchRendered'; id: number; query: string; keys: string[]; snippets?: string[] }
  /** The webview changed its live status line (read out by screen readers): `live` lists the ids of its aria-live regions. Awaited by tests. */
  | { type: 'announced'; text: string; live: string[] };

export const MAX_QUERY_LENGTH = 1000;

/** The command each dashboard button runs (`retryReason` passes the reason as the argument). */
export const WEBVIEW_COMMAND_IDS: Readonly<Record<WebviewCommand, CommandId>> = {
  resolve: 'scholar.resolveAllDois',
  fetch: 'scholar.fetchPdfs',
  cancel: 'scholar.cancel',
  pause: 'scholar.pause',
  resume: 'scholar.resume',
  retryFailed: 'scholar.retryFailed',
  retryReason: 'scholar.retryFailed',
  openLog: 'scholar.showLog',
};

const COMMANDS = Object.keys(WEBVIEW_COMMAND_IDS) as readonly WebviewCommand[];

/** Validates a message from the webview; anything else is dropped. */
export function parseWebviewMessage(raw: unknown): WebviewToHost | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const m = raw as Record<string, unknown>;
  if (m.type === 'ready') return { type: 'ready' };
  if (m.type === 'command' && typeof m.command === 'string' && (COMMANDS as readonly string[]).includes(m.command)) {
    const reason = typeof m.reason === 'string' && m.reason.length <= 64 && /^[A-Z0-9_]+$/.test(m.reason) ? m.reason : undefined;
    return { type: 'command', command: m.command as WebviewCommand, reason };
  }
  const isId = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) < 2 ** 31;
  const isKey = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= 1000;
  if (m.type === 'search' && isId(m.id) && typeof m.query === 'string' && m.query.length <= MAX_QUERY_LENGTH) return { type: 'search', id: m.id, query: m.query };
  if (m.type === 'open' && isKey(m.key) && (m.what === 'pdf' || m.what === 'bib')) return { type: 'open', key: m.key, what: m.what };
  if (m.type === 'searchRendered' && isId(m.id) && typeof m.query === 'string' && m.query.length <= MAX_QUERY_LENGTH && Array.isArray(m.keys) && m.keys.length <= 10_000 && m.keys.every(isKey)) {
    // The text each result's snippet line shows ('' for none), in the order of `keys`.
    const snippets = Array.isArray(m.snippets) && m.snippets.length === m.keys.length && m.snippets.every((s) => typeof s === 'string' && s.length <= 2000) ? (m.snippets as string[]) : undefined;
    return { type: 'searchRendered', id: m.id, query: m.query, keys: m.keys as string[], ...(snippets ? { snippets } : {}) };
  }
  if (m.type === 'announced' && typeof m.text === 'string' && m.text.length <= 1000 && Array.isArray(m.live) && m.live.length <= 50 && m.live.every((x) => typeof x === 'string' && x.length <= 100)) {
    return { type: 'announced', text: m.text, live: m.live as string[] };
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
