import * as vscode from 'vscode';
import * as path from 'node:path';
import type { HttpOptions } from '../core/net/http';
import { networkFromEnv, parseNoProxy, parseProxyUrl, type NetworkOptions } from '../core/net/network';
import { rateFromPerSecond, type PolicyOverrides, type ServiceName } from '../core/net/policy';
import { ALL_PDF_SOURCES, DEFAULT_DOWNLOAD_WORKERS, type PdfSourceName } from '../core/jobs/fetch';
import { DEFAULT_MAX_IN_FLIGHT } from '../core/jobs/run';
import { FALLBACK_RULES, type FallbackRule } from '../core/resolve/plausible';
import { ScholarError } from '../core/errors';
import { parseResolvers, type PdfResolver } from '../core/resolvers/zotero';
import { defaultDownloadsFolder } from '../core/attach/downloads';
import { DEFAULT_DOI_LINK_BASE } from '../core/attach/links';
import { API_SERVICES } from '../core/services';
import { isInside, isLexicallyInside } from '../core/paths';


/**
 * A value that only the user may set (user or remote-machine settings). A cloned repository's
 * .vscode/settings.json must not redirect traffic or harvest the user's email, so workspace and
 * folder values are ignored, whatever the declared scope.
 */
function userValue<T>(cfg: vscode.WorkspaceConfiguration, key: string): T | undefined {
  const i = cfg.inspect<T>(key);
  return i?.globalValue ?? i?.defaultValue;
}

export interface ScholarConfig {
  storageRoot: string;
  http: HttpOptions;
  pdfSources: PdfSourceName[];
  autoProcessOnSave: boolean;
  pdfViewer: 'vscode' | 'system';
  maxInFlight: number;
  downloadWorkers: number;
  /** EZproxy/OpenAthens template for "Open via Library" ('' = not set). */
  institutionalProxy: string;
  doiLinkBase: string;
  pdfResolvers: PdfResolver[];
  /** Resolver configurations that were refused, with the reason (shown in the log). */
  resolverErrors: string[];
  /** A storage folder Scholar creates gets a .gitignore that ignores everything in it. */
  storageGitignore: boolean;
  downloadsFolder: string;
  /** scholar.resolve.fallbacks: which entries the fallbacks after Crossref are asked for. */
  resolveFallbacks: FallbackRule;
}

/**
 * Settings that send the user's traffic or their DOIs somewhere (a proxy, a link base, resolvers,
 * a folder to read) are read from user settings only, like the endpoints.
 */
export function userLinkSettings(): { institutionalProxy: string; doiLinkBase: string; downloadsFolder: string } {
  const cfg = vscode.workspace.getConfiguration('scholar');
  return {
    institutionalProxy: userValue<string>(cfg, 'institutionalProxy')?.trim() ?? '',
    doiLinkBase: userValue<string>(cfg, 'doiLinkBase')?.trim() || DEFAULT_DOI_LINK_BASE,
    downloadsFolder: userValue<string>(cfg, 'downloadsFolder')?.trim() || defaultDownloadsFolder(),
  };
}

/** Resolves `scholar.storageFolder` inside the workspace folder, refusing anything that escapes it (also through symlinks). */
export function storageRootFor(folder: vscode.WorkspaceFolder, setting: string | undefined): string {
  const ws = folder.uri.fsPath;
  const rel = (setting ?? 'storage').trim() || 'storage';
  const abs = path.resolve(ws, rel);
  if (abs === path.resolve(ws) || !isLexicallyInside(ws, abs)) {
    throw new ScholarError('E_STORAGE_OUTSIDE', vscode.l10n.t('scholar.storageFolder "{0}" is outside the workspace folder; Scholar keeps its library inside the workspace', rel));
  }
  if (!isInside(ws, abs)) {
    throw new ScholarError('E_STORAGE_OUTSIDE', vscode.l10n.t('scholar.storageFolder "{0}" leads outside the workspace folder through a symbolic link', rel));
  }
  return abs;
}

/**
 * Scholar's network from VS Code's own settings, as VS Code applies them to Node's stack (which
 * Scholar's undici agents do not go through): `http.proxy`, else the HTTP(S)_PROXY environment
 * VS Code was started with; `http.noProxy` plus NO_PROXY; `http.proxyAuthorization`;
 * `http.proxyStrictSSL`; `http.systemCertificates`. User-level values only, as VS Code reads them.
 */
