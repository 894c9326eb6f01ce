// arXiv export API (Atom): https://info.arxiv.org/help/api/user-manual.html
// The feed is simple and stable; a tolerant regex extraction avoids an XML dependency and copes
// with both the 2016 layout (inline namespace declarations) and the current one.
import type { ScholarHttp } from '../net/http';
import type { OaLocation, WorkRecord } from './types';
import { splitName } from './util';
import { parseDoi } from '../doi';
import { decodeEntities } from '../entities';

/** Element text: CDATA sections as they are, everything else through the shared entity decoder. */
export function decodeXml(s: string): string {
  return s
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part) => (part.startsWith('<![CDATA[') ? part.slice(9, -3) : decodeEntities(part)))
    .join('');
}

/** Text of the first element with this (possibly prefixed) name, attributes ignored. */
function tag(xml: string, name: string): string | undefined {
  const re = new RegExp(`<${name.replace(':', '\\:')}(?:\\s[^>]*)?>([\\s\\S]*?)</${name.replace(':', '\\:')}>`, 'i');
  const m = re.exec(xml);
  return m ? decodeXml(m[1]).replace(/\s+/g, ' ').trim() : undefined;
}

function all(xml: string, name: string): string[] {
  const re = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, 'gi');
  return [...xml.matchAll(re)].map((m) => m[1]);
}

function attrs(el: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of el.matchAll(/([\w:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) out[m[1].toLowerCase()] = decodeXml(m[3] ?? m[4] ?? '');
  return out;
}

/** `http://arxiv.org/abs/2304.05376v2` → `2304.05376`; old-style ids keep their archive prefix. */
export function arxivIdFromUrl(u: string): string | undefined {
  const m = /arxiv\.org\/(?:abs|pdf)\/(.+?)(?:v\d+)?(?:\.pdf)?$/i.exec(u.trim());
  return m?.[1];
}

export interface ArxivFeed {
  total?: number;
  entries: WorkRecord[];
}

export function parseArxivAtom(xml: string): ArxivFeed {
  const totalText = tag(xml, 'opensearch:totalResults');
  const entries: WorkRecord[] = [];
  for (const e of all(xml, 'entry')) {
    const idUrl = tag(e, 'id') ?? '';
    const arxivId = arxivIdFromUrl(idUrl);
    if (!arxivId) continue; // error entries have an api/errors id
    const links = [...e.matchAll(/<link\b([^>]*)\/?>/gi)].map((m) => attrs(m[1]));
    const pdf = links.find((l) => l.title === 'pdf' || l.type === 'application/pdf')?.href;
    const landing = links.find((l) => l.rel === 'alternate')?.href ?? idUrl;
    const publishedDoi = parseDoi(tag(e, 'arxiv:doi'));
    const journalRef = tag(e, 'arxiv:journal_ref');
    const published = tag(e, 'published');
    const rec: WorkRecord = {
      source: 'arxiv',
      doi: publishedDoi,
      title: tag(e, 'title') ?? '',
      authors: all(e, 'author')
        .map((a) => splitName(tag(a, 'name') ?? ''))
        .filter((a) => a.family),
      year: published ? Number(published.slice(0, 4)) || undefined : undefined,
      venue: journalRef,
      type: 'posted-content',
      arxivId,
      abstract: tag(e, 'summary'),
      relations: publishedDoi ? [{ type: 'is-preprint-of', id: publishedDoi }] : undefined,
      oaLocations: [
        <OaLocation>{
          pdfUrl: pdf,
          landingUrl: landing,
          version: 'submittedVersion' as const,
          hostType: 'repository',
          source: 'arxiv',
          license: links.find((l) => l.rel === 'license')?.href,
        },
      ].map((l) => Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)) as typeof l),
    };
    entries.push(Object.fromEntries(Object.entries(rec).filter(([, v]) => v !== undefined)) as unknown as WorkRecord);
  }
  return { total: totalText !== undefined ? Number(totalText) : undefined, entries };
}

export async function byIds(http: ScholarHttp, ids: string[], signal?: AbortSignal): Promise<WorkRecord[]> {
  const res = await http.request('arxiv', '/api/query', {
    query: { id_list: ids.join(','), max_results: ids.length },
    kind: 'text',
    headers: { accept: 'application/atom+xml' },
    signal,
  });
  return parseArxivAtom(res.text()).entries;
}

export async function searchTitle(http: ScholarHttp, title: string, opts: { rows?: number; signal?: AbortSignal } = {}): Promise<WorkRecord[]> {
  // Quotes and boolean words would change the query's meaning.
  const clean = title.replace(/["()]/g, ' ').replace(/\b(AND|OR|ANDNOT)\b/g, ' ').replace(/\s+/g, ' ').trim();
  const res = await http.request('arxiv', '/api/query', {
    query: { search_query: `ti:"${clean}"`, max_results: opts.rows ?? 5 },
    kind: 'text',
    headers: { accept: 'application/atom+xml' },
    bucket: 'search',
    signal: opts.signal,
  });
  return parseArxivAtom(res.text()).entries;
}
