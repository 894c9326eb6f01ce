// A service Scholar stopped asking for the rest of a job, and the one sentence that says why and
// what to do. Core decides the facts; the editor and the CLI name their own settings in the fix.
import { ERROR_CODES, type ErrorCode } from '../errors';
import type { ServiceName } from './policy';

export type NetIssueCode = Extract<ErrorCode, 'E_UNREACHABLE' | 'E_TLS' | 'E_PROXY' | 'E_PROXY_AUTH' | 'E_QUOTA_EXHAUSTED' | 'E_KEY_REQUIRED'>;

export interface NetIssue {
  code: NetIssueCode;
  service: ServiceName;
  /** The lane that stopped: the service, or `pdf:<host>` for one publisher host. */
  lane: string;
  /** Host (and port) of the target. */
  host: string;
  /** What failed, in a few words, e.g. "DNS lookup failed (ENOTFOUND)". */
  cause: string;
  /** The proxy in use, without credentials. */
  proxy?: string;
  at: number;
}

export type Frontend = 'vscode' | 'cli';

const SERVICE_LABEL: Record<ServiceName, string> = {
  crossref: 'Crossref',
  openalex: 'OpenAlex',
  semanticScholar: 'Semantic Scholar',
  arxiv: 'arXiv',
  unpaywall: 'Unpaywall',
  doi: 'doi.org',
  pdf: 'PDF host',
};

function fix(i: NetIssue, ui: Frontend): string {
  const proxySetting = ui === 'vscode' ? 'the `http.proxy` setting' : 'HTTPS_PROXY (or --proxy URL)';
  switch (i.code) {
    case 'E_UNREACHABLE':
      return i.proxy
        ? `the proxy ${i.proxy} could not reach it; check the proxy, or bypass it for this host (${ui === 'vscode' ? '`http.noProxy`' : 'NO_PROXY'})`
        : `offline, or behind a proxy? Set ${proxySetting}`;
    case 'E_TLS':
      return ui === 'vscode'
        ? 'behind a TLS-inspecting firewall? Keep `http.systemCertificates` on and install its certificate in the system store'
        : "behind a TLS-inspecting firewall? Point NODE_EXTRA_CA_CERTS at its certificate";
    case 'E_PROXY':
      return `check ${ui === 'vscode' ? '`http.proxy`' : 'HTTPS_PROXY / HTTP_PROXY (or --proxy)'}`;
    case 'E_PROXY_AUTH':
      return ui === 'vscode'
        ? 'add credentials to `http.proxy` (http://user:password@host:port) or set `http.proxyAuthorization`'
        : 'add credentials to the proxy URL (http://user:password@host:port)';
    case 'E_QUOTA_EXHAUSTED':
    case 'E_KEY_REQUIRED':
      return ui === 'vscode'
        ? 'add a free OpenAlex API key with the command "Scholar: Set API Key" (openalex.org/settings/api)'
        : 'set OPENALEX_API_KEY to a free key from openalex.org/settings/api';
  }
}

/** One line: which service, where, why, and the likely fix. Never contains credentials. */
export function describeNetIssue(i: NetIssue, ui: Frontend): string {
  const what = i.service === 'pdf' ? `PDF host ${i.host}` : `${SERVICE_LABEL[i.service]} (${i.host})`;
  const via = i.proxy && i.code !== 'E_PROXY' && i.code !== 'E_PROXY_AUTH' ? ` via proxy ${i.proxy}` : '';
  const head =
    i.code === 'E_PROXY' || i.code === 'E_PROXY_AUTH'
      ? `${what}: proxy ${i.proxy ?? '?'}: ${i.cause}`
      : `${what}${via}: ${ERROR_CODES[i.code].text.replace(/ \(offline, or behind a proxy\?\)$/, '')}: ${i.cause}`;
  return `${head}. Scholar stops asking it for the rest of this job; ${fix(i, ui)}. Entries that failed this way can be retried.`;
}