export function readNetwork(env: Record<string, string | undefined> = process.env): NetworkOptions {
  const cfg = vscode.workspace.getConfiguration('http');
  let fromEnv: ReturnType<typeof networkFromEnv> = { noProxy: [] };
  try {
    fromEnv = networkFromEnv(env);
  } catch {
    // A malformed proxy variable in the environment: VS Code ignores it too.
  }
  let proxy: string | undefined;
  try {
    proxy = parseProxyUrl(userValue<string>(cfg, 'proxy'));
  } catch (err) {
    throw new ScholarError('E_CONFIG', vscode.l10n.t('http.proxy: {0}', (err as Error).message));
  }
  const noProxy = [...parseNoProxy(userValue<string[]>(cfg, 'noProxy') ?? []), ...(fromEnv.noProxy ?? [])];
  const auth = userValue<string | null>(cfg, 'proxyAuthorization');
  return {
    ...(proxy ? { httpProxy: proxy, httpsProxy: proxy } : { httpProxy: fromEnv.httpProxy, httpsProxy: fromEnv.httpsProxy }),
    noProxy,
    ...(typeof auth === 'string' && auth.trim() ? { proxyAuthorization: auth.trim() } : {}),
    strictSSL: userValue<boolean>(cfg, 'proxyStrictSSL') ?? true,
    systemCertificates: userValue<boolean>(cfg, 'systemCertificates') ?? true,
  };
}

export function readConfig(folder: vscode.WorkspaceFolder, secrets: { openalex?: string; semanticScholar?: string }): ScholarConfig {
  const cfg = vscode.workspace.getConfiguration('scholar', folder.uri);
  const endpoints: Partial<Record<ServiceName, string>> = {};
  const policies: PolicyOverrides = {};
  for (const s of API_SERVICES) {
    const url = userValue<string>(cfg, `endpoints.${s}`)?.trim();
    if (url) {
      let u: URL | undefined;
      try {
        u = new URL(url);
      } catch {
        u = undefined;
      }
      if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new ScholarError('E_CONFIG', vscode.l10n.t('scholar.endpoints.{0} must be an http or https URL', s));
      endpoints[s] = url.replace(/\/+$/, '');
    }
    const rps = userValue<number>(cfg, `limits.${s}.requestsPerSecond`);
    const conc = userValue<number>(cfg, `limits.${s}.concurrency`);
    const o: NonNullable<PolicyOverrides[ServiceName]> = {};
    if (typeof rps === 'number' && rps > 0) o.rate = rateFromPerSecond(rps);
    if (typeof conc === 'number' && conc >= 1) o.concurrency = Math.floor(conc);
    if (Object.keys(o).length) policies[s] = o;
  }
  // Downloads go to publishers' hosts: the limit applies to each host separately.
  const pdfRps = userValue<number>(cfg, 'limits.pdf.requestsPerSecond');
  const pdfConc = userValue<number>(cfg, 'limits.pdf.concurrency');
  if ((typeof pdfRps === 'number' && pdfRps > 0) || (typeof pdfConc === 'number' && pdfConc >= 1)) {
    policies.pdf = {
      ...(typeof pdfRps === 'number' && pdfRps > 0 ? { rate: pdfRps >= 1 ? { requests: Math.round(pdfRps), intervalMs: 1000 } : { requests: 1, intervalMs: Math.round(1000 / pdfRps) } } : {}),
      ...(typeof pdfConc === 'number' && pdfConc >= 1 ? { concurrency: Math.floor(pdfConc) } : {}),
    };
  }
  const email = userValue<string>(cfg, 'contactEmail')?.trim() || undefined;
  const sources = (cfg.get<string[]>('pdf.sources') ?? [...ALL_PDF_SOURCES]).filter((x): x is PdfSourceName => (ALL_PDF_SOURCES as readonly string[]).includes(x));
  const resolvers = parseResolvers(userValue<unknown>(cfg, 'pdf.resolvers'));
  return {
    storageRoot: storageRootFor(folder, cfg.get<string>('storageFolder')),
    http: { email, endpoints, policies, apiKeys: secrets, network: readNetwork() },
    pdfSources: sources,
    autoProcessOnSave: cfg.get<boolean>('autoProcessOnSave') ?? false,
    pdfViewer: cfg.get<'vscode' | 'system'>('pdf.viewer') ?? 'vscode',
    maxInFlight: userValue<number>(cfg, 'pipeline.concurrency') ?? DEFAULT_MAX_IN_FLIGHT,
    downloadWorkers: userValue<number>(cfg, 'pipeline.downloadWorkers') ?? DEFAULT_DOWNLOAD_WORKERS,
    ...userLinkSettings(),
    pdfResolvers: resolvers.resolvers,
    resolverErrors: resolvers.errors,
    storageGitignore: cfg.get<boolean>('storage.gitignore') ?? true,
    resolveFallbacks: fallbackRuleOf(cfg.get<string>('resolve.fallbacks')),
  };
}

/** An unknown value (a typo in settings.json) falls back to the default rule. */
function fallbackRuleOf(v: string | undefined): FallbackRule {
  return (FALLBACK_RULES as readonly string[]).includes(v ?? '') ? (v as FallbackRule) : 'plausible';
}
