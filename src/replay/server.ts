// Offline replay of the scholarly APIs on 127.0.0.1. Recorded bodies are served verbatim for the
// requests they were recorded for; every other DOI or query is answered from the Crossref corpus
// in the same response shapes. Limits are enforced like a real service (429 + Retry-After) and
// every request over a limit is counted as a violation, which is what the rate tests measure.
import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { ServiceName } from '../core/net/policy';
import {
  arxivFeed,
  bibtexFor,
  Corpus,
  crossrefListEnvelope,
  crossrefWorkEnvelope,
  cslFor,
  dataciteCslFor,
  normQuery,
  openAlexWork,
  s2Paper,
  selectFields,
  unpaywallRecord,
  type CorpusEntry,
  type CrossrefItem,
  type SyntheticWork,
  type Urls,
} from './corpus';
import { makePdf } from './pdf';

/** `resolver`: a library's PDF resolver, answering Zotero-format custom resolvers (HTML and JSON). */
export type ReplayService = ServiceName | 'landing' | 'resolver';

export const SERVICE_PREFIX: Record<ReplayService, string> = {
  crossref: '/crossref',
  openalex: '/openalex',
  semanticScholar: '/s2',
  arxiv: '/arxiv',
  unpaywall: '/unpaywall',
  doi: '/doi',
  pdf: '/pdf',
  landing: '/landing',
  resolver: '/resolver',
};
const PREFIX_SERVICE = new Map(Object.entries(SERVICE_PREFIX).map(([s, p]) => [p.slice(1), s as ReplayService]));

export interface ReplayLimit {
  requests: number;
  intervalMs: number;
  concurrency: number;
  /** Retry-After value sent with a 429 (seconds); default: time until the window frees up. */
  retryAfterSeconds?: number;
}

export type FaultKind =
  | 'status'
  | 'rateLimit'
  | 'reset'
  | 'slowHeaders'
  | 'slowBody'
  | 'truncated'
  | 'htmlAsPdf'
  | 'huge'
  | 'gzipBomb'
  | 'redirectLoop'
  | 'redirectFile';

export interface FaultRule {
  kind: FaultKind;
  service?: ReplayService;
  /** Substring of the decoded request path + query (after the service prefix). */
  path?: string;
  /** DOI anywhere in the decoded request URL (case-insensitive). */
  doi?: string;
  /** Applies to the first `times` matching requests only (default: all). */
  times?: number;
  /**
   * Applies to this share (0–1) of the matching requests, drawn from a seeded generator so a run is
   * reproducible: `{ kind: 'status', status: 503, share: 0.1 }` fails one response in ten.
   */
  share?: number;
  /** Seed of the generator behind `share` (default 1). */
  seed?: number;
  /** `status`: status code (default 503). */
  status?: number;
  /** `status`/`rateLimit`: Retry-After header value (seconds or HTTP date). */
  retryAfter?: string;
  /** slowHeaders/slowBody: delay in ms. */
  delayMs?: number;
  /** huge/gzipBomb: body size (decoded for the bomb). */
  bytes?: number;
  /** huge: send Content-Length (lets the client refuse before reading). */
  declareLength?: boolean;
}

/**
 * OpenAlex's usage billing as documented since Feb 2026 (https://developers.openalex.org/api-reference/authentication):
 * singleton lookups free, list/filter calls $0.0001, searches $0.001, a daily allowance per key
 * ($1 with a free key, $0.01 without), reported in X-RateLimit-* headers; a spent allowance is a 429.
 */
export interface OpenAlexBudget {
  /** Daily allowance in USD without a key (default 0.01). */
  anonymousUsd?: number;
  /** Daily allowance in USD per valid key (default 1). */
  keyUsd?: number;
  /** Keys the server accepts; any other `api_key` gets 401. Default: any key is valid. */
  validKeys?: string[];
  /** Refuse requests without a key (401), as a stricter enforcement of the key requirement would. */
  requireKey?: boolean;
  listCostUsd?: number;
  searchCostUsd?: number;
}

export interface ReplayOptions {
  port?: number;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Host name to bind (default 127.0.0.1). */
  host?: string;
  /** Crossref and OpenAlex list/search requests are additionally limited by these (Crossref: 3 req/s polite). */
  listLimits?: Partial<Record<ReplayService, ReplayLimit>>;
  /** Simulate OpenAlex's usage budget and key checks. */
  openalexBudget?: OpenAlexBudget;
  /** Random latency per call, [min, max] ms. */
  latencyMs?: [number, number];
  /** PDF (and arXiv PDF) bandwidth in bytes per second. */
  pdfBandwidth?: number;
  limits?: Partial<Record<ReplayService, ReplayLimit>>;
  faults?: FaultRule[];
  /** Folder holding api/ and corpus/ (default: the repository's test/fixtures). */
  fixturesDir?: string;
  /** Default PDF size in bytes (padding). */
  pdfBytes?: number;
  /**
   * Publisher hosts: more loopback addresses (e.g. 127.0.0.11–127.0.0.26) that the server also
   * listens on, on the same port. Each DOI's PDF and landing page are served from one of them (by a
   * hash of the DOI), and `limits.pdf` is enforced per host, as a client's per-host politeness is.
   * Fixed at start (not changed by setOptions).
   */
  pdfHosts?: string[];
}

export interface ReplayLogEntry {
  t: number;
  /** Arrival on the server's clock as epoch ms with sub-millisecond precision (what the limits count). */
  at?: number;
  service: ReplayService | 'unknown';
  method: string;
  path: string;
  status: number;
  ua?: string;
}

export interface ReplayStats {
  requests: Partial<Record<ReplayService, number>>;
  violations: Partial<Record<ReplayService, number>>;
  status429: Partial<Record<ReplayService, number>>;
  maxInFlight: Partial<Record<ReplayService, number>>;
  log: ReplayLogEntry[];
  /** Each violation: which limit, and by how much (rate: the window's span was `spanMs` < `intervalMs`). */
  violationLog: { t: number; service: ReplayService; limit: string; kind: 'rate' | 'concurrency'; spanMs?: number; intervalMs: number }[];
}

