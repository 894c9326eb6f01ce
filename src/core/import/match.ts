/**
 * Which project entry a PDF from elsewhere (a Zotero item, a file in a folder) belongs to: by DOI
 * first, then by title and year. Only an unambiguous answer counts; two entries with the same
 * title and year match neither.
 */
import type { BibEntry, BibFile } from '../bib/parse';
import { isValidDoi, normalizeDoi } from '../doi';
import { hasOptOut } from '../bib/edit';
import { fieldText, normalizeForMatch } from '../bib/latex';
import { bibPatch } from '../jobs/fetch';
import type { MetadataPatch } from '../storage/metadata';

export interface EntryRef {
  key: string;
  doi?: string;
  title?: string;
  year?: number;
  /** `scholar = {skip}` or the `scholar-skip` keyword: never touched. */
  optOut: boolean;
  /** What the .bib says, written with the PDF so the index knows the entry. */
  patch: MetadataPatch;
}

export function entryRef(e: { key: string; entry: BibEntry; file: BibFile; bibPath: string }): EntryRef {
  const doiRaw = e.entry.fields.get('doi')?.value;
  const doi = doiRaw && isValidDoi(normalizeDoi(doiRaw)) ? normalizeDoi(doiRaw) : undefined;
  const y = /\d{4}/.exec(fieldText(e.entry, 'year') ?? fieldText(e.entry, 'date') ?? '')?.[0];
  return { key: e.key, doi, title: fieldText(e.entry, 'title'), year: y ? Number(y) : undefined, optOut: hasOptOut(e.entry), patch: bibPatch(e) };
}

export type MatchedBy = 'doi' | 'title';

export function normTitle(t: string | undefined): string {
  return t ? normalizeForMatch(t) : '';
}

/** The words of a title that carry weight (the rule verifyPdfText applies to a PDF's text). */
function titleWords(t: string): string[] {
  return normTitle(t)
    .split(' ')
    .filter((w) => w.length >= 4);
}

export class EntryMatcher {
  private readonly byDoi = new Map<string, EntryRef[]>();
  private readonly byTitle = new Map<string, EntryRef[]>();
  private readonly withTitle: { ref: EntryRef; words: string[] }[] = [];
  private readonly withDoi: { ref: EntryRef; needle: string }[] = [];

  constructor(readonly entries: EntryRef[]) {
    const push = <K>(m: Map<K, EntryRef[]>, k: K, r: EntryRef) => m.set(k, [...(m.get(k) ?? []), r]);
    for (const r of entries) {
      if (r.doi) {
        push(this.byDoi, r.doi.toLowerCase(), r);
        this.withDoi.push({ ref: r, needle: normalizeForMatch(r.doi) });
      }
      const t = normTitle(r.title);
      if (t) push(this.byTitle, t, r);
      const words = r.title ? titleWords(r.title) : [];
      if (words.length) this.withTitle.push({ ref: r, words });
    }
  }

  /** An item that carries metadata (Zotero): its DOI, else its exact title with a compatible year. */
  byMetadata(item: { doi?: string; title?: string; year?: number }): { ref: EntryRef; by: MatchedBy } | { ambiguous: string[] } | undefined {
    if (item.doi) {
      const hits = this.byDoi.get(normalizeDoi(item.doi).toLowerCase()) ?? [];
      if (hits.length === 1) return { ref: hits[0]!, by: 'doi' };
      if (hits.length > 1) return { ambiguous: hits.map((h) => h.key) };
    }
    const t = normTitle(item.title);
    if (!t) return undefined;
    const hits = (this.byTitle.get(t) ?? []).filter((r) => r.year === undefined || item.year === undefined || r.year === item.year);
    // A DOI on both sides that differs is a different work with the same title (a reply, a reprint).
    const compatible = hits.filter((r) => !(r.doi && item.doi && r.doi.toLowerCase() !== normalizeDoi(item.doi).toLowerCase()));
    if (compatible.length === 1) return { ref: compatible[0]!, by: 'title' };
    if (compatible.length > 1) return { ambiguous: compatible.map((h) => h.key) };
    return undefined;
  }

  /**
   * A bare file (folder import): the entry whose DOI its text prints first (a reference list
   * prints other DOIs later), else the one entry most of whose title words it contains.
   */
  byText(text: string): { ref: EntryRef; by: MatchedBy } | { ambiguous: string[] } | undefined {
    if (!text) return undefined;
    // Whole tokens only: 10.1000/abc must not be found inside 10.1000/abcd.
    const padded = ` ${text} `;
    let best: { ref: EntryRef; at: number } | undefined;
    for (const d of this.withDoi) {
      const at = padded.indexOf(` ${d.needle} `);
      if (at >= 0 && (!best || at < best.at)) best = { ref: d.ref, at };
    }
    if (best) return { ref: best.ref, by: 'doi' };
    // Among titles most of whose words the text has, the one printed as a phrase wins, then the
    // one with more of its words there: a short title's words are found in many papers.
    const hay = new Set(text.split(' '));
    const rank = (t: { ref: EntryRef; words: string[] }) => {
      const found = t.words.filter((w) => hay.has(w)).length;
      const share = found / t.words.length;
      if (share < 0.7) return undefined;
      const phrase = padded.includes(` ${normTitle(t.ref.title)} `) ? 1 : 0;
      return [phrase, found, share] as const;
    };
    let top: readonly [number, number, number] | undefined;
    let tops: EntryRef[] = [];
    const cmp = (a: readonly number[], b: readonly number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
    for (const t of this.withTitle) {
      const r = rank(t);
      if (!r) continue;
      const c = top ? cmp(r, top) : 1;
      if (c > 0) {
        top = r;
        tops = [t.ref];
      } else if (c === 0) tops.push(t.ref);
    }
    if (tops.length === 1) return { ref: tops[0]!, by: 'title' };
    if (tops.length > 1) return { ambiguous: tops.map((r) => r.key) };
    return undefined;
  }
}
