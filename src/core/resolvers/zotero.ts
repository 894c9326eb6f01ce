/**
 * Custom PDF resolvers in Zotero's format (`extensions.zotero.findPDFs.resolvers`, documented at
 * https://www.zotero.org/support/kb/custom_pdf_resolvers), so a lab's existing configuration works
 * unchanged: `name`, `method`, `url` with `{doi}`, `mode` html (CSS `selector`, `attribute` or the
 * text, `index`) or json (JSPath `selector`, optional `mappings.url`), and `automatic`.
 * Requests go through the same HTTP client as every download (per-host lanes, size caps,
 * redirect rules); the PDF URLs they yield are downloaded and verified like any other.
 */
import { ScholarError, isAbortError } from '../errors';
import type { ScholarHttp } from '../net/http';
import { doiPath } from '../doi';
import { parseHtml, parseSelector, selectAll, textContent } from './html';
import { jsPath, parseJsPath } from './jspath';

export interface PdfResolver {
  name: string;
  method: 'GET';
  url: string;
  mode: 'html' | 'json';
  selector: string;
  attribute?: string;
  index?: number;
  mappings?: { url?: string; pageURL?: string };
  /** Zotero: used when saving automatically; otherwise only for manual "Find Available PDF". */
  automatic: boolean;
}

export interface ParsedResolvers {
  resolvers: PdfResolver[];
  /** One line per configuration that was refused, naming it and why. */
  errors: string[];
}

/**
 * Reads the setting: an array of resolver objects, one object, or the same as a JSON string (the
 * form Zotero's pref holds). Each bad resolver is refused with its reason; the others still work.
 */
export function parseResolvers(value: unknown): ParsedResolvers {
  let v = value;
  if (typeof v === 'string') {
    if (!v.trim()) return { resolvers: [], errors: [] };
    try {
      v = JSON.parse(v);
    } catch (err) {
      return { resolvers: [], errors: [`scholar.pdf.resolvers is not valid JSON: ${(err as Error).message}`] };
    }
  }
  if (v === undefined || v === null) return { resolvers: [], errors: [] };
  const list = Array.isArray(v) ? v : [v];
  const resolvers: PdfResolver[] = [];
  const errors: string[] = [];
  list.forEach((raw, i) => {
    const where = `resolver ${i + 1}${raw && typeof raw === 'object' && typeof (raw as { name?: unknown }).name === 'string' ? ` "${(raw as { name: string }).name}"` : ''}`;
    try {
      resolvers.push(checkResolver(raw));
    } catch (err) {
      errors.push(`${where}: ${(err as Error).message}`);
    }
  });
  return { resolvers, errors };
}

function checkResolver(raw: unknown): PdfResolver {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('must be an object');
  const o = raw as Record<string, unknown>;
  const name = typeof o.name === 'string' && o.name.trim() ? o.name.trim() : undefined;
  if (!name) throw new Error('needs a "name"');
  const method = o.method === undefined ? 'GET' : String(o.method).toUpperCase();
  if (method !== 'GET') throw new Error(`method ${method} is not supported (only GET)`);
  if (typeof o.url !== 'string' || !o.url.includes('{doi}')) throw new Error('needs a "url" containing {doi}');
  let u: URL;
  try {
    u = new URL(o.url.replace(/\{doi\}/g, '10.0/x'));
  } catch {
    throw new Error(`"url" is not a URL: ${o.url}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('"url" must be http or https');
  if (o.mode !== 'html' && o.mode !== 'json') throw new Error('"mode" must be "html" or "json"');
  if (typeof o.selector !== 'string' || !o.selector.trim()) throw new Error('needs a "selector"');
  if (o.mode === 'html') parseSelector(o.selector);
  else parseJsPath(o.selector);
  if (o.attribute !== undefined && typeof o.attribute !== 'string') throw new Error('"attribute" must be a string');
  if (o.index !== undefined && !Number.isInteger(o.index)) throw new Error('"index" must be an integer');
  let mappings: PdfResolver['mappings'];
  if (o.mappings !== undefined) {
    if (!o.mappings || typeof o.mappings !== 'object' || Array.isArray(o.mappings)) throw new Error('"mappings" must be an object');
    const m = o.mappings as Record<string, unknown>;
    for (const [k, val] of Object.entries(m)) if (typeof val !== 'string') throw new Error(`mappings.${k} must be a string`);
    mappings = { url: m.url as string | undefined, pageURL: m.pageURL as string | undefined };
    if (!mappings.url) throw new Error('mappings needs "url" (Scholar downloads PDFs; pageURL alone gives it nothing to fetch)');
  }
  return {
    name,
    method: 'GET',
    url: o.url,
    mode: o.mode,
    selector: o.selector,
    attribute: o.attribute as string | undefined,
    index: o.index as number | undefined,
    mappings,
    automatic: o.automatic === true,
  };
}

/** The resolver's request URL for a DOI: `{doi}` replaced by the DOI, escaped for a URL path. */
export function resolverUrl(r: PdfResolver, doi: string): string {
  return r.url.replace(/\{doi\}/g, doiPath(doi));
}

function absolute(href: string, base: string): string | undefined {
  try {
    const u = new URL(href.trim(), base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The PDF URLs a resolver offers for `doi` (none on 404). Errors are ScholarErrors from the HTTP
 * client (rate, size, redirect rules) or E_RESOLVER for a page that cannot be read.
 */
export async function resolvePdfUrls(http: ScholarHttp, r: PdfResolver, doi: string, signal?: AbortSignal): Promise<string[]> {
  const url = resolverUrl(r, doi);
  const res = await http.request('pdf', url, { kind: r.mode, signal, allowStatus: [404], headers: { accept: r.mode === 'json' ? 'application/json' : 'text/html,application/xhtml+xml' } });
  if (res.status === 404) return [];
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v !== 'string' || !v.trim()) return;
    const abs = absolute(v, res.url);
    if (abs && !out.includes(abs)) out.push(abs);
  };
  try {
    if (r.mode === 'html') {
      const els = selectAll(parseHtml(res.text()), r.selector);
      const chosen = r.index !== undefined ? [els[r.index < 0 ? els.length + r.index : r.index]].filter(Boolean) : els;
      for (const el of chosen) add(r.attribute ? el!.attrs.get(r.attribute.toLowerCase()) : textContent(el!));
    } else {
      let values = jsPath(r.selector, res.json());
      if (r.index !== undefined) values = [values[r.index < 0 ? values.length + r.index : r.index]].filter((x) => x !== undefined);
      for (const v of values) {
        if (r.mappings?.url) add(v && typeof v === 'object' ? (v as Record<string, unknown>)[r.mappings.url] : undefined);
        else add(v);
      }
    }
  } catch (err) {
    if (isAbortError(err) || err instanceof ScholarError) throw err;
    throw new ScholarError('E_RESOLVER', `resolver "${r.name}": ${(err as Error).message}`, { resolver: r.name }, { cause: err });
  }
  return out;
}

/** The host a resolver's requests go to, so views can name its lane. */
export function resolverHost(r: PdfResolver): string {
  return new URL(r.url.replace(/\{doi\}/g, '10.0/x')).host;
}
