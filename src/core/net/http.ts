// Scholar's single HTTP layer. It owns its undici Agent (the extension host is shared with other
// extensions, so the global dispatcher is never touched) and applies the per-service policy from
// ./policy before anything is sent: admission (rate + concurrency), circuit breaker, retries with
// jittered backoff and Retry-After, manual redirects with per-hop checks, and size caps.
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { ScholarError } from '../errors';
import { SCHOLAR_VERSION } from '../version';
import type { Dispatcher } from 'undici';
import { memorySink, streamBody } from './body';
import { abortError, CircuitBreaker, Gate, type CircuitState, type GateTicket } from './gate';
import type { NetIssue, NetIssueCode } from './issues';
import { ANSWERED, DEPARTURE, Network, type NetworkOptions, type Route } from './network';
import {
  backoffDelay,
  DEFAULT_ENDPOINTS,
  DEFAULT_MAX_BYTES,
  parseIntervalHeader,
  parseRetryAfter,
  resolvePolicies,
  TRANSIENT_STATUS,
  type PolicyOverrides,
  type RateLimit,
  type ResponseKind,
  type ServiceName,
  type ServicePolicy,
} from './policy';

export { SCHOLAR_VERSION };
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
/** Headers that carry credentials or identity and must not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization', 'x-api-key', 'api-key'];
/** Query parameters redacted from every logged or reported URL. */
const SECRET_PARAMS = ['mailto', 'email', 'api_key', 'apikey', 'key', 'token'];

export interface HttpLogEvent {
  service: ServiceName;
  method: string;
  /** Redacted: no email, no API key. */
  url: string;
  status?: number;
  code?: string;
  attempt: number;
  ms: number;
  /** When the request's bytes started going out (epoch ms, sub-millisecond), if they did. */
  departedAt?: number;
  /** When the answer's status line arrived (epoch ms), if it did: the gate's window rule counts from it. */
  answeredAt?: number;
}

export interface HttpOptions {
  /** Contact address: goes into the User-Agent, Crossref/OpenAlex `mailto` and Unpaywall `email`. */
  email?: string;
  version?: string;
  /** Replaces a service's origin (may carry a path prefix); clients append the documented paths. */
  endpoints?: Partial<Record<ServiceName, string>>;
  policies?: PolicyOverrides;
  apiKeys?: { openalex?: string; semanticScholar?: string };
  maxBytes?: Partial<Record<ResponseKind, number>>;
  maxRedirects?: number;
  log?: (e: HttpLogEvent) => void;
  /** Proxy and certificates (VS Code's `http.*` settings, or the CLI's environment and --proxy). */
  network?: NetworkOptions;
  /**
   * A file shared by the Scholar processes of this user: each lane's next allowed departure per
   * origin is read at the start and written at close, so one process's first requests respect the
   * previous one's last. Default: none.
   */
  pacingFile?: string;
  /** Injectable for deterministic tests of the jitter. */
  random?: () => number;
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD' | 'POST';
  /** A JSON body (POST only), e.g. Semantic Scholar's batch lookup; read-only requests, so retries are safe. */
  jsonBody?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  kind?: ResponseKind;
  maxBytes?: number;
  signal?: AbortSignal;
  /** Non-2xx statuses returned as responses instead of thrown (e.g. [404] for "not found → null"). */
  allowStatus?: number[];
  /** `search` requests are additionally limited by the policy's `searchRate`. */
  bucket?: 'search';
  /** Overrides the policy's retry count for this call. */
  maxRetries?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** Final URL after redirects (redacted of email/keys). */
  url: string;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  maxBytes?: number;
  onProgress?: (received: number, total?: number) => void;
  headers?: Record<string, string>;
  /** `pdf`: the body must start with a PDF header (within its first KB), else E_NOT_PDF. */
  expect?: 'pdf';
  service?: ServiceName;
}

export interface DownloadResult {
  bytes: number;
  sha256: string;
  contentType?: string;
  finalUrl: string;
}

export interface ServiceStats {
  key: string;
  service: ServiceName;
  requests: number;
  inFlight: number;
  queued: number;
  ok: number;
  failures: number;
  retries: number;
  status429: number;
  circuit: CircuitState;
  limits: { rate: RateLimit; concurrency: number; searchRate?: RateLimit; adaptedFromHeaders: boolean; jitterMarginMs: number };
  pausedUntil?: number;
  /** The usage budget the service last reported (OpenAlex's X-RateLimit-* headers). */
  budget?: UsageBudget;
}

