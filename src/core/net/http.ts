// Scholar's single HTTP layer. It owns its undici Agent (the extension host is shared with other
// extensions, so the global dispatcher is never touched) and applies the per-service policy from
// ./policy before anything is sent: admission (rate + concurrency), circuit breaker, retries with
// jittered backoff and Retry-After, manual redirects with per-hop checks, and size caps.
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import { Transform, type Readable, type Writable } from 'node:stream';
import { Agent } from 'undici';
import { ScholarError } from '../errors';
import { SCHOLAR_VERSION } from '../version';
import { memorySink, streamBody } from './body';
import { abortError, CircuitBreaker, Gate, type CircuitState } from './gate';
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
  /** Injectable for deterministic tests of the jitter. */
  random?: () => number;
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD';
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
  limits: { rate: RateLimit; concurrency: number; searchRate?: RateLimit; adaptedFromHeaders: boolean };
  pausedUntil?: number;
}

interface Lane {
  key: string;
  service: ServiceName;
  gate: Gate;
  breaker: CircuitBreaker;
  stats: { requests: number; ok: number; failures: number; retries: number; status429: number };
  adapted: boolean;
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

function mapTransportError(err: unknown, signal: AbortSignal | undefined, url: string): ScholarError {
  if (err instanceof ScholarError) return err;
  if (signal?.aborted) return abortError(signal);
  const code = (err as { code?: string })?.code ?? '';
  const name = (err as { name?: string })?.name ?? '';
  if (name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') return abortError(signal);
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return new ScholarError('E_TIMEOUT', `Timed out (${code})`, { url, cause: code }, { cause: err });
  return new ScholarError('E_NETWORK', `Network error: ${(err as Error)?.message ?? String(err)}`, { url, cause: code }, { cause: err });
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
  private readonly agents = new Map<number, Agent>();
  private readonly maxRedirects: number;
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly opts: HttpOptions = {}) {
    const email = opts.email?.trim() || undefined;
    this.userAgent = `Scholar/${opts.version ?? SCHOLAR_VERSION} (https://github.com/scholar-vscode/scholar${email ? `; mailto:${email}` : ''})`;
    this.policies = resolvePolicies(Boolean(email), opts.policies);
    this.maxRedirects = opts.maxRedirects ?? 5;
    this.random = opts.random ?? Math.random;
  }

  get email(): string | undefined {
    return this.opts.email?.trim() || undefined;
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
        limits: { rate: l.rate, concurrency: l.concurrency, searchRate: l.subRates.search, adaptedFromHeaders: lane.adapted },
        pausedUntil: lane.gate.pausedUntilMs > Date.now() ? lane.gate.pausedUntilMs : undefined,
      };
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.agents.values()].map((a) => a.close().catch(() => undefined)));
    this.agents.clear();
  }

  private agent(connectMs: number): Agent {
    let a = this.agents.get(connectMs);
    if (!a) {
      a = new Agent({ connect: { timeout: connectMs }, keepAliveTimeout: 10_000, maxRedirections: 0 } as Agent.Options);
      this.agents.set(connectMs, a);
    }
    return a;
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
      const lane = this.lane(service, u);
      if (lane.breaker.state === 'open') lane.breaker.check(lane.key);
      const release = await lane.gate.acquire(opts.signal, opts.bucket);
      const t0 = Date.now();
      let status: number | undefined;
      try {
        lane.breaker.check(lane.key);
        const headers = { ...baseHeaders };
        if (u.origin !== startOrigin) for (const h of CREDENTIAL_HEADERS) delete headers[h];
        lane.stats.requests++;
        let res;
        try {
          res = await this.agent(p.timeouts.connectMs).request({
            origin: u.origin,
            path: `${u.pathname}${u.search}`,
            method,
            headers,
            signal: opts.signal,
            headersTimeout: p.timeouts.headersMs,
            bodyTimeout: p.timeouts.bodyIdleMs,
          });
        } catch (err) {
          const e = mapTransportError(err, opts.signal, redactUrl(url));
          if (e.code === 'E_ABORTED') lane.breaker.neutral();
          else {
            countFailure(lane);
            lane.stats.failures++;
          }
          throw e;
        }
        status = res.statusCode;
        const resHeaders = flatHeaders(res.headers as Record<string, string | string[] | undefined>);
        if (p.adaptFromHeaders) this.adapt(lane, resHeaders);

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
          let retryAfterMs = parseRetryAfter(resHeaders['retry-after']);
          if (status === 429) {
            lane.stats.status429++;
            lane.breaker.neutral();
            // The server says the whole service is over its limit: hold every queued request, not just this one.
            retryAfterMs ??= backoffDelay(attempt, p, this.random);
            lane.gate.pauseUntil(Date.now() + retryAfterMs);
          } else if (status >= 500) {
            countFailure(lane);
            lane.stats.failures++;
          } else lane.breaker.success();
          throw new ScholarError('E_HTTP_STATUS', `HTTP ${status} from ${service}`, {
            status,
            url: redactUrl(url),
            retryAfterMs,
            service,
          });
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
        this.opts.log?.({ service, method, url: redactUrl(url), status, attempt, ms: Date.now() - t0 });
      }
    }
  }
}
