/**
 * Rewriting a preprint entry into its published version, minimally: the entry type, the venue,
 * volume, number, pages, year and doi change; the key, the title, the authors and every other field
 * keep their bytes, and the preprint stays cited as `eprint` (with `archiveprefix`, or `eprinttype`
 * in BibLaTeX files). Two fields are removed because they would keep calling the entry a preprint:
 * `pubstate` and a CoRR-style `volume = {abs/…}` that the published record has no volume for.
 */
import { ScholarError } from '../errors';
import { applyEdits, planFieldUpsert, type TextEdit } from '../bib/edit';
import { parseBib, type BibEntry, type BibFile } from '../bib/parse';
import { PREPRINT_SERVER } from '../match/version';
import type { UpgradeTarget } from './evidence';

const ENTRY_TYPE: Record<string, { type: string; venue: 'journal' | 'booktitle' }> = {
  'journal-article': { type: 'article', venue: 'journal' },
  'proceedings-article': { type: 'inproceedings', venue: 'booktitle' },
  'book-chapter': { type: 'incollection', venue: 'booktitle' },
};

/** BibLaTeX's own fields give the dialect away; BibTeX is the default. */
function isBiblatex(entry: BibEntry): boolean {
  return ['journaltitle', 'date', 'eprinttype', 'eprintclass'].some((n) => entry.fields.has(n)) || ['online', 'report', 'thesis'].includes(entry.type);
}

/** `@Misc` → `@Article`: the new type written in the case the entry used. */
function sameCase(old: string, type: string): string {
  if (old === old.toUpperCase() && old !== old.toLowerCase()) return type.toUpperCase();
  if (old[0] === old[0].toUpperCase() && old.slice(1) === old.slice(1).toLowerCase()) return type[0].toUpperCase() + type.slice(1);
  return type;
}

/** BibTeX wants page ranges with an en dash (`--`); braces in API text would unbalance the value. */
function bibValue(s: string): string {
  return s.replace(/[{}]/g, '').replace(/\s+/g, ' ').trim();
}

/** Removes one field and its separator, keeping the lines around it whole. */
function planFieldDelete(text: string, entry: BibEntry, name: string): TextEdit | undefined {
  const f = entry.fields.get(name);
  if (!f) return undefined;
  let end = f.span.end;
  while (end < entry.bodySpan.end && (text[end] === ' ' || text[end] === '\t')) end++;
  let start = f.span.start;
  if (text[end] === ',') {
    end++;
    let ls = start;
    while (ls > 0 && (text[ls - 1] === ' ' || text[ls - 1] === '\t')) ls--;
    let le = end;
    while (le < text.length && (text[le] === ' ' || text[le] === '\t')) le++;
    const lineStart = ls === 0 || text[ls - 1] === '\n';
    if (lineStart && (text[le] === '\n' || text[le] === '\r')) {
      start = ls;
      end = text[le] === '\r' && text[le + 1] === '\n' ? le + 2 : le + 1;
    }
    return { offset: start, length: end - start, text: '' };
  }
  // The last field without a trailing comma: the comma before it goes instead.
  let p = start;
  while (p > entry.keySpan.end && text[p - 1] !== ',') p--;
  if (p > entry.keySpan.end) start = p - 1;
  return { offset: start, length: f.span.end - start, text: '' };
}

/** Renames a field in place (the name's bytes only). */
function planFieldRename(entry: BibEntry, from: string, to: string, text: string): TextEdit | undefined {
  const f = entry.fields.get(from);
  if (!f) return undefined;
  const old = text.slice(f.nameSpan.start, f.nameSpan.end);
  return { offset: f.nameSpan.start, length: f.nameSpan.end - f.nameSpan.start, text: sameCase(old, to) };
}

export interface PreprintIdentity {
  doi?: string;
  arxivId?: string;
}