/** OpenAlex's usage headers as last seen (https://developers.openalex.org/api-reference/authentication). */
export interface UsageBudget {
  /** X-RateLimit-Limit / -Remaining: daily credits. */
  limit?: number;
  remaining?: number;
  /** X-RateLimit-Limit-USD / -Remaining-USD / -Cost-USD: the same budget in dollars, and this call's cost. */
  limitUsd?: number;
  remainingUsd?: number;
  costUsd?: number;
  /** X-RateLimit-Reset: seconds until the daily reset (midnight UTC). */
  resetSeconds?: number;
  at: number;
}

/** Per-job network state: services that cannot be reached (or refuse us) are not asked again until the job ends. */
export interface NetScope {
  readonly issues: readonly NetIssue[];
  end(): void;
}

interface ScopeState {
  down: Map<string, ScholarError>;
  issues: NetIssue[];
  onIssue?: (issue: NetIssue) => void;
  ended: boolean;
}

interface Lane {
  key: string;
  service: ServiceName;
  gate: Gate;
  breaker: CircuitBreaker;
  stats: { requests: number; ok: number; failures: number; retries: number; status429: number };
  adapted: boolean;
  budget?: UsageBudget;
  /** Origins this lane has sent to (the pacing file is per lane and origin). */
  origins: Set<string>;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    for (const p of SECRET_PARAMS) if (u.searchParams.has(p)) u.searchParams.set(p, '***');
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/([?&](?:mailto|email|api_key|key|token)=)[^&]*/gi, '$1***');
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function transient(err: unknown): { transient: boolean; retryAfterMs?: number } {
  if (!(err instanceof ScholarError)) return { transient: false };
  if (err.code === 'E_NETWORK' || err.code === 'E_TIMEOUT') return { transient: true };
  if (err.code === 'E_HTTP_STATUS') {
    const status = err.details?.status as number;
    return { transient: TRANSIENT_STATUS.has(status), retryAfterMs: err.details?.retryAfterMs as number | undefined };
  }
  return { transient: false };
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
  'UND_ERR_PRX_TLS',
]);

/**
 * Crossref's list routes (`/works`, `/members/{id}/works`, …): it counts every request to them —
 * searches and filter lists alike, batch lookups by `filter=doi:…` too — in its list limit (3 req/s
 * polite), so they take the search sub-rate even when the caller did not ask for it.
 */
const CROSSREF_LIST = /^\/(?:(?:members|journals|funders|prefixes|types)\/[^/?]+\/)?works\/?(?:\?|$)/;

/** The most telling error code of a transport failure (undici, Node's net/dns/tls, or an AggregateError of several addresses). */
function transportCode(err: unknown): string {
  const e = err as { code?: string; errors?: { code?: string }[]; cause?: { code?: string } };
  return e?.code && e.code !== 'UND_ERR_SOCKET' ? e.code : (e?.errors?.find((x) => x?.code)?.code ?? e?.cause?.code ?? e?.code ?? '');
}

const CAUSE_TEXT: Record<string, string> = {
  ENOTFOUND: 'DNS lookup failed',
  EAI_AGAIN: 'DNS lookup failed',
  EAI_FAIL: 'DNS lookup failed',
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  ETIMEDOUT: 'connect timed out',
};

interface Classified {
  error: ScholarError;
  /** A failure to connect at all (or a refusal for the job): the service is not asked again in this job. */
  down?: { code: NetIssueCode; cause: string };
}

/**
 * Maps a transport failure to a ScholarError. Failures to connect at all (DNS, refused, connect
 * timeout, certificate, proxy) are not retried: the next attempt half a second later meets the same
 * network, and a 27-entry job would otherwise spend 40 s retrying each entry (issue 15).
 */