export interface ReplayServer {
  origin: string;
  endpoints: Record<ServiceName, string>;
  stats(): ReplayStats;
  resetStats(): void;
  setOptions(partial: Partial<Omit<ReplayOptions, 'port' | 'fixturesDir'>>): void;
  addWorks(works: (SyntheticWork | CrossrefItem)[]): void;
  close(): Promise<void>;
}

interface Recorded {
  file: string;
  status: number;
  contentType: string;
  body: Buffer;
}

export function findFixturesDir(start = __dirname): string {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'test/fixtures'))) return path.join(dir, 'test/fixtures');
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return path.resolve(process.cwd(), 'test/fixtures');
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function loadRecorded(apiDir: string): Map<string, Recorded> {
  const map = new Map<string, Recorded>();
  const indexPath = path.join(apiDir, 'index.json');
  if (!existsSync(indexPath)) return map;
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as {
    file: string;
    api: string;
    url: string | null;
    status: number;
    content_type: string | null;
  }[];
  for (const r of index) {
    if (!r.url) continue;
    const u = new URL(r.url);
    const p = decode(u.pathname);
    const rec: Recorded = {
      file: r.file,
      status: r.status,
      contentType: r.content_type ?? (r.file.endsWith('.json') ? 'application/json' : r.file.endsWith('.bib') ? 'application/x-bibtex' : 'text/plain'),
      body: readFileSync(path.join(apiDir, r.file)),
    };
    const q = u.searchParams;
    let key: string | undefined;
    if (u.host === 'api.crossref.org') {
      const t = /\/works\/(.+?)\/transform(\/.*)?$/.exec(p);
      if (t) key = `bibtex:${t[1].toLowerCase()}`;
      else if (p.startsWith('/works/')) key = `crossref:work:${p.slice(7).toLowerCase()}`;
      else if (p === '/works' && (q.get('query.title') || q.get('query.bibliographic'))) key = `crossref:q:${normQuery(q.get('query.title') ?? q.get('query.bibliographic') ?? '')}`;
    } else if (u.host === 'api.openalex.org') {
      if (p.startsWith('/works/') && !q.get('select')) key = `openalex:work:${p.slice(7).replace(/^https:\/\/doi\.org\//, '').toLowerCase()}`;
      else if (p === '/works' && q.get('filter')?.startsWith('title.search:')) key = `openalex:q:${normQuery(q.get('filter')!.slice(13))}`;
    } else if (u.host === 'api.semanticscholar.org') {
      if (p.startsWith('/graph/v1/paper/DOI:')) key = `s2:paper:${p.slice(20).toLowerCase()}`;
      else if (p === '/graph/v1/paper/search/match') key = `s2:q:${normQuery(q.get('query') ?? '')}`;
    } else if (u.host === 'api.unpaywall.org' && p.startsWith('/v2/') && p !== '/v2/search') {
      key = `unpaywall:${p.slice(4).toLowerCase()}`;
    } else if (u.host === 'export.arxiv.org') {
      if (q.get('id_list')) key = `arxiv:id:${q.get('id_list')!.toLowerCase()}`;
      else if (q.get('search_query')) key = `arxiv:q:${normQuery(q.get('search_query')!)}`;
    } else if (u.host === 'doi.org') {
      if (r.status === 404) key = 'doi:404';
      else if (r.status === 400) key = 'doi:400';
    } else if (r.file.startsWith('openalex-work-404')) key = 'openalex:404';
    if (r.file.startsWith('openalex-work-404')) key = 'openalex:404';
    if (key && !map.has(key)) map.set(key, rec);
  }
  return map;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Seconds until the next midnight UTC, when OpenAlex resets daily allowances. */
function secondsToMidnightUtc(now = Date.now()): number {
  const d = new Date(now);
  return Math.max(1, Math.ceil((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) - now) / 1000));
}

class Limiter {
  private starts: number[] = [];
  /** Takes back an admission (the request was refused by another of its limits). */
  forget(at: number): void {
    const i = this.starts.lastIndexOf(at);
    if (i >= 0) this.starts.splice(i, 1);
  }
  inFlight = 0;
  maxInFlight = 0;
  constructor(public limit: ReplayLimit) {}
  /** Why the last refused request was refused. */
  lastRefusal: { kind: 'rate' | 'concurrency'; spanMs?: number } = { kind: 'rate' };
  /** Returns the ms until a slot frees, or 0 when the request is admitted. */
  admit(now: number): number {
    const windowStart = now - this.limit.intervalMs;
    while (this.starts.length && this.starts[0] < windowStart) this.starts.shift();
    if (this.inFlight >= this.limit.concurrency) {
      this.lastRefusal = { kind: 'concurrency' };
      return 1000;
    }
    if (this.starts.length >= this.limit.requests) {
      this.lastRefusal = { kind: 'rate', spanMs: Math.round((now - this.starts[0]) * 10) / 10 };
      return Math.max(1, this.starts[0] + this.limit.intervalMs - now);
    }
    this.starts.push(now);
    return 0;
  }
}

