/**
 * What the user pasted into Add Entry: DOIs (bare, `doi:`, resolver URLs), arXiv ids or URLs, and
 * publisher URLs whose landing page names the DOI. Several may come at once (one per line, or
 * separated by spaces/commas: identifiers never contain either).
 */
import { extractArxivId, isValidDoi, normalizeDoi } from '../doi';
import { decodeEntities } from '../entities';

export type IdInput =
  | { input: string; kind: 'doi'; doi: string }
  | { input: string; kind: 'arxiv'; arxivId: string }
  | { input: string; kind: 'url'; url: string }
  | { input: string; kind: 'invalid'; reason: string };

const ARXIV_DOI = /^10\.48550\/arxiv\.(.+)$/i;

/** Splits pasted text into identifier strings (blank parts dropped, duplicates kept in order once). */
export function splitIdentifiers(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[\s,;]+/)) {
    const t = part.trim().replace(/^<|>$/g, '');
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

/** Classifies one identifier. Never throws: a malformed one comes back as `invalid` with the reason. */
export function classifyIdentifier(raw: string): IdInput {
  const input = raw.trim();
  if (!input) return { input, kind: 'invalid', reason: 'empty identifier' };
  const isUrl = /^https?:\/\//i.test(input);
  if (/^arxiv:/i.test(input) || (isUrl && /^https?:\/\/(?:www\.|export\.)?arxiv\.org\//i.test(input))) {
    const id = extractArxivId(input);
    return id ? { input, kind: 'arxiv', arxivId: id.replace(/v\d+$/, '') } : { input, kind: 'invalid', reason: 'malformed arXiv identifier' };
  }
  if (/^\d{4}\.\d{4,5}(v\d+)?$/.test(input) || /^[a-z][a-z-]*(\.[A-Z]{2})?\/\d{7}(v\d+)?$/.test(input)) {
    return { input, kind: 'arxiv', arxivId: input.replace(/v\d+$/, '') };
  }
  if (isUrl && !/^https?:\/\/(?:dx\.|www\.)?doi\.org\//i.test(input)) {
    try {
      const u = new URL(input);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return { input, kind: 'invalid', reason: 'only http and https URLs are read' };
    } catch {
      return { input, kind: 'invalid', reason: 'malformed URL' };
    }
    return { input, kind: 'url', url: input };
  }
  if (/^(doi:|10\.|https?:\/\/)/i.test(input)) {
    const doi = normalizeDoi(input);
    if (!isValidDoi(doi)) return { input, kind: 'invalid', reason: `malformed DOI (a DOI looks like 10.1234/abc)` };
    const ax = ARXIV_DOI.exec(doi);
    if (ax) return { input, kind: 'arxiv', arxivId: ax[1].replace(/v\d+$/, '') };
    return { input, kind: 'doi', doi };
  }
  return { input, kind: 'invalid', reason: 'not a DOI, an arXiv id or a URL' };
}

/** Highwire/Dublin Core meta tags naming the page's DOI (`citation_doi`, `dc.identifier`, `prism.doi`). */
export function doiFromLandingPage(html: string): string | undefined {
  for (const m of html.matchAll(/<meta\b[^>]*>/gi)) {
    const tag = m[0];
    const name = /\b(?:name|property)\s*=\s*["']?([^"'\s>]+)/i.exec(tag)?.[1]?.toLowerCase();
    if (!name || !['citation_doi', 'dc.identifier', 'dc.identifier.doi', 'prism.doi', 'bepress_citation_doi'].includes(name)) continue;
    const content = /\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
    const v = decodeEntities(content?.[1] ?? content?.[2] ?? content?.[3] ?? '').trim();
    const doi = normalizeDoi(v);
    if (isValidDoi(doi)) return doi;
  }
  return undefined;
}

/** The page's `citation_title` (or `dc.title`), for checking that its DOI names the same work. */
export function titleFromLandingPage(html: string): string | undefined {
  for (const m of html.matchAll(/<meta\b[^>]*>/gi)) {
    const tag = m[0];
    const name = /\b(?:name|property)\s*=\s*["']?([^"'\s>]+)/i.exec(tag)?.[1]?.toLowerCase();
    if (name !== 'citation_title' && name !== 'dc.title') continue;
    const content = /\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(tag);
    const v = decodeEntities(content?.[1] ?? content?.[2] ?? '').trim();
    if (v) return v;
  }
  return undefined;
}