/** What the rewrite will set, field by field (for the review view and the tests). */
export function upgradeFields(entry: BibEntry, to: UpgradeTarget, preprint: PreprintIdentity): { type: string; set: [string, string][]; remove: string[] } {
  const map = to.type ? ENTRY_TYPE[to.type] : undefined;
  if (!map) throw new ScholarError('E_UPGRADE_TYPE', `a ${to.type ?? 'work of unknown type'} cannot be written as a BibTeX entry automatically`, { doi: to.doi });
  const biblatex = isBiblatex(entry);
  const venueName = map.venue === 'journal' && biblatex && !entry.fields.has('journal') ? 'journaltitle' : map.venue;
  const set: [string, string][] = [];
  if (to.venue) set.push([venueName, bibValue(to.venue)]);
  if (to.volume) set.push(['volume', bibValue(to.volume)]);
  if (to.issue) set.push(['number', bibValue(to.issue)]);
  if (to.pages) set.push(['pages', bibValue(to.pages).replace(/\s*[-–—]+\s*/, '--')]);
  if (to.year) set.push([entry.fields.has('year') || !entry.fields.has('date') ? 'year' : 'date', String(to.year)]);
  set.push(['doi', to.doi]);
  const remove: string[] = [];
  if (entry.fields.has('pubstate')) remove.push('pubstate');
  if (!to.volume && /^abs\//i.test(entry.fields.get('volume')?.value ?? '')) remove.push('volume');
  // Keep citing the preprint, in the file's dialect, unless the entry already does.
  if (!entry.fields.has('eprint')) {
    if (preprint.arxivId) {
      set.push(['eprint', preprint.arxivId]);
      if (biblatex) set.push(['eprinttype', 'arxiv']);
      else set.push(['archiveprefix', 'arXiv']);
    } else if (preprint.doi && preprint.doi.toLowerCase() !== to.doi.toLowerCase()) {
      set.push(['eprint', preprint.doi]);
      set.push([biblatex ? 'eprinttype' : 'archiveprefix', 'doi']);
    }
  }
  return { type: map.type, set, remove };
}

/**
 * The one edit that turns `entry` into a citation of `to`: computed on the entry's own text step by
 * step (each field with planFieldUpsert, so new lines take the entry's style), then reduced to the
 * span that really changed.
 */
export function planUpgradeEdit(file: BibFile, entry: BibEntry, to: UpgradeTarget, preprint: PreprintIdentity): TextEdit {
  const { type, set, remove } = upgradeFields(entry, to, preprint);
  const original = file.text.slice(entry.span.start, entry.span.end);
  let t = original;
  const reparse = (): { f: BibFile; e: BibEntry } => {
    const f = parseBib(t);
    const e = f.entries[0];
    if (!e || e.key !== entry.key) throw new ScholarError('E_UPGRADE_EDIT', `could not re-read entry ${entry.key} while rewriting it`, { key: entry.key });
    return { f, e };
  };
  const step = (edit: TextEdit | undefined) => {
    if (edit) t = applyEdits(t, [edit]);
  };
  // A venue field of the other kind that names the preprint server becomes the new venue field.
  const venueName = set.find(([n]) => n === 'journal' || n === 'journaltitle' || n === 'booktitle')?.[0];
  if (venueName) {
    let { e } = reparse();
    for (const other of ['journal', 'journaltitle', 'booktitle']) {
      const f = e.fields.get(other);
      if (other === venueName || !f || e.fields.has(venueName)) continue;
      if (PREPRINT_SERVER.test(f.value) || /\bCoRR\b/.test(f.value)) {
        step(planFieldRename(e, other, venueName, t));
        ({ e } = reparse());
      }
    }
  }
  for (const name of remove) step(planFieldDelete(t, reparse().e, name));
  for (const [name, value] of set) {
    const { f, e } = reparse();
    step(planFieldUpsert(f, e, name, value));
  }
  const m = /^@(\s*)([A-Za-z]+)/.exec(t);
  if (m && m[2].toLowerCase() !== type) t = `@${m[1]}${sameCase(m[2], type)}${t.slice(m[0].length)}`;
  // The smallest span that differs.
  let pre = 0;
  while (pre < original.length && pre < t.length && original[pre] === t[pre]) pre++;
  let suf = 0;
  while (suf < original.length - pre && suf < t.length - pre && original[original.length - 1 - suf] === t[t.length - 1 - suf]) suf++;
  return { offset: entry.span.start + pre, length: original.length - pre - suf, text: t.slice(pre, t.length - suf) };
}
