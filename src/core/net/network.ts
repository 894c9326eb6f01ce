// The network Scholar's requests go through: direct, or through an HTTP(S) forward proxy, with the
// certificates the user trusts. The editor builds it from VS Code's `http.*` settings, the CLI from
// HTTPS_PROXY / HTTP_PROXY / NO_PROXY and --proxy. Scholar never touches the global dispatcher (the
// extension host is shared), so VS Code's own proxy patching of Node's stack does not reach our
// undici agents: without this module every request bypasses the proxy.
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

export interface NetworkOptions {
  /** Proxy URL for http:// targets (`http://[user:pass@]host:port`); undefined = direct. */
  httpProxy?: string;
  /** Proxy URL for https:// targets (tunnelled with CONNECT); undefined = direct. */
  httpsProxy?: string;
  /** Hosts that bypass the proxy: `host`, `.domain` / `*.domain` (subdomains), `host:port`, `*`. */
  noProxy?: string[];
  /** Sent as Proxy-Authorization (VS Code's `http.proxyAuthorization`); credentials in the URL win. */
  proxyAuthorization?: string;
  /** false: accept any certificate from services and proxies (VS Code's `http.proxyStrictSSL: false`). */
  strictSSL?: boolean;
  /** Extra trusted CA certificates (PEM text), on top of Node's bundled roots. */
  ca?: string[];
  /** Also trust the operating system's certificate store (VS Code's `http.systemCertificates`). */
  systemCertificates?: boolean;
}

export interface Route {
  dispatcher: Dispatcher;
  /** The proxy used for this target, without credentials (for messages and logs). */
  proxy?: string;
}

/** A proxy URL with its credentials removed, for anything a user or a log may see. */
export function redactProxy(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(unparseable proxy URL)';
  }
}

/** Checks a proxy setting; `none`/empty means direct. Throws a message naming what is wrong (never the credentials). */
export function parseProxyUrl(raw: string | undefined): string | undefined {
  const v = raw?.trim();
  if (!v || v.toLowerCase() === 'none') return undefined;
  // `host:port` without a scheme is what many people put in HTTP_PROXY; curl reads it as http.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new Error(`not a proxy URL: ${redactProxy(withScheme) === '(unparseable proxy URL)' ? v.replace(/\/\/[^@/]*@/, '//***@') : redactProxy(withScheme)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported proxy scheme ${u.protocol} (use http:// or https://)`);
  return u.toString();
}

export function parseNoProxy(raw: string | string[] | undefined): string[] {
  const parts = Array.isArray(raw) ? raw : (raw ?? '').split(/[,\s]+/);
  return parts.map((p) => p.trim().toLowerCase()).filter(Boolean);
}

/** The conventional environment variables, lower case first (as curl and undici read them). */
export function networkFromEnv(env: Record<string, string | undefined>): Pick<NetworkOptions, 'httpProxy' | 'httpsProxy' | 'noProxy'> {
  const get = (name: string) => env[name.toLowerCase()] ?? env[name.toUpperCase()];
  const httpProxy = parseProxyUrl(get('http_proxy'));
  // HTTPS_PROXY falls back to HTTP_PROXY, as undici's EnvHttpProxyAgent does.
  const httpsProxy = parseProxyUrl(get('https_proxy')) ?? httpProxy;
  return { httpProxy, httpsProxy, noProxy: parseNoProxy(get('no_proxy')) };
}

/** Whether a target host bypasses the proxy. */
export function bypassesProxy(url: URL, noProxy: readonly string[]): boolean {
  if (!noProxy.length) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  for (const entry of noProxy) {
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry)!;
    const h = m[1].replace(/^\*?\./, '').replace(/^\[|\]$/g, '');
    if (m[2] && Number(m[2]) !== port) continue;
    if (host === h || host.endsWith(`.${h}`)) return true;
  }
  return false;
}

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/pki/tls/cacert.pem', '/etc/ssl/cert.pem'];

/**
 * The operating system's trusted certificates: Node's own reader where it has one (Node ≥ 22.15),
 * else the distribution's bundle file on Linux (where a TLS-inspecting firewall's certificate is
 * installed). On macOS and Windows under an older Node this finds nothing and Node's roots apply.
 */
function systemCertificates(env: Record<string, string | undefined>): string[] {
  const getCA = (tls as unknown as { getCACertificates?: (kind: string) => string[] }).getCACertificates;
  if (typeof getCA === 'function') {
    try {
      return getCA('system');
    } catch {
      // fall through to the files
    }
  }
  for (const f of [env.SSL_CERT_FILE, ...SYSTEM_BUNDLES]) {
    if (!f) continue;
    try {
      return [readFileSync(f, 'utf8')];
    } catch {
      // not on this system
    }
  }
  return [];
}

