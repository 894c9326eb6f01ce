// Per-service HTTP policy: the one place where rate, concurrency, retry, breaker and timeout
// defaults live. Defaults follow each API's published etiquette; see docs/decisions.md
// ("HTTP policy and service etiquette") for the sources.

import { SERVICE_NAMES, type ServiceName } from '../services';

// The names live in core/services.ts; re-exported for the callers that reach them through the policy.
export { DEFAULT_ENDPOINTS, SERVICE_NAMES, type ServiceName } from '../services';

/** At most `requests` request starts in any window of `intervalMs`. */
export interface RateLimit {
  requests: number;
  intervalMs: number;
}

export interface BreakerPolicy {
  /** Consecutive transient failures that open the circuit. */
  failureThreshold: number;
  /** Time the circuit stays open before one half-open probe is let through. */
  cooldownMs: number;
}

export interface TimeoutPolicy {
  connectMs: number;
  /** Time to receive the response headers after sending. */
  headersMs: number;
  /** Longest silence between two body chunks. */
  bodyIdleMs: number;
}

export interface ServicePolicy {
  rate: RateLimit;
  concurrency: number;
  /** Extra, lower rate applied to requests marked `bucket: 'search'` (shares the concurrency). */
  searchRate?: RateLimit;
  maxRetries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A Retry-After longer than this is not waited out; the request fails with its 429/503. */
  maxRetryAfterMs: number;
  breaker: BreakerPolicy;
  timeouts: TimeoutPolicy;
  /** Follow x-rate-limit-* / x-concurrency-limit response headers (never above the configured limits). */
  adaptFromHeaders: boolean;
  /** Limits apply per target host instead of per service (PDF downloads from arbitrary hosts). */
  perHost: boolean;
  /**
   * The service bills usage and reports it in X-RateLimit-* headers (OpenAlex since Feb 2026): a
   * spent budget or a refusal for lack of a key stops the service for the rest of the job.
   */
  usageBudget?: boolean;
}

export type PolicyOverride = Partial<Omit<ServicePolicy, 'breaker' | 'timeouts'>> & {
  breaker?: Partial<BreakerPolicy>;
  timeouts?: Partial<TimeoutPolicy>;
};
export type PolicyOverrides = Partial<Record<ServiceName, PolicyOverride>>;


export type ResponseKind = 'json' | 'html' | 'pdf' | 'text';

export const DEFAULT_MAX_BYTES: Record<ResponseKind, number> = {
  json: 5 * 1024 * 1024,
  html: 2 * 1024 * 1024,
  pdf: 100 * 1024 * 1024,
  text: 5 * 1024 * 1024,
};

const SECOND = 1000;

function base(rate: RateLimit, concurrency: number): ServicePolicy {
  return {
    rate,
    concurrency,
    maxRetries: 3,
    backoffBaseMs: 500,
    backoffMaxMs: 30 * SECOND,
    maxRetryAfterMs: 5 * 60 * SECOND,
    breaker: { failureThreshold: 5, cooldownMs: 30 * SECOND },
    timeouts: { connectMs: 10 * SECOND, headersMs: 30 * SECOND, bodyIdleMs: 30 * SECOND },
    adaptFromHeaders: false,
    perHost: false,
  };
}

/**
 * Defaults from published etiquette. `polite` = a contact email is configured, which puts
 * Crossref requests in its polite pool (higher limits) instead of the public pool.
 */
export function defaultPolicies(polite: boolean): Record<ServiceName, ServicePolicy> {
  const crossref = polite
    ? { ...base({ requests: 10, intervalMs: SECOND }, 3), searchRate: { requests: 3, intervalMs: SECOND } }
    : { ...base({ requests: 5, intervalMs: SECOND }, 1), searchRate: { requests: 1, intervalMs: SECOND } };
  crossref.adaptFromHeaders = true;
  return {
    crossref,
    openalex: { ...base({ requests: 10, intervalMs: SECOND }, 5), usageBudget: true },
    semanticScholar: base({ requests: 1, intervalMs: SECOND }, 1),
    arxiv: { ...base({ requests: 1, intervalMs: 3 * SECOND }, 1), backoffBaseMs: 3 * SECOND },
    unpaywall: base({ requests: 10, intervalMs: SECOND }, 5),
    doi: base({ requests: 10, intervalMs: SECOND }, 5),
    pdf: {
      ...base({ requests: 2, intervalMs: SECOND }, 2),
      // A publisher host that fails for a few papers is not down: open only after many requests fail in a row.
      breaker: { ...base({ requests: 2, intervalMs: SECOND }, 2).breaker, failureThreshold: 8 },
      perHost: true,
      timeouts: { connectMs: 15 * SECOND, headersMs: 60 * SECOND, bodyIdleMs: 60 * SECOND },
    },
  };
}

export function resolvePolicies(polite: boolean, overrides?: PolicyOverrides): Record<ServiceName, ServicePolicy> {
  const out = defaultPolicies(polite);
  if (!overrides) return out;
  for (const name of SERVICE_NAMES) {
    const o = overrides[name];
    if (!o) continue;
    const cur = out[name];
    out[name] = {
      ...cur,
      ...o,
      breaker: { ...cur.breaker, ...(o.breaker ?? {}) },
      timeouts: { ...cur.timeouts, ...(o.timeouts ?? {}) },
    } as ServicePolicy;
  }
  return out;
}

/** A rate in requests per second (as the settings and --limit give it) as a RateLimit; below 1 it becomes 1 per interval. */
export function rateFromPerSecond(rps: number): RateLimit {
  return rps >= 1 ? { requests: Math.round(rps), intervalMs: SECOND } : { requests: 1, intervalMs: Math.round(SECOND / rps) };
}

/** Parses `x-rate-limit-interval` values such as `1s`, `500ms`, `1m`. */
export function parseIntervalHeader(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const ms = unit === 'ms' ? n : unit === 's' ? n * SECOND : unit === 'm' ? n * 60 * SECOND : n * 3600 * SECOND;
  return ms > 0 ? ms : undefined;
}

/** Retry-After is either delta-seconds or an HTTP date; returns milliseconds from `now`. */
export function parseRetryAfter(v: string | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.max(0, Math.round(Number(t) * SECOND));
  const d = Date.parse(t);
  if (Number.isNaN(d)) return undefined;
  return Math.max(0, d - now);
}

/** Jittered exponential backoff ("equal jitter"): half fixed, half random, so retries spread out but still grow. */
export function backoffDelay(attempt: number, policy: Pick<ServicePolicy, 'backoffBaseMs' | 'backoffMaxMs'>, rnd = Math.random): number {
  const exp = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** attempt);
  return Math.round(exp / 2 + rnd() * (exp / 2));
}

export const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
