// doi.org: content negotiation (https://citation.crosscite.org/docs.html), the Handle API
// (https://www.doi.org/the-identifier/resources/factsheets/doi-resolution-documentation) and landing pages.
import { ScholarError } from '../errors';
import type { ScholarHttp } from '../net/http';
import { doiPath } from '../doi';
import { decodeEntities } from '../entities';

/** BibTeX by content negotiation; null when the DOI is unknown (404). */
export async function bibtex(http: ScholarHttp, doi: string, signal?: AbortSignal): Promise<string | null> {
  const res = await http.request('doi', `/${doiPath(doi)}`, {
    headers: { accept: 'application/x-bibtex; charset=utf-8' },
    kind: 'text',
    allowStatus: [404],
    signal,
  });
  return res.status === 404 ? null : res.text().trim();
}

/** CSL-JSON by content negotiation; null when the DOI is unknown (404). */
export async function cslJson(http: ScholarHttp, doi: string, signal?: AbortSignal): Promise<Record<string, unknown> | null> {
  const res = await http.request('doi', `/${doiPath(doi)}`, {
    headers: { accept: 'application/vnd.citationstyles.csl+json' },
    kind: 'json',
    allowStatus: [404],
    signal,
  });
  return res.status === 404 ? null : res.json<Record<string, unknown>>();
}

export interface HandleInfo {
  exists: boolean;
  url?: string;
}

/** Checks registration via the Handle API without following the DOI to its (possibly slow) target. */
export async function handle(http: ScholarHttp, doi: string, signal?: AbortSignal): Promise<HandleInfo> {
  const res = await http.request('doi', `/api/handles/${doiPath(doi)}`, { allowStatus: [404], signal });
  if (res.status === 404) return { exists: false };
  const body = res.json<{ responseCode?: number; values?: { type?: string; data?: { value?: unknown } }[] }>();
  if (body.responseCode !== 1) return { exists: false };
  const url = body.values?.find((v) => v.type === 'URL')?.data?.value;
  return { exists: true, url: typeof url === 'string' ? url : undefined };
}

export interface LandingPage {
  html: string;
  finalUrl: string;
  contentType?: string;
}

/** Follows the DOI to the publisher page (same redirect rules as every request) and returns its HTML. */
export async function landingPage(http: ScholarHttp, doi: string, signal?: AbortSignal): Promise<LandingPage> {
  const res = await http.request('doi', `/${doiPath(doi)}`, { kind: 'html', signal });
  const ct = res.headers['content-type'];
  if (ct && !/html|xml/i.test(ct))
    throw new ScholarError('E_NOT_HTML', `Landing page is ${ct}, not HTML`, { contentType: ct, url: res.url });
  return { html: res.text(), finalUrl: res.url, contentType: ct };
}

function metaAttr(tagText: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s"'>]+))`, 'i').exec(tagText);
  return m ? (m[2] ?? m[3] ?? m[4]) : undefined;
}

/** The Highwire `citation_pdf_url` meta tag, resolved against the page URL; only http(s) results. */
export function citationPdfUrl(html: string, baseUrl: string): string | undefined {
  for (const m of html.matchAll(/<meta\b[^>]*>/gi)) {
    const t = m[0];
    const name = metaAttr(t, 'name') ?? metaAttr(t, 'property');
    if (!name || name.toLowerCase() !== 'citation_pdf_url') continue;
    const content = metaAttr(t, 'content');
    if (!content) continue;
    try {
      const u = new URL(decodeEntities(content.trim()), baseUrl);
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.toString();
    } catch {
      /* malformed: keep looking */
    }
  }
  return undefined;
}