function classifyTransport(err: unknown, signal: AbortSignal | undefined, url: string, route: Route | undefined): Classified {
  if (err instanceof ScholarError) return { error: err };
  if (signal?.aborted) return { error: abortError(signal) };
  const code = transportCode(err);
  const message = (err as Error)?.message ?? String(err);
  const proxy = route?.proxy;
  const tunnel = /^Proxy response \((\d{3})\) !== 200/.exec(message);
  // A CONNECT answered 401 is the proxy's too (tinyproxy says 401 to wrong credentials).
  if (/Proxy Authentication Required \(407\)/.test(message) || tunnel?.[1] === '407' || tunnel?.[1] === '401') {
    const e = new ScholarError('E_PROXY_AUTH', `Proxy ${proxy ?? ''} requires authentication (407)`, { url, proxy, cause: '407' }, { cause: err });
    return { error: e, down: { code: 'E_PROXY_AUTH', cause: tunnel?.[1] === '401' ? 'it refused the credentials (401 to CONNECT)' : 'it answered 407 Proxy Authentication Required' } };
  }
  if (tunnel) {
    const st = Number(tunnel[1]);
    // 403: the proxy's rules refuse this target; 5xx: the proxy could not reach it.
    const down = st === 403 ? { code: 'E_PROXY' as const, cause: `it refused to open a tunnel (${st})` } : { code: 'E_UNREACHABLE' as const, cause: `the proxy answered ${st} to CONNECT` };
    return { error: new ScholarError(down.code, `${down.cause} (${url})`, { url, proxy, cause: String(st) }, { cause: err }), down };
  }
  const name = (err as { name?: string })?.name ?? '';
  if (name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') return { error: abortError(signal) };
  if (TLS_CODES.has(code)) {
    const cause = `TLS certificate not accepted (${code})`;
    return { error: new ScholarError('E_TLS', `${cause}: ${url}`, { url, proxy, cause: code }, { cause: err }), down: { code: 'E_TLS', cause } };
  }
  if (DNS_CODES.has(code) || CONNECT_CODES.has(code)) {
    const cause = `${CAUSE_TEXT[code] ?? 'cannot connect'} (${code})`;
    // Through a proxy, a failed connect is the proxy's: the target is reached by the proxy, not by us.
    const down = proxy ? { code: 'E_PROXY' as const, cause: `cannot connect to the proxy: ${cause}` } : { code: 'E_UNREACHABLE' as const, cause };
    return { error: new ScholarError(down.code, `${down.cause}: ${url}`, { url, proxy, cause: code }, { cause: err }), down };
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return { error: new ScholarError('E_TIMEOUT', `Timed out (${code})`, { url, cause: code }, { cause: err }) };
  return { error: new ScholarError('E_NETWORK', `Network error: ${message}`, { url, cause: code }, { cause: err }) };
}

function mapTransportError(err: unknown, signal: AbortSignal | undefined, url: string): ScholarError {
  return classifyTransport(err, signal, url, undefined).error;
}

const num = (v: string | undefined): number | undefined => {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v.replace(/^\$/, ''));
  return Number.isFinite(n) ? n : undefined;
};

/** Reads OpenAlex's X-RateLimit-* headers (credits and dollars); undefined when none is present. */
export function readUsageBudget(h: Record<string, string>, at = Date.now()): UsageBudget | undefined {
  const b: UsageBudget = {
    limit: num(h['x-ratelimit-limit']),
    remaining: num(h['x-ratelimit-remaining']),
    limitUsd: num(h['x-ratelimit-limit-usd']),
    remainingUsd: num(h['x-ratelimit-remaining-usd']),
    costUsd: num(h['x-ratelimit-cost-usd']),
    resetSeconds: num(h['x-ratelimit-reset']),
    at,
  };
  return Object.values(b).filter((v) => v !== undefined).length > 1 ? b : undefined;
}

/**
 * OpenAlex refusals that no retry within this job can fix: a spent daily budget (429 with nothing
 * left, or a Retry-After beyond what we wait out), or a refusal for lack of a valid key (401/403).
 * A 429 with budget left is the 100 req/s ceiling, which the ordinary retry handles.
 */
function budgetRefusal(status: number, h: Record<string, string>, body: string, hasKey: boolean, maxRetryAfterMs: number): { code: NetIssueCode; cause: string } | undefined {
  const b = readUsageBudget(h);
  const text = body.slice(0, 300).replace(/\s+/g, ' ');
  if (status === 401 || (status === 403 && /key/i.test(text)))
    return { code: 'E_KEY_REQUIRED', cause: `${status}${hasKey ? ', the API key was not accepted' : ', no API key is configured'}${text ? ` ("${text.slice(0, 120)}")` : ''}` };
  if (status !== 429 && status !== 403) return undefined;
  const retryAfter = parseRetryAfter(h['retry-after']);
  const spent = (b?.remainingUsd !== undefined && b.remainingUsd <= 0) || b?.remaining === 0 || (retryAfter !== undefined && retryAfter > maxRetryAfterMs);
  if (!spent && status === 429) return undefined;
  const left = b?.remainingUsd !== undefined ? `$${b.remainingUsd} of $${b.limitUsd ?? '?'} left` : b?.remaining !== undefined ? `${b.remaining} of ${b.limit ?? '?'} credits left` : 'no budget left';
  const reset = b?.resetSeconds !== undefined ? `, resets in ${Math.round(b.resetSeconds / 3600)} h` : '';
  return { code: 'E_QUOTA_EXHAUSTED', cause: `${status}, daily allowance used up (${left}${reset})${hasKey ? '' : ' — requests without an API key get only a tiny allowance'}` };
}

async function readSmall(body: { [Symbol.asyncIterator](): AsyncIterator<Buffer | string> }, max = 16_384): Promise<string> {
  let out = '';
  try {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      if (out.length < max) out += chunk.toString();
    }
  } catch {
    // a broken error body tells us nothing more
  }
  return out.slice(0, max);
}