/** The `ca` list for TLS, or undefined for Node's defaults (which already include NODE_EXTRA_CA_CERTS). */
export function trustedCas(opts: NetworkOptions, env: Record<string, string | undefined> = process.env): string[] | undefined {
  const extra = [...(opts.ca ?? []), ...(opts.systemCertificates ? systemCertificates(env) : [])];
  if (!extra.length) return undefined;
  // An explicit `ca` replaces Node's roots and NODE_EXTRA_CA_CERTS: add them back.
  const out = [...tls.rootCertificates, ...extra];
  if (env.NODE_EXTRA_CA_CERTS) {
    try {
      out.push(readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8'));
    } catch {
      // Node itself only warns about an unreadable file
    }
  }
  return out;
}

/** Key in a request's dispatch options: called when the request's bytes start going out. */
export const DEPARTURE = 'scholarOnDeparture';
/** Key in a request's dispatch options: called when the answer's status line and headers arrive. */
export const ANSWERED = 'scholarOnAnswer';

type DispatchOpts = Dispatcher.DispatchOptions & { [DEPARTURE]?: () => void; [ANSWERED]?: () => void };

/**
 * Calls the request's departure callback from undici's `onRequestStart`, which the HTTP/1 client
 * invokes right before it writes the request to a connected socket (after DNS, TCP, a proxy's
 * CONNECT and TLS), and its answer callback from `onResponseStart`. The rate gate spaces by the
 * first and anchors its windows on the second (the server has seen a request it answered).
 */
const departureInterceptor: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const cb = (opts as DispatchOpts)[DEPARTURE];
  const onAnswer = (opts as DispatchOpts)[ANSWERED];
  if (!cb && !onAnswer) return dispatch(opts, handler);
  const h = handler as Dispatcher.DispatchHandler;
  const wrapped: Dispatcher.DispatchHandler = {
    onRequestStart: (controller, context) => {
      cb?.();
      h.onRequestStart?.(controller, context);
    },
    onRequestUpgrade: (controller, statusCode, headers, socket) => h.onRequestUpgrade?.(controller, statusCode, headers, socket),
    onResponseStart: (controller, statusCode, headers, statusMessage) => {
      onAnswer?.();
      return h.onResponseStart?.(controller, statusCode, headers, statusMessage);
    },
    onResponseData: (controller, chunk) => h.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => h.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, err) => h.onResponseError?.(controller, err),
  };
  return dispatch(opts, wrapped);
};

/** One set of dispatchers (direct, http proxy, https proxy) for one connect timeout. */
export class Network {
  private readonly direct: Dispatcher;
  private readonly viaHttp?: Dispatcher;
  private readonly viaHttps?: Dispatcher;
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly noProxy: string[];
  private readonly httpProxy?: string;
  private readonly httpsProxy?: string;

  constructor(opts: NetworkOptions, connectMs: number, env: Record<string, string | undefined> = process.env) {
    const ca = trustedCas(opts, env);
    const rejectUnauthorized = opts.strictSSL !== false;
    const tlsOpts = { ...(ca ? { ca } : {}), rejectUnauthorized, timeout: connectMs };
    const agent = new Agent({ connect: tlsOpts, keepAliveTimeout: 10_000 } as Agent.Options);
    this.closers.push(() => agent.close());
    this.direct = agent.compose(departureInterceptor);
    this.noProxy = opts.noProxy ?? [];
    const proxyAgent = (uri: string) => {
      const u = new URL(uri);
      const p = new ProxyAgent({
        uri,
        // Plain http:// targets go as absolute-form requests, as browsers and curl send them; https
        // targets are tunnelled with CONNECT either way.
        proxyTunnel: false,
        ...(opts.proxyAuthorization && !u.username ? { token: opts.proxyAuthorization } : {}),
        requestTls: tlsOpts,
        proxyTls: tlsOpts,
        keepAliveTimeout: 10_000,
      } as ProxyAgent.Options);
      this.closers.push(() => p.close());
      return p.compose(departureInterceptor);
    };
    if (opts.httpProxy) {
      this.httpProxy = opts.httpProxy;
      this.viaHttp = proxyAgent(opts.httpProxy);
    }
    if (opts.httpsProxy) {
      this.httpsProxy = opts.httpsProxy;
      this.viaHttps = opts.httpsProxy === opts.httpProxy && this.viaHttp ? this.viaHttp : proxyAgent(opts.httpsProxy);
    }
  }

  route(url: URL): Route {
    const https = url.protocol === 'https:';
    const via = https ? this.viaHttps : this.viaHttp;
    const proxy = https ? this.httpsProxy : this.httpProxy;
    if (!via || !proxy || bypassesProxy(url, this.noProxy)) return { dispatcher: this.direct };
    return { dispatcher: via, proxy: redactProxy(proxy) };
  }

  async close(): Promise<void> {
    await Promise.all(this.closers.map((c) => c().catch(() => undefined)));
  }
}