export async function startReplayServer(opts: ReplayOptions = {}): Promise<ReplayServer> {
  let options: ReplayOptions = { ...opts };
  const fixturesDir = opts.fixturesDir ?? findFixturesDir();
  const recorded = loadRecorded(path.join(fixturesDir, 'api'));
  const corpusFile = path.join(fixturesDir, 'corpus/crossref-works.jsonl');
  const corpus = existsSync(corpusFile) ? Corpus.load(corpusFile) : new Corpus();
  const limiters = new Map<string, Limiter>();
  /** `limits.pdf` per publisher host (with `pdfHosts`), by local address. */
  const hostLimiters = new Map<string, Limiter>();
  const spent = new Map<string, number>();
  const faultHits = new WeakMap<FaultRule, number>();
  let stats: ReplayStats = { requests: {}, violations: {}, status429: {}, maxInFlight: {}, log: [], violationLog: [] };
  const inFlightAll = new Map<ReplayService, number>();
  let bomb: { size: number; body: Buffer } | undefined;
  const sockets = new Set<import('node:net').Socket>();

  const syncLimiters = () => {
    const want = new Map<string, ReplayLimit>();
    for (const [svc, lim] of Object.entries(options.limits ?? {}) as [ReplayService, ReplayLimit][]) want.set(svc, lim);
    for (const [svc, lim] of Object.entries(options.listLimits ?? {}) as [ReplayService, ReplayLimit][]) want.set(`${svc}:list`, lim);
    for (const [k, lim] of want) {
      const cur = limiters.get(k);
      if (cur) cur.limit = lim;
      else limiters.set(k, new Limiter(lim));
    }
    for (const k of [...limiters.keys()]) if (!want.has(k)) limiters.delete(k);
    const pdfLimit = options.limits?.pdf;
    if (!pdfLimit) hostLimiters.clear();
    else for (const l of hostLimiters.values()) l.limit = pdfLimit;
  };
  const pdfHosts = opts.pdfHosts ?? [];
  const perHostLimiter = (req: http.IncomingMessage): Limiter | undefined => {
    const lim = options.limits?.pdf;
    if (!lim) return undefined;
    const addr = (req.socket.localAddress ?? '').replace(/^::ffff:/, '');
    let l = hostLimiters.get(addr);
    if (!l) hostLimiters.set(addr, (l = new Limiter(lim)));
    return l;
  };
  syncLimiters();

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    void handle(req, res).catch((err) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`replay error: ${(err as Error).message}`);
      } else res.destroy();
    });
  };
  const newServer = (): http.Server | https.Server => {
    const srv = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : http.createServer(onRequest);
    srv.keepAliveTimeout = 30_000;
    srv.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    return srv;
  };
  const listen = (srv: http.Server | https.Server, port: number, host: string) =>
    new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => resolve());
    });
  const server = newServer();
  await listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  // One server per publisher host, same port and handler: the client sees distinct hosts.
  const hostServers: (http.Server | https.Server)[] = [];
  try {
    for (const h of pdfHosts) {
      const srv = newServer();
      await listen(srv, port, h);
      hostServers.push(srv);
    }
  } catch (err) {
    for (const srv of [server, ...hostServers]) srv.close();
    for (const s of sockets) s.destroy();
    throw err;
  }
  const scheme = opts.tls ? 'https' : 'http';
  const origin = `${scheme}://${opts.host && opts.host !== '127.0.0.1' ? opts.host : '127.0.0.1'}:${port}`;
  /** The publisher host serving a DOI's PDF and landing page (the main origin without `pdfHosts`). */
  const hostOf = (doi: string) => {
    if (!pdfHosts.length) return origin;
    let h = 0;
    for (let i = 0; i < doi.length; i++) h = (Math.imul(h, 31) + doi.charCodeAt(i)) >>> 0;
    return `${scheme}://${pdfHosts[h % pdfHosts.length]}:${port}`;
  };
  const urls: Urls = {
    pdf: (doi) => `${hostOf(doi.toLowerCase())}/pdf/${doi}.pdf`,
    landing: (doi) => `${hostOf(doi.toLowerCase())}/landing/${doi}`,
    arxivAbs: (id) => `${origin}/arxiv/abs/${id}`,
    arxivPdf: (id) => `${origin}/arxiv/pdf/${id}`,
  };

  const bump = (m: Partial<Record<ReplayService, number>>, s: ReplayService) => (m[s] = (m[s] ?? 0) + 1);

  const readBody = (req: http.IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const parts: Buffer[] = [];
      req.on('data', (b: Buffer) => parts.push(b));
      req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      req.on('error', reject);
    });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrival = performance.now();
    const url = new URL(req.url ?? '/', origin);
    // The server's own counters, for a client in another process (tests that keep the server's clock
    // out of the client's event loop). Not a service: not logged, not limited.
    if (url.pathname === '/__replay/stats') {
      const s = serverStats();
      return send(res, 200, 'application/json', JSON.stringify(s));
    }
    const segs = url.pathname.split('/');
    const service = PREFIX_SERVICE.get(segs[1] ?? '');
    const logEntry: ReplayLogEntry = { t: Date.now(), at: performance.timeOrigin + arrival, service: service ?? 'unknown', method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, status: 0, ua: req.headers['user-agent'] };
    stats.log.push(logEntry);
    if (stats.log.length > 50_000) stats.log.splice(0, 10_000);
    res.on('finish', () => (logEntry.status = res.statusCode));
    if (segs[1] === 'offline') return send(res, 404, 'text/plain', `Offline replay: ${segs[2] ?? 'this host'} is not reachable`);
    if (!service) return send(res, 404, 'text/plain', 'Not found');
    bump(stats.requests, service);

    const rest0 = `/${segs.slice(2).join('/')}`;
    // arXiv's limit (1 request / 3 s) is for its API; PDFs and abstract pages are files on its web
    // servers, which a client fetches under the per-host PDF politeness instead.
    const lim = service === 'arxiv' && !rest0.startsWith('/api') ? undefined : service === 'pdf' && pdfHosts.length ? perHostLimiter(req) : limiters.get(service);
    // A list or search request counts in the service's window and in its list window.
    const listLim = (service === 'crossref' || service === 'openalex') && rest0 === '/works' ? limiters.get(`${service}:list`) : undefined;
    for (const l of [lim, listLim]) {
      if (!l) continue;
      const wait = l.admit(arrival);
      if (wait > 0) {
        if (l === listLim && lim) lim.forget(arrival);
        stats.violationLog.push({ t: Date.now(), service, limit: l === listLim ? `${service}:list` : service, ...l.lastRefusal, intervalMs: l.limit.intervalMs });
        bump(stats.violations, service);
        bump(stats.status429, service);
        const ra = l.limit.retryAfterSeconds ?? Math.max(1, Math.ceil(wait / 1000));
        res.setHeader('retry-after', String(ra));
        return send(res, 429, 'application/json', JSON.stringify({ status: 'error', message: 'Too many requests' }));
      }
    }
    if (service === 'openalex' && options.openalexBudget) {
      const refused = openAlexBilling(options.openalexBudget, rest0, url.searchParams, res);
      if (refused) return;
    }
    if (lim) {
      lim.inFlight++;
      lim.maxInFlight = Math.max(lim.maxInFlight, lim.inFlight);
      let done = false;
      const free = () => {
        if (!done) {
          done = true;
          lim.inFlight--;
        }
      };
      res.on('finish', free);
      res.on('close', free);
    }
    const n = (inFlightAll.get(service) ?? 0) + 1;
    inFlightAll.set(service, n);
    stats.maxInFlight[service] = Math.max(stats.maxInFlight[service] ?? 0, lim ? lim.inFlight : n);
    res.on('close', () => inFlightAll.set(service, (inFlightAll.get(service) ?? 1) - 1));
    if (service === 'crossref' && lim) {
      res.setHeader('x-rate-limit-limit', String(lim.limit.requests));
      res.setHeader('x-rate-limit-interval', `${lim.limit.intervalMs / 1000}s`);
      res.setHeader('x-concurrency-limit', String(lim.limit.concurrency));
    }

    const [lo, hi] = options.latencyMs ?? [0, 0];
    if (hi > 0) await sleep(lo + Math.random() * (hi - lo));

    const rest = `/${segs.slice(2).join('/')}`;
    // A POST's ids are in its body (Semantic Scholar's batch): faults by DOI look there too.
    const reqBody = req.method === 'POST' ? await readBody(req) : '';
    const decodedFull = `${decode(`${rest}${url.search}`)}${reqBody ? `\n${reqBody}` : ''}`;
    for (const f of options.faults ?? []) {
      if (f.service && f.service !== service) continue;
      if (f.path && !decodedFull.includes(f.path)) continue;
      if (f.doi && !decodedFull.toLowerCase().includes(f.doi.toLowerCase())) continue;
      const hits = (faultHits.get(f) ?? 0) + 1;
      faultHits.set(f, hits);
      if (f.times !== undefined && hits > f.times) continue;
      if (f.share !== undefined && !drawFault(f)) continue;
      const handled = await applyFault(f, service, req, res, url);
      if (handled) return;
      break;
    }
    return route(service, rest, url, req, res, reqBody);
  }

  const faultRng = new Map<FaultRule, () => number>();
  function drawFault(f: FaultRule): boolean {
    let rng = faultRng.get(f);
    if (!rng) {
      let x = (f.seed ?? 1) >>> 0 || 1;
      rng = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
      faultRng.set(f, rng);
    }
    return rng() < f.share!;
  }

  /** Applies OpenAlex's billing; true when the request was refused (and answered). */
  function openAlexBilling(b: OpenAlexBudget, rest: string, q: URLSearchParams, res: http.ServerResponse): boolean {
    const key = q.get('api_key') ?? '';
    if (key && b.validKeys && !b.validKeys.includes(key)) {
      json(res, 401, { error: 'Invalid API key', message: 'The api_key parameter is not a valid OpenAlex API key. Get a free key at https://openalex.org/settings/api' });
      return true;
    }
    if (!key && b.requireKey) {
      json(res, 401, { error: 'API key required', message: 'An API key is required. Get a free key at https://openalex.org/settings/api and add api_key=YOUR_KEY' });
      return true;
    }
    const allowance = key ? (b.keyUsd ?? 1) : (b.anonymousUsd ?? 0.01);
    const filter = q.get('filter') ?? '';
    const isSearch = q.has('search') || /\.search:/.test(filter);
    const cost = rest !== '/works' ? 0 : isSearch ? (b.searchCostUsd ?? 0.001) : (b.listCostUsd ?? 0.0001);
    const used = spent.get(key) ?? 0;
    const round = (x: number) => Math.round(x * 1e6) / 1e6;
    const reset = secondsToMidnightUtc();
    // Credits: 1 credit = $0.0001, the price of a list call.
    const headers = (remaining: number) => ({
      'x-ratelimit-limit': String(Math.round(allowance / 0.0001)),
      'x-ratelimit-remaining': String(Math.max(0, Math.floor(round(remaining) / 0.0001))),
      'x-ratelimit-limit-usd': String(allowance),
      'x-ratelimit-remaining-usd': String(round(Math.max(0, remaining))),
      'x-ratelimit-reset': String(reset),
    });
    if (cost > 0 && used + cost > allowance + 1e-12) {
      for (const [k, v] of Object.entries({ ...headers(allowance - used), 'x-ratelimit-cost-required-usd': String(cost), 'retry-after': String(reset) })) res.setHeader(k, v);
      bump(stats.status429, 'openalex');
      json(res, 429, { error: 'Rate limit exceeded', message: `Daily budget exhausted. Resets at midnight UTC. ${key ? 'Upgrade your plan' : 'Add a free API key (https://openalex.org/settings/api)'} for a higher allowance.` });
      return true;
    }
    spent.set(key, round(used + cost));
    for (const [k, v] of Object.entries({ ...headers(allowance - used - cost), 'x-ratelimit-cost-usd': String(cost), 'x-ratelimit-credits-used': String(Math.round(cost / 0.0001)) })) res.setHeader(k, v);
    return false;
  }

  async function applyFault(f: FaultRule, service: ReplayService, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> {
    switch (f.kind) {
      case 'status':
        if (f.retryAfter) res.setHeader('retry-after', f.retryAfter);
        if ((f.status ?? 503) === 429) bump(stats.status429, service);
        send(res, f.status ?? 503, 'text/plain', `Injected ${f.status ?? 503}`);
        return true;
      case 'rateLimit':
        res.setHeader('retry-after', f.retryAfter ?? '1');
        bump(stats.status429, service);
        send(res, 429, 'application/json', JSON.stringify({ status: 'error', message: 'Too many requests' }));
        return true;
      case 'reset':
        req.socket.destroy();
        return true;
      case 'slowHeaders':
        await sleep(f.delayMs ?? 5000);
        return false;
      case 'slowBody': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"status":"ok",');
        await sleep(f.delayMs ?? 5000);
        if (!res.destroyed) res.end('"message":{}}');
        return true;
      }
      case 'truncated': {
        const body = Buffer.from(JSON.stringify({ status: 'ok', message: { padding: 'x'.repeat(4000) } }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
        res.write(body.subarray(0, 1000));
        await sleep(20);
        res.socket?.destroy();
        return true;
      }
      case 'htmlAsPdf':
        send(res, 200, 'application/pdf', '<!doctype html><html><head><title>Access denied</title></head><body>Please log in</body></html>');
        return true;
      case 'huge': {
        const size = f.bytes ?? 8 * 1024 * 1024;
        const head: http.OutgoingHttpHeaders = { 'content-type': url.pathname.endsWith('.pdf') ? 'application/pdf' : 'application/json' };
        if (f.declareLength) head['content-length'] = String(size);
        res.writeHead(200, head);
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        while (sent < size && !res.destroyed) {
          const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
          sent += part.length;
          if (!res.write(part))
            await new Promise<void>((r) => {
              const done = () => {
                res.off('drain', done);
                res.off('close', done);
                r();
              };
              res.on('drain', done);
              res.on('close', done);
            });
        }
        if (!res.destroyed) res.end();
        return true;
      }
      case 'gzipBomb': {
        const size = f.bytes ?? 64 * 1024 * 1024;
        if (!bomb || bomb.size !== size) bomb = { size, body: zlib.gzipSync(Buffer.alloc(size), { level: 9 }) };
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.body.length) });
        res.end(bomb.body);
        return true;
      }
      case 'redirectLoop': {
        const n = Number(url.searchParams.get('loop') ?? '0') + 1;
        const next = new URL(url.toString());
        next.searchParams.set('loop', String(n % 3));
        res.writeHead(302, { location: next.toString() });
        res.end();
        return true;
      }
      case 'redirectFile':
        res.writeHead(302, { location: 'file:///etc/passwd' });
        res.end();
        return true;
    }
    return false;
  }

  function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { 'content-type': type, 'content-length': String(buf.length) });
    res.end(buf);
  }
  const json = (res: http.ServerResponse, status: number, body: unknown) => send(res, status, 'application/json', JSON.stringify(body));
  // Recorded bodies name real publisher hosts for PDFs and landing pages. The machines this runs on
  // have no network (and must not try): such links are pointed at /offline/<host>/…, which answers
  // 404, so a client follows them exactly as it would online and gets a clear per-entry failure.
  const FETCHED_LINK_KEYS = new Set(['url_for_pdf', 'url_for_landing_page', 'pdf_url', 'landing_page_url', 'oa_url']);
  const LOCATION_PARENTS = new Set(['openAccessPdf', 'best_oa_location', 'first_oa_location', 'primary_location', 'oa_locations', 'locations']);
  const offline = (u: string) => u.replace(/^https?:\/\/([^/?#]+)/i, (_m, host: string) => `${origin}/offline/${host}`);
  function rewriteLinks(v: unknown, parentKey = ''): unknown {
    if (Array.isArray(v)) return v.map((x) => rewriteLinks(x, parentKey));
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (typeof x === 'string' && /^https?:\/\//i.test(x) && (FETCHED_LINK_KEYS.has(k) || (k === 'url' && LOCATION_PARENTS.has(parentKey)))) out[k] = offline(x);
      else out[k] = rewriteLinks(x, k);
    }
    return out;
  }
  const sendRecorded = (res: http.ServerResponse, r: Recorded) => {
    if (r.contentType.includes('json') && r.status === 200) {
      try {
        return send(res, r.status, r.contentType, JSON.stringify(rewriteLinks(JSON.parse(r.body.toString('utf8')))));
      } catch {
        // not JSON after all: serve as recorded
      }
    }
    return send(res, r.status, r.contentType, r.body);
  };

  async function route(service: ReplayService, rest: string, url: URL, req: http.IncomingMessage, res: http.ServerResponse, reqBody = ''): Promise<void> {
    const q = url.searchParams;
    const accept = String(req.headers.accept ?? '');
    switch (service) {
      case 'crossref': {
        const t = /^\/(?:v1\/)?works\/(.+?)\/transform(\/.*)?$/.exec(rest);
        if (t) {
          const doi = decode(t[1]).toLowerCase();
          const wantCsl = /citationstyles\.csl\+json/.test(accept) || /csl\+json/.test(t[2] ?? '');
          const e = corpus.get(doi);
          if (!wantCsl) {
            const r = recorded.get(`bibtex:${doi}`);
            if (r) return sendRecorded(res, r);
            if (e) return send(res, 200, 'application/x-bibtex', bibtexFor(e));
          } else if (e) return json(res, 200, cslFor(e));
          return send(res, 404, 'text/plain;charset=utf-8', 'Resource not found.');
        }
        if (rest.startsWith('/works/')) {
          const doi = decode(rest.slice(7)).toLowerCase();
          const r = recorded.get(`crossref:work:${doi}`);
          if (r) return sendRecorded(res, r);
          const e = corpus.get(doi);
          if (e) return json(res, 200, crossrefWorkEnvelope(e.item));
          return send(res, 404, 'text/plain', 'Resource not found.');
        }
        if (rest === '/works') {
          // The batch form: `filter=doi:A,doi:B,…` (a repeated filter ORs its values) lists the
          // works it knows, full records in no promised order; unknown DOIs are absent; `rows` pages.
          const doiValues = (q.get('filter') ?? '').split(',').filter((f) => /^doi:/i.test(f)).map((f) => f.slice(4).trim().toLowerCase());
          if (doiValues.length && !q.get('query.bibliographic') && !q.get('query')) {
            const rows = Math.min(Number(q.get('rows') ?? '20') || 20, 1000);
            const items: Record<string, unknown>[] = [];
            for (const doi of new Set(doiValues)) {
              const r = recorded.get(`crossref:work:${doi}`);
              const item = r && r.status === 200 ? (rewriteLinks((JSON.parse(r.body.toString('utf8')) as { message: unknown }).message) as Record<string, unknown>) : corpus.get(doi)?.item;
              if (item) items.push(selectFields(item as never, q.get('select'), 1) as Record<string, unknown>);
            }
            return json(res, 200, crossrefListEnvelope(items.slice(0, rows) as never, items.length, rows, null));
          }
          const text = q.get('query.bibliographic') ?? q.get('query.title') ?? q.get('query') ?? '';
          const r = recorded.get(`crossref:q:${normQuery(text)}`);
          if (r && !q.get('query.author')) return sendRecorded(res, r);
          const rows = Math.min(Number(q.get('rows') ?? '20') || 20, 1000);
          const filter = q.get('filter') ?? '';
          const from = /from-pub-date:(\d{4})/.exec(filter)?.[1];
          const until = /until-pub-date:(\d{4})/.exec(filter)?.[1];
          const { total, hits } = corpus.search({ text, author: q.get('query.author') ?? undefined, fromYear: from ? Number(from) : undefined, untilYear: until ? Number(until) : undefined }, rows);
          return json(res, 200, crossrefListEnvelope(hits.map((h) => selectFields(h.e.item, q.get('select'), h.score)), total, rows, text || null));
        }
        return send(res, 404, 'text/plain', 'Resource not found.');
      }
      case 'openalex': {
        if (rest.startsWith('/works/')) {
          const id = decode(rest.slice(7)).replace(/^https:\/\/doi\.org\//i, '').replace(/^doi:/i, '').toLowerCase();
          const r = recorded.get(`openalex:work:${id}`);
          if (r) return sendRecorded(res, r);
          const e = corpus.get(id);
          if (e) return json(res, 200, openAlexWork(e, urls));
          const nf = recorded.get('openalex:404');
          return nf ? sendRecorded(res, nf) : send(res, 404, 'text/html; charset=utf-8', '<h1>Not Found</h1>');
        }
        if (rest === '/works') {
          const filter = q.get('filter') ?? '';
          // The batch form: `filter=doi:A|B|…` (OR within one filter, at most 100 values) answers a
          // list of the works it knows, in no promised order; unknown DOIs are simply absent.
          const doiFilter = /(?:^|,)doi:([^,]*)/.exec(filter)?.[1];
          if (doiFilter !== undefined) {
            const ids = doiFilter.split('|').map((d) => d.trim().replace(/^https?:\/\/(?:dx\.)?doi\.org\//i, '').toLowerCase()).filter(Boolean);
            if (ids.length > 100) return json(res, 400, { error: 'Invalid query parameters error.', message: 'Maximum number of values exceeded for doi. Decrease values to 100 or below, or consider using a different filter.' });
            const per = Math.min(Number(q.get('per-page') ?? q.get('per_page') ?? '25') || 25, 200);
            const results: Record<string, unknown>[] = [];
            for (const id of new Set(ids)) {
              const r = recorded.get(`openalex:work:${id}`);
              const body = r && r.status === 200 ? (rewriteLinks(JSON.parse(r.body.toString('utf8'))) as Record<string, unknown>) : corpus.get(id) ? openAlexWork(corpus.get(id)!, urls) : undefined;
              if (body) results.push(body);
            }
            const select = q.get('select')?.split(',').map((f) => f.trim()).filter(Boolean);
            const shown = results.slice(0, per).map((w) => (select ? Object.fromEntries(select.filter((f) => f in w).map((f) => [f, w[f]])) : w));
            return json(res, 200, { meta: { count: results.length, db_response_time_ms: 4, page: 1, per_page: per, groups_count: null }, results: shown, group_by: [] });
          }
          const ts = /(?:^|,)(?:title\.search|display_name\.search):([^,]*)/.exec(filter)?.[1];
          const text = ts ?? q.get('search') ?? '';
          const r = recorded.get(`openalex:q:${normQuery(text)}`);
          if (r) return sendRecorded(res, r);
          const per = Math.min(Number(q.get('per-page') ?? q.get('per_page') ?? '25') || 25, 200);
          const { total, hits } = corpus.search({ text }, per);
          return json(res, 200, {
            meta: { count: total, db_response_time_ms: 3, page: 1, per_page: per, groups_count: null },
            results: hits.map((h) => openAlexWork(h.e, urls, h.score * 10)),
            group_by: [],
          });
        }
        return json(res, 404, { error: 'Not found' });
      }
      case 'semanticScholar': {
        const fields = q.get('fields');
        if (rest === '/graph/v1/paper/search/match') {
          const text = q.get('query') ?? '';
          const r = recorded.get(`s2:q:${normQuery(text)}`);
          if (r) return sendRecorded(res, r);
          const { hits } = corpus.search({ text }, 1);
          if (!hits.length || hits[0].score < 50) return json(res, 404, { error: 'Title match not found' });
          return json(res, 200, { data: [s2Paper(hits[0].e, urls, fields, hits[0].score * 2)] });
        }
        if (rest === '/graph/v1/paper/batch') {
          // POST {"ids": [...]}: an array in the order of the ids, null for each id it does not know.
          if (req.method !== 'POST') return json(res, 405, { message: 'Method Not Allowed' });
          let ids: unknown;
          try {
            ids = (JSON.parse(reqBody) as { ids?: unknown }).ids;
          } catch {
            return json(res, 400, { error: 'Unacceptable request body: not JSON' });
          }
          if (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string')) return json(res, 400, { error: 'Unrecognized or missing field: ids' });
          if (ids.length > 500) return json(res, 400, { error: '-ids: Too many ids. Maximum is 500.' });
          const out = (ids as string[]).map((raw) => {
            const doi = raw.replace(/^DOI:/i, '').toLowerCase();
            if (!/^arxiv:/i.test(raw)) {
              const r = recorded.get(`s2:paper:${doi}`);
              if (r) return r.status === 200 ? rewriteLinks(JSON.parse(r.body.toString('utf8'))) : null;
            }
            const e = /^arxiv:/i.test(raw) ? corpus.getArxiv(raw.slice(6)) : corpus.get(doi);
            return e ? s2Paper(e, urls, fields) : null;
          });
          return json(res, 200, out);
        }
        const m = /^\/graph\/v1\/paper\/(.+)$/.exec(rest);
        if (m) {
          const raw = decode(m[1]);
          const doi = raw.replace(/^DOI:/i, '').toLowerCase();
          const r = recorded.get(`s2:paper:${doi}`);
          if (r) return sendRecorded(res, r);
          const e = /^arxiv:/i.test(raw) ? corpus.getArxiv(raw.slice(6)) : corpus.get(doi);
          if (e) return json(res, 200, s2Paper(e, urls, fields));
          return json(res, 404, { error: `Paper with id ${raw} not found` });
        }
        return json(res, 404, { error: 'Not found' });
      }
      case 'unpaywall': {
        if (!q.get('email')) return json(res, 422, { HTTP_status_code: 422, error: true, message: 'You must provide an email parameter' });
        const doi = decode(rest.replace(/^\/v2\//, '')).toLowerCase();
        const r = recorded.get(`unpaywall:${doi}`);
        if (r) return sendRecorded(res, r);
        const e = corpus.get(doi);
        if (e) return json(res, 200, unpaywallRecord(e, urls));
        return json(res, 404, { HTTP_status_code: 404, error: true, message: `'${doi}' is an invalid doi. See https://doi.org/` });
      }
      case 'arxiv': {
        if (rest.startsWith('/pdf/') || rest.startsWith('/abs/')) {
          const id = decode(rest.slice(5)).replace(/v\d+$/, '');
          const e = corpus.getArxiv(id);
          if (!e) return send(res, 404, 'text/html', '<html><body>Article identifier not recognized</body></html>');
          if (rest.startsWith('/abs/'))
            return send(res, 200, 'text/html; charset=utf-8', landingHtml(e, `${origin}/arxiv/pdf/${id}`));
          return sendPdf(res, e, e.pdfBytes);
        }
        if (rest === '/api/query') {
          const ids = q.get('id_list') ?? '';
          const sq = q.get('search_query') ?? '';
          const max = Number(q.get('max_results') ?? '10') || 10;
          const r = ids ? recorded.get(`arxiv:id:${ids.toLowerCase()}`) : recorded.get(`arxiv:q:${normQuery(sq)}`);
          if (r) return sendRecorded(res, r);
          const query = `search_query=${sq}&id_list=${ids}&start=0&max_results=${max}`;
          if (ids) {
            const entries = ids.split(',').map((i) => corpus.getArxiv(i.trim())).filter((e): e is CorpusEntry => !!e);
            return send(res, 200, 'application/atom+xml', arxivFeed(entries.slice(0, max), urls, query));
          }
          const text = sq.replace(/\b(ti|au|abs|all):/g, ' ').replace(/\b(AND|OR|ANDNOT)\b/g, ' ');
          const { total, hits } = corpus.search({ text, arxivOnly: true }, max);
          return send(res, 200, 'application/atom+xml', arxivFeed(hits.map((h) => h.e), urls, query, total));
        }
        return send(res, 404, 'text/plain', 'Not found');
      }
      case 'doi': {
        const h = /^\/api\/handles\/(.+)$/.exec(rest);
        if (h) {
          const doi = decode(h[1]).toLowerCase();
          if (!corpus.get(doi)) return json(res, 404, { responseCode: 100, handle: decode(h[1]) });
          return json(res, 200, {
            responseCode: 1,
            handle: decode(h[1]),
            values: [
              { index: 1, type: 'URL', data: { format: 'string', value: urls.landing(doi) }, ttl: 86400, timestamp: '2025-01-01T00:00:00Z' },
              { index: 100, type: 'HS_ADMIN', data: { format: 'admin', value: { handle: '0.na/10.replay', index: 200, permissions: '111111110010' } }, ttl: 86400, timestamp: '2025-01-01T00:00:00Z' },
            ],
          });
        }
        // DataCite's content-negotiation service (data.crosscite.org), for arXiv DOIs of corpus works.
        const dc = /^\/_datacite\/(10\.48550\/arxiv\.(.+))$/i.exec(decode(rest));
        if (dc) {
          const e = corpus.getArxiv(dc[2]);
          return e ? json(res, 200, dataciteCslFor(e)) : send(res, 404, 'text/plain', 'The resource you are looking for does not exist.');
        }
        const doi = decode(rest.slice(1));
        const arxivDoi = /^10\.48550\/arxiv\.(.+)$/i.exec(doi);
        if (arxivDoi && corpus.getArxiv(arxivDoi[1]) && /citationstyles|csl\+json/.test(accept)) {
          const location = `${origin}/doi/_datacite/${encodeURIComponent(doi.toLowerCase()).replace(/%2F/g, '/')}`;
          res.writeHead(302, { location, 'content-type': 'text/html;charset=utf-8' });
          res.end(`<html><head><title>Handle Redirect</title></head>\n<body><a href="${location}">${location}</a></body></html>`);
          return;
        }
        if (!/^10\.\d{4,9}\//.test(doi)) {
          const r = recorded.get('doi:400');
          return r ? sendRecorded(res, r) : send(res, 400, 'text/html', '<h1>Invalid DOI</h1>');
        }
        const e = corpus.get(doi);
        if (!e && !recorded.has(`bibtex:${doi.toLowerCase()}`)) {
          const r = recorded.get('doi:404');
          return r ? sendRecorded(res, r) : send(res, 404, 'text/html', '<h1>DOI Not Found</h1>');
        }
        let location: string;
        if (/x-bibtex|citationstyles|csl\+json/.test(accept)) location = `${origin}/crossref/v1/works/${encodeURIComponent(doi)}/transform`;
        else location = urls.landing(doi.toLowerCase());
        res.writeHead(302, { location, 'content-type': 'text/html;charset=utf-8' });
        res.end(`<html><head><title>Handle Redirect</title></head>\n<body><a href="${location}">${location}</a></body></html>`);
        return;
      }
      case 'landing': {
        const doi = decode(rest.slice(1)).toLowerCase();
        const e = corpus.get(doi);
        if (!e) return send(res, 404, 'text/html', '<html><body>Not found</body></html>');
        const pdf = e.oa === 'closed' && !e.arxivId ? undefined : urls.pdf(doi);
        return send(res, 200, 'text/html; charset=utf-8', landingHtml(e, url.searchParams.has('repository') || e.oa !== 'closed' ? pdf : undefined));
      }
      case 'resolver': {
        // A library's resolver finds subscription papers too: every DOI of the corpus, open or closed.
        // /resolver/html/<doi>: a results page whose PDF link is relative; /resolver/json/<doi>: an API.
        const m = /^\/(html|json)\/(.+)$/.exec(rest);
        const doi = m ? decode(m[2]!).toLowerCase() : '';
        const e = m ? corpus.get(doi) : undefined;
        if (!m || !e) return m?.[1] === 'json' ? json(res, 404, { error: 'not found' }) : send(res, 404, 'text/html', '<html><body>No full text for this DOI</body></html>');
        const pdfPath = `/pdf/${doi}.pdf`;
        if (m[1] === 'json') return json(res, 200, { doi, links: [{ kind: 'landing', href: urls.landing(doi) }, { kind: 'pdf', href: `${origin}${pdfPath}` }], results: [{ pdf: `${origin}${pdfPath}`, page: urls.landing(doi) }] });
        const esc = (x: string) => x.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
        return send(res, 200, 'text/html; charset=utf-8', `<!doctype html><html><head><title>Library full text</title></head><body>
<div class="result"><span class="title">${esc(doi)}</span>
<a class="landing" href="${esc(urls.landing(doi))}">Publisher page</a>
<a id="pdf-link" class="download" href="${esc(pdfPath)}">Download PDF</a></div></body></html>
`);
      }
      case 'pdf': {
        const doi = decode(rest.slice(1)).replace(/\.pdf$/i, '').toLowerCase();
        const e = corpus.get(doi);
        if (!e) return send(res, 404, 'text/html', '<html><body>Not found</body></html>');
        return sendPdf(res, e, e.pdfBytes);
      }
    }
  }

  function landingHtml(e: CorpusEntry, pdfUrl?: string): string {
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    const title = String(Array.isArray(e.item.title) ? e.item.title[0] : (e.item.title ?? ''));
    const authors = (e.item.author ?? []).map((a: { family?: string; given?: string; name?: string }) => `<meta name="citation_author" content="${esc(a.family ? `${a.family}, ${a.given ?? ''}` : (a.name ?? ''))}">`).join('\n');
    return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="citation_title" content="${esc(title)}">
${authors}
<meta name="citation_doi" content="${esc(String(e.item.DOI))}">
${pdfUrl ? `<meta name="citation_pdf_url" content="${esc(pdfUrl)}">` : ''}
</head><body><h1>${esc(title)}</h1>${pdfUrl ? `<a href="${esc(pdfUrl)}">PDF</a>` : '<p>Subscription required.</p>'}</body></html>
`;
  }

  async function sendPdf(res: http.ServerResponse, e: CorpusEntry, bytes?: number): Promise<void> {
    const title = String(Array.isArray(e.item.title) ? e.item.title[0] : (e.item.title ?? ''));
    const pdf = makePdf({ title, doi: String(e.item.DOI) }, bytes ?? options.pdfBytes);
    res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(pdf.length) });
    const bw = options.pdfBandwidth;
    if (!bw) return void res.end(pdf);
    const tick = 50;
    const per = Math.max(1, Math.floor((bw * tick) / 1000));
    for (let off = 0; off < pdf.length && !res.destroyed; off += per) {
      res.write(pdf.subarray(off, off + per));
      if (off + per < pdf.length) await sleep(tick);
    }
    if (!res.destroyed) res.end();
  }

  function serverStats(): ReplayStats {
    const maxInFlight = { ...stats.maxInFlight };
    for (const [s, l] of limiters) if (!s.includes(':')) maxInFlight[s as ReplayService] = Math.max(maxInFlight[s as ReplayService] ?? 0, l.maxInFlight);
    // With publisher hosts the PDF limit is per host: the highest any one host saw.
    if (pdfHosts.length) maxInFlight.pdf = Math.max(0, ...[...hostLimiters.values()].map((l) => l.maxInFlight));
    return { ...stats, maxInFlight, log: [...stats.log], violationLog: [...stats.violationLog] };
  }

  const endpoints = Object.fromEntries(
    (Object.keys(SERVICE_PREFIX) as ReplayService[]).filter((s) => s !== 'landing' && s !== 'resolver').map((s) => [s, `${origin}${SERVICE_PREFIX[s]}`]),
  ) as Record<ServiceName, string>;

  return {
    origin,
    endpoints,
    stats: serverStats,
    resetStats: () => {
      stats = { requests: {}, violations: {}, status429: {}, maxInFlight: {}, log: [], violationLog: [] };
      spent.clear();
      for (const l of limiters.values()) l.maxInFlight = 0;
      for (const l of hostLimiters.values()) l.maxInFlight = 0;
    },
    setOptions: (partial) => {
      options = { ...options, ...partial };
      syncLimiters();
    },
    addWorks: (works) => corpus.add(works),
    close: () =>
      new Promise<void>((resolve) => {
        let open = 1 + hostServers.length;
        for (const srv of [server, ...hostServers]) srv.close(() => --open === 0 && resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
