// Unpaywall REST API v2: https://unpaywall.org/products/api
import { ScholarError } from '../errors';
import type { ScholarHttp } from '../net/http';
import type { OaLocation, WorkRecord } from './types';
import { normVersion, splitName, str } from './util';
import { parseDoi } from '../doi';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function loc(l: Json): OaLocation | undefined {
  if (!l) return undefined;
  const pdfUrl = str(l.url_for_pdf);
  const landingUrl = str(l.url_for_landing_page) ?? (pdfUrl ? undefined : str(l.url));
  if (!pdfUrl && !landingUrl) return undefined;
  const out: OaLocation = { source: 'unpaywall' };
  if (pdfUrl) out.pdfUrl = pdfUrl;
  if (landingUrl) out.landingUrl = landingUrl;
  if (l.license) out.license = String(l.license);
  const v = normVersion(l.version);
  if (v) out.version = v;
  if (l.host_type) out.hostType = String(l.host_type);
  return out;
}

export function parseUnpaywall(r: Json): WorkRecord {
  const locs: OaLocation[] = [];
  const seen = new Set<string>();
  for (const l of [r.best_oa_location, ...(Array.isArray(r.oa_locations) ? r.oa_locations : [])]) {
    const x = loc(l);
    if (!x) continue;
    const k = `${x.pdfUrl ?? ''}|${x.landingUrl ?? ''}`;
    if (seen.has(k)) continue;
    seen.add(k);
    locs.push(x);
  }
  const rec: WorkRecord = {
    source: 'unpaywall',
    doi: parseDoi(r.doi),
    title: String(r.title ?? '').trim(),
    authors: (Array.isArray(r.z_authors) ? r.z_authors : [])
      .map((a: Json) => (a.family ? { family: String(a.family), ...(a.given ? { given: String(a.given) } : {}) } : splitName(String(a.raw_author_name ?? ''))))
      .filter((a: { family: string }) => a.family),
    year: typeof r.year === 'number' ? r.year : undefined,
    venue: str(r.journal_name),
    type: str(r.genre),
    publisher: str(r.publisher),
    license: str(r.best_oa_location?.license),
    oaLocations: locs.length ? locs : undefined,
  };
  return Object.fromEntries(Object.entries(rec).filter(([, v]) => v !== undefined)) as unknown as WorkRecord;
}

/** Unpaywall requires an email on every call; null for DOIs it does not know. */
export async function lookup(http: ScholarHttp, doi: string, signal?: AbortSignal): Promise<WorkRecord | null> {
  if (!http.email) throw new ScholarError('E_NO_EMAIL', 'Unpaywall requires a contact email');
  const body = await http.getJson<Json>('unpaywall', `/v2/${encodeURIComponent(doi).replace(/%2F/gi, '/')}`, { nullOn: [404], signal });
  return body ? parseUnpaywall(body) : null;
}