/** Fails with E_NOT_PDF unless `%PDF-` appears within the first KB (the PDF spec tolerates leading junk). */
function pdfSniffer(url: string): Transform {
  let head = Buffer.alloc(0);
  let decided = false;
  const check = (final: boolean): ScholarError | null | undefined => {
    if (decided) return null;
    if (head.includes('%PDF-')) return (decided = true), null;
    if (head.length >= 1024 || final) {
      decided = true;
      const sample = head.subarray(0, 64).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
      return new ScholarError('E_NOT_PDF', 'Response is not a PDF', { url, sample });
    }
    return undefined;
  };
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      if (!decided) head = Buffer.concat([head, chunk]).subarray(0, 2048);
      const r = check(false);
      cb(r ?? null, chunk);
    },
    flush(cb) {
      cb(check(true) ?? null);
    },
  });
}

export class ScholarHttp {
  readonly userAgent: string;
  private readonly policies: Record<ServiceName, ServicePolicy>;
  private readonly lanes = new Map<string, Lane>();
  private networks = new Map<number, Network>();
  /** Next allowed departure per `lane@origin`, left by the previous process (epoch ms). */
  private readonly pacing: Record<string, number> = {};
  private scope: ScopeState | undefined;
  private readonly maxRedirects: number;
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly opts: HttpOptions = {}) {
    const email = opts.email?.trim() || undefined;
    this.userAgent = `Scholar/${opts.version ?? SCHOLAR_VERSION} (https://github.com/scholar-vscode/scholar${email ? `; mailto:${email}` : ''})`;
    this.policies = resolvePolicies(Boolean(email), opts.policies);
    this.maxRedirects = opts.maxRedirects ?? 5;
    this.random = opts.random ?? Math.random;
    if (opts.pacingFile) {
      try {
        const saved = JSON.parse(readFileSync(opts.pacingFile, 'utf8')) as Record<string, unknown>;
        const now = Date.now();
        for (const [k, v] of Object.entries(saved)) if (typeof v === 'number' && v > now && v < now + 10 * 60_000) this.pacing[k] = v;
      } catch {
        // no file yet, or a broken one: nothing to respect
      }
    }
  }

  get email(): string | undefined {
    return this.opts.email?.trim() || undefined;
  }

  /** A key set (or removed) by the user applies to the next request. */
  setApiKeys(keys: { openalex?: string; semanticScholar?: string }): void {
    this.opts.apiKeys = { ...keys };
  }

  apiKey(service: 'openalex' | 'semanticScholar'): string | undefined {
    return this.opts.apiKeys?.[service] || undefined;
  }

  policy(service: ServiceName): ServicePolicy {
    return this.policies[service];
  }

  /** Base URL of a service (configured endpoint or the public origin), without trailing slash. */
  base(service: ServiceName): string {
    const b = this.opts.endpoints?.[service] ?? (service === 'pdf' ? '' : DEFAULT_ENDPOINTS[service]);
    return b.replace(/\/+$/, '');
  }

  /** Builds a service URL and adds the identification parameter the service asks for. */
  url(service: ServiceName, path: string, query?: Record<string, string | number | undefined>): string {
    const u = new URL(this.base(service) + (path.startsWith('/') ? path : `/${path}`));
    // URL() would re-encode nothing here; we keep the caller's path bytes as given.
    const params = new URLSearchParams(u.search);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') params.set(k, String(v));
    const email = this.email;
    if (email && (service === 'crossref' || service === 'openalex') && !params.has('mailto')) params.set('mailto', email);
    if (email && service === 'unpaywall' && !params.has('email')) params.set('email', email);
    const qs = params.toString();
    return `${u.origin}${u.pathname}${qs ? `?${qs}` : ''}`;
  }

  async request(service: ServiceName, target: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(target) ? target : this.url(service, target, opts.query);
    if (!opts.bucket && service === 'crossref' && CROSSREF_LIST.test(target)) opts = { ...opts, bucket: 'search' };
    const kind = opts.kind ?? 'json';
    const maxBytes = opts.maxBytes ?? this.opts.maxBytes?.[kind] ?? DEFAULT_MAX_BYTES[kind];
    return this.execute(service, url, opts, async (res, finalUrl) => {
      const { sink, result } = memorySink();
      await streamBody(res.body, res.headers['content-encoding'], { maxBytes, maxDecodedBytes: maxBytes }, sink, {
        signal: opts.signal,
        url: redactUrl(finalUrl),
      });
      const body = result();
      const redacted = redactUrl(finalUrl);
      return {
        status: res.status,
        headers: res.headers,
        url: redacted,
        body,
        text: () => body.toString('utf8'),
        json: <T>() => {
          try {
            return JSON.parse(body.toString('utf8')) as T;
          } catch (err) {
            throw new ScholarError('E_BAD_JSON', `Invalid JSON from ${service}`, { url: redacted, status: res.status }, { cause: err });
          }
        },
      };
    });
  }

  /** GET + JSON parse; returns null for statuses listed in `nullOn` (typically 404). */
  async getJson<T>(service: ServiceName, path: string, opts: RequestOptions & { nullOn?: number[] } = {}): Promise<T | null> {
    const nullOn = opts.nullOn ?? [];
    const res = await this.request(service, path, { ...opts, allowStatus: [...(opts.allowStatus ?? []), ...nullOn] });
    if (nullOn.includes(res.status)) return null;
    return res.json<T>();
  }

  /** Streams a URL into `destPath` (never into memory). On failure the partial file is removed. */
  async download(url: string, destPath: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
    const service = opts.service ?? 'pdf';
    const maxBytes = opts.maxBytes ?? this.opts.maxBytes?.pdf ?? DEFAULT_MAX_BYTES.pdf;
    let file: ReturnType<typeof createWriteStream> | undefined;
    try {
      return await this.execute(service, url, { signal: opts.signal, headers: opts.headers, kind: 'pdf' }, async (res, finalUrl) => {
        const declared = Number(res.headers['content-length']);
        const total = Number.isFinite(declared) && !res.headers['content-encoding'] ? declared : undefined;
        const hash = createHash('sha256');
        const hasher = new Transform({
          transform(chunk: Buffer, _e, cb) {
            hash.update(chunk);
            cb(null, chunk);
          },
        });
        file = createWriteStream(destPath, { flags: 'w' });
        const stages: (Transform | Writable)[] = opts.expect === 'pdf' ? [pdfSniffer(redactUrl(finalUrl)), hasher, file] : [hasher, file];
        const r = await streamBody(res.body, res.headers['content-encoding'], { maxBytes, maxDecodedBytes: maxBytes }, stages, {
          signal: opts.signal,
          url: redactUrl(finalUrl),
          onRaw: (n) => opts.onProgress?.(n, total),
        });
        return { bytes: r.decodedBytes, sha256: hash.digest('hex'), contentType: res.headers['content-type'], finalUrl: redactUrl(finalUrl) };
      });
    } catch (err) {
      // A write stream destroyed before its file was opened still opens (creates) it, then closes it:
      // removing the file before that would leave it behind. Wait for the close first.
      const f = file;
      if (f && !f.closed) {
        await new Promise<void>((resolve) => {
          f.once('close', () => resolve());
          setTimeout(resolve, 5000).unref();
        });
      }
      await fsp.rm(destPath, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  stats(): Record<string, ServiceStats> {
    const out: Record<string, ServiceStats> = {};
    for (const lane of this.lanes.values()) {
      const l = lane.gate.limits;
      out[lane.key] = {
        key: lane.key,
        service: lane.service,
        ...lane.stats,
        inFlight: lane.gate.active,
        queued: lane.gate.queued,
        circuit: lane.breaker.state,
        limits: { rate: l.rate, concurrency: l.concurrency, searchRate: l.subRates.search, adaptedFromHeaders: lane.adapted, jitterMarginMs: lane.gate.jitterMs },
        pausedUntil: lane.gate.pausedUntilMs > Date.now() ? lane.gate.pausedUntilMs : undefined,
        ...(lane.budget ? { budget: { ...lane.budget } } : {}),
      };
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.scope = undefined;
    await this.savePacing().catch(() => undefined);
    await Promise.all([...this.networks.values()].map((n) => n.close()));
    this.networks.clear();
  }

  /**
   * Follows a change of the proxy or certificate settings without a restart: requests from now on
   * use the new network; those in flight finish on the old one, which closes when they are done.
   */
  setNetwork(network: NetworkOptions | undefined): void {
    this.opts.network = network;
    const old = [...this.networks.values()];
    this.networks = new Map();
    for (const n of old) void n.close();
  }

  /**
   * Starts a job's network scope: from now until `end()`, a service that cannot be reached (or
   * that refuses us for the day) is reported once through `onIssue` and then not asked again;
   * its requests fail at once with the same code, so entries stay retryable later.
   */
  beginScope(onIssue?: (issue: NetIssue) => void): NetScope {
    const state: ScopeState = { down: new Map(), issues: [], onIssue, ended: false };
    this.scope = state;
    return {
      issues: state.issues,
      end: () => {
        state.ended = true;
        if (this.scope === state) this.scope = undefined;
      },
    };
  }

  /** Services reported down in the current scope. */
  get issues(): readonly NetIssue[] {
    return this.scope?.issues ?? [];
  }

  /** Merges this process's pacing into the shared file (atomically: temp file + rename). */
  private async savePacing(): Promise<void> {
    const file = this.opts.pacingFile;
    if (!file) return;
    const now = Date.now();
    let merged: Record<string, number> = {};
    try {
      merged = JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, number>;
    } catch {
      merged = {};
    }
    for (const lane of this.lanes.values()) {
      const t = lane.gate.notBeforeMs;
      for (const origin of lane.origins) merged[`${lane.key}@${origin}`] = Math.max(merged[`${lane.key}@${origin}`] ?? 0, t);
    }
    for (const [k, v] of Object.entries(merged)) if (typeof v !== 'number' || v <= now) delete merged[k];
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    await fsp.writeFile(tmp, JSON.stringify(merged));
    await fsp.rename(tmp, file);
  }

  private network(connectMs: number): Network {
    let n = this.networks.get(connectMs);
    if (!n) {
      n = new Network(this.opts.network ?? {}, connectMs);
      this.networks.set(connectMs, n);
    }
    return n;
  }

  /** Throws the recorded error when this lane (or, for searches, its search bucket) is down for the job. */
  private checkDown(lane: Lane, bucket: string | undefined): void {
    const s = this.scope;
    if (!s) return;
    const e = s.down.get(lane.key) ?? (bucket ? s.down.get(`${lane.key}#${bucket}`) : undefined);
    if (e) throw new ScholarError(e.code, e.message, { ...e.details, repeated: true });
  }

  /** Records a lane as down for the scope (once) and returns the error to throw. */
  private markDown(lane: Lane, url: URL, down: { code: NetIssueCode; cause: string }, proxy: string | undefined, key = lane.key): ScholarError {
    const host = url.host;
    const details = { service: lane.service, lane: lane.key, host, cause: down.cause, proxy, url: redactUrl(url.toString()), serviceDown: true };
    const err = new ScholarError(down.code, `${lane.service === 'pdf' ? `PDF host ${host}` : `${lane.service} (${host})`}: ${down.cause}`, details);
    const s = this.scope;
    if (s && !s.ended && !s.down.has(key)) {
      s.down.set(key, err);
      const issue: NetIssue = { code: down.code, service: lane.service, lane: key, host, cause: down.cause, proxy, at: Date.now() };
      s.issues.push(issue);
      try {
        s.onIssue?.(issue);
      } catch {
        // a listener's failure must not fail the request
      }
    }
    return err;
  }

  private lane(service: ServiceName, url: URL): Lane {
    const p = this.policies[service];
    const key = p.perHost ? `${service}:${url.host}` : service;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = {
        key,
        service,
        gate: new Gate(p.rate, p.concurrency, p.searchRate ? { search: p.searchRate } : {}),
        breaker: new CircuitBreaker(p.breaker),
        stats: { requests: 0, ok: 0, failures: 0, retries: 0, status429: 0 },
        adapted: false,
        origins: new Set(),
      };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private adapt(lane: Lane, headers: Record<string, string>): void {
    const limit = Number(headers['x-rate-limit-limit']);
    const interval = parseIntervalHeader(headers['x-rate-limit-interval']);
    const conc = Number(headers['x-concurrency-limit']);
    if (!(limit > 0) && !(conc > 0)) return;
    const p = this.policies[lane.service];
    // Never above what we configured: the headers can only make us gentler.
    let rate = p.rate;
    if (limit > 0 && interval) {
      const configured = p.rate.requests / p.rate.intervalMs;
      if (limit / interval < configured) rate = { requests: limit, intervalMs: interval };
    }
    const concurrency = conc > 0 ? Math.min(conc, p.concurrency) : p.concurrency;
    const cur = lane.gate.limits;
    if (cur.rate.requests !== rate.requests || cur.rate.intervalMs !== rate.intervalMs || cur.concurrency !== concurrency) {
      lane.gate.setLimits(rate, concurrency);
    }
    lane.adapted = rate !== p.rate || concurrency !== p.concurrency;
  }

  private statusError(lane: Lane, service: ServiceName, status: number, url: string, resHeaders: Record<string, string>, attempt: number, countFailure: (l: Lane) => void): ScholarError {
    const p = this.policies[service];
    let retryAfterMs = parseRetryAfter(resHeaders['retry-after']);
    if (status === 429) {
      lane.stats.status429++;
      lane.breaker.neutral();
      lane.gate.widenJitterMargin();
      // The server says the whole service is over its limit: hold every queued request, not just this one.
      retryAfterMs ??= backoffDelay(attempt, p, this.random);
      lane.gate.pauseUntil(Date.now() + retryAfterMs);
    } else if (status >= 500) {
      countFailure(lane);
      lane.stats.failures++;
    } else lane.breaker.success();
    return new ScholarError('E_HTTP_STATUS', `HTTP ${status} from ${service}`, {
      status,
      url: redactUrl(url),
      retryAfterMs,
      service,
    });
  }

  private async execute<T>(
    service: ServiceName,
    url: string,
    opts: RequestOptions,
    consume: (res: { status: number; headers: Record<string, string>; body: Readable }, finalUrl: string) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new ScholarError('E_CLOSED', 'HTTP client closed');
    const p = this.policies[service];
    const maxRetries = opts.maxRetries ?? p.maxRetries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(service, url, opts, attempt, attempt >= maxRetries, consume);
      } catch (err) {
        const t = transient(err);
        if (!t.transient || attempt >= maxRetries || opts.signal?.aborted) throw err;
        const retryAfter = t.retryAfterMs;
        if (retryAfter !== undefined && retryAfter > p.maxRetryAfterMs) throw err;
        const lane = this.lane(service, new URL(url));
        lane.stats.retries++;
        await sleep(retryAfter ?? backoffDelay(attempt, p, this.random), opts.signal);
      }
    }
  }

  private async attempt<T>(
    service: ServiceName,
    startUrl: string,
    opts: RequestOptions,
    attempt: number,
    /** No retry follows this attempt: only then does a failure count against the circuit breaker. */
    lastAttempt: boolean,
    consume: (res: { status: number; headers: Record<string, string>; body: Readable }, finalUrl: string) => Promise<T>,
  ): Promise<T> {
    const p = this.policies[service];
    const startOrigin = new URL(startUrl).origin;
    let url = startUrl;
    let method = opts.method ?? 'GET';
    const visited = new Set<string>();
    const baseHeaders: Record<string, string> = {
      'user-agent': this.userAgent,
      'accept-encoding': 'gzip, deflate, br',
      accept: opts.kind === 'html' ? 'text/html,application/xhtml+xml' : opts.kind === 'pdf' ? 'application/pdf,*/*;q=0.8' : 'application/json',
    };
    for (const [k, v] of Object.entries(opts.headers ?? {})) baseHeaders[k.toLowerCase()] = v;

    // One request is one failure for the breaker, however many retries it took: four attempts at one
    // bad URL must not open the circuit for every other download from the same host.
    const countFailure = (lane: Lane) => (lastAttempt ? lane.breaker.failure() : lane.breaker.neutral());
    for (let hop = 0; ; hop++) {
      const u = new URL(url);
      // doi.org's redirect leads to the publisher's page: that hop is the publisher host's request,
      // under its per-host politeness, not another request to doi.org.
      const laneService: ServiceName = service === 'doi' && hop > 0 && u.origin !== startOrigin ? 'pdf' : service;
      const lane = this.lane(laneService, u);
      // `url` moves on to the redirect's target before this hop is logged.
      const hopUrl = url;
      this.checkDown(lane, opts.bucket);
      if (!lane.origins.has(u.origin)) {
        lane.origins.add(u.origin);
        const seed = this.pacing[`${lane.key}@${u.origin}`];
        if (seed) lane.gate.notBefore(seed);
      }
      if (lane.breaker.state === 'open') lane.breaker.check(lane.key);
      const ticket: GateTicket = await lane.gate.acquire(opts.signal, opts.bucket);
      const release = () => ticket.release();
      const t0 = Date.now();
      let status: number | undefined;
      let departedAt: number | undefined;
      let answeredAt: number | undefined;
      try {
        // Another request of this lane may have found the service down while this one queued.
        this.checkDown(lane, opts.bucket);
        lane.breaker.check(lane.key);
        const headers = { ...baseHeaders };
        const body = method === 'POST' && opts.jsonBody !== undefined ? JSON.stringify(opts.jsonBody) : undefined;
        if (body !== undefined) headers['content-type'] = 'application/json';
        if (u.origin !== startOrigin) for (const h of CREDENTIAL_HEADERS) delete headers[h];
        lane.stats.requests++;
        const route = this.network(p.timeouts.connectMs).route(u);
        let res;
        try {
          res = await route.dispatcher.request({
            origin: u.origin,
            path: `${u.pathname}${u.search}`,
            method,
            headers,
            ...(body !== undefined ? { body } : {}),
            signal: opts.signal,
            headersTimeout: p.timeouts.headersMs,
            bodyTimeout: p.timeouts.bodyIdleMs,
            [DEPARTURE]: () => {
              departedAt = performance.timeOrigin + performance.now();
              ticket.departed();
            },
            [ANSWERED]: () => {
              answeredAt = performance.timeOrigin + performance.now();
              ticket.answered();
            },
          } as Dispatcher.RequestOptions);
        } catch (err) {
          const c = classifyTransport(err, opts.signal, redactUrl(url), route);
          if (c.error.code === 'E_ABORTED') lane.breaker.neutral();
          else if (c.down) {
            // Not the service failing, but the way to it: the breaker is for services.
            lane.breaker.neutral();
            lane.stats.failures++;
            throw this.markDown(lane, u, c.down, route.proxy);
          } else {
            countFailure(lane);
            lane.stats.failures++;
          }
          throw c.error;
        }
        status = res.statusCode;
        const resHeaders = flatHeaders(res.headers as Record<string, string | string[] | undefined>);
        if (p.adaptFromHeaders) this.adapt(lane, resHeaders);
        // A plain-HTTP request through a proxy gets the proxy's 407 as its own response.
        if (status === 407 && route.proxy) {
          await res.body.dump().catch(() => undefined);
          lane.breaker.neutral();
          throw this.markDown(lane, u, { code: 'E_PROXY_AUTH', cause: 'it answered 407 Proxy Authentication Required' }, route.proxy);
        }
        if (p.usageBudget) {
          const b = readUsageBudget(resHeaders);
          if (b) lane.budget = b;
          // Searches and lists cost credits, singleton lookups are free: once the budget is spent,
          // only the searches stop, and the free lookups carry on.
          if (b && ((b.remainingUsd !== undefined && b.remainingUsd <= 0) || b.remaining === 0) && status >= 200 && status < 300)
            this.markDown(lane, u, { code: 'E_QUOTA_EXHAUSTED', cause: `daily allowance for searches used up (${b.remainingUsd !== undefined ? `$${b.remainingUsd} left` : '0 credits left'})` }, route.proxy, `${lane.key}#search`);
          if (status === 401 || status === 403 || status === 429) {
            const body = await readSmall(res.body as unknown as AsyncIterable<Buffer>);
            const refusal = budgetRefusal(status, resHeaders, body, Boolean(this.apiKey('openalex')), p.maxRetryAfterMs);
            if (refusal) {
              if (status === 429) lane.stats.status429++;
              lane.breaker.neutral();
              throw this.markDown(lane, u, refusal, route.proxy);
            }
            throw this.statusError(lane, service, status, url, resHeaders, attempt, countFailure);
          }
        }

        if (REDIRECT_STATUS.has(status) && resHeaders.location) {
          await res.body.dump().catch(() => undefined);
          lane.breaker.success();
          const next = new URL(resHeaders.location, url);
          if (next.protocol !== 'http:' && next.protocol !== 'https:')
            throw new ScholarError('E_REDIRECT_SCHEME', `Redirect to unsupported scheme ${next.protocol}`, {
              from: redactUrl(url),
              scheme: next.protocol,
            });
          visited.add(url);
          if (hop + 1 > this.maxRedirects || visited.has(next.toString()))
            throw new ScholarError('E_REDIRECT_LOOP', `Too many redirects (limit ${this.maxRedirects}) or a redirect loop`, {
              url: redactUrl(startUrl),
              hops: hop + 1,
            });
          if (status === 303) method = 'GET';
          url = next.toString();
          continue;
        }

        const ok = (status >= 200 && status < 300) || (opts.allowStatus ?? []).includes(status);
        if (!ok) {
          await res.body.dump().catch(() => undefined);
          throw this.statusError(lane, service, status, url, resHeaders, attempt, countFailure);
        }

        const declared = Number(resHeaders['content-length']);
        const kind = opts.kind ?? 'json';
        const cap = opts.maxBytes ?? this.opts.maxBytes?.[kind] ?? DEFAULT_MAX_BYTES[kind];
        if (Number.isFinite(declared) && declared > cap && !resHeaders['content-encoding']) {
          res.body.destroy();
          lane.breaker.success();
          throw new ScholarError('E_TOO_LARGE', `Response of ${declared} bytes exceeds ${cap}`, { limit: cap, declared, url: redactUrl(url) });
        }
        try {
          const out = await consume({ status, headers: resHeaders, body: res.body as unknown as Readable }, url);
          lane.breaker.success();
          lane.stats.ok++;
          return out;
        } catch (err) {
          const e = mapTransportError(err, opts.signal, redactUrl(url));
          if (e.code === 'E_NETWORK' || e.code === 'E_TIMEOUT') {
            countFailure(lane);
            lane.stats.failures++;
          } else lane.breaker.neutral();
          throw e;
        }
      } finally {
        release();
        this.opts.log?.({ service: laneService, method, url: redactUrl(hopUrl), status, attempt, ms: Date.now() - t0, ...(departedAt !== undefined ? { departedAt } : {}), ...(answeredAt !== undefined ? { answeredAt } : {}) });
      }
    }
  }
}
