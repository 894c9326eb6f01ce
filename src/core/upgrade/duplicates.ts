/**
 * Duplicates across versions: a preprint entry and a published entry of one work in the same
 * project. Resolve gives them different DOIs on purpose (each cites its own version), so the
 * ordinary duplicate check (same DOI, same key) never pairs them. Detection only: merging two cited
 * keys rewrites .tex files too, and is left to the user.
 */
import type { BibFile } from '../bib/parse';
import { normalizeDoi } from '../doi';
import { normalizeForMatch } from '../bib/latex';
import { entryFacts } from '../match/facts';
import { titleSimilarity } from '../match/score';

export interface VersionDuplicate {
  preprint: { path: string; key: string };
  published: { path: string; key: string };
  /** `linked`: the preprint's published version (an upgrade proposal) is the other entry's DOI; `title`: same title, first author and plausible years. */
  how: 'linked' | 'title';
}

/** `published`: for preprint keys, the published DOI an upgrade proposal found (optional, strongest evidence). */
export function versionDuplicates(files: readonly { path: string; file: BibFile }[], published: ReadonlyMap<string, string> = new Map()): VersionDuplicate[] {
  type Item = { path: string; key: string; title: string; first?: string; year?: number; doi?: string };
  const preprints: Item[] = [];
  const byTitle = new Map<string, Item[]>();
  const byDoi = new Map<string, Item>();
  for (const { path, file } of files) {
    for (const entry of file.entries) {
      const f = entryFacts(file, entry);
      if (!f.title || f.cited === 'unknown' || f.cited === undefined) continue;
      const doiField = entry.fields.get('doi')?.value;
      const item: Item = { path, key: entry.key, title: f.title, first: f.authors[0] ? normalizeForMatch(f.authors[0]).split(' ').pop() : undefined, year: f.year, doi: doiField ? normalizeDoi(doiField) : undefined };
      if (f.cited === 'preprint') preprints.push(item);
      else {
        // Bucketed by the first words of the title so a large project is not compared pair by pair.
        const k = normalizeForMatch(f.title).split(' ').slice(0, 3).join(' ');
        byTitle.set(k, [...(byTitle.get(k) ?? []), item]);
        if (item.doi) byDoi.set(item.doi, item);
      }
    }
  }
  const out: VersionDuplicate[] = [];
  for (const p of preprints) {
    const linked = published.get(p.key);
    const viaDoi = linked ? byDoi.get(normalizeDoi(linked)) : undefined;
    if (viaDoi) {
      out.push({ preprint: { path: p.path, key: p.key }, published: { path: viaDoi.path, key: viaDoi.key }, how: 'linked' });
      continue;
    }
    const k = normalizeForMatch(p.title).split(' ').slice(0, 3).join(' ');
    for (const e of byTitle.get(k) ?? []) {
      const yearsOk = p.year === undefined || e.year === undefined || (e.year - p.year >= -1 && e.year - p.year <= 5);
      if (e.key !== p.key && yearsOk && !!p.first && p.first === e.first && titleSimilarity(p.title, { title: e.title }) >= 0.95) {
        out.push({ preprint: { path: p.path, key: p.key }, published: { path: e.path, key: e.key }, how: 'title' });
        break;
      }
    }
  }
  return out;
}
