import * as vscode from 'vscode';
import * as path from 'node:path';
import { fieldText } from '../core/bib/latex';
import { classifyIdentifier } from '../core/add/ids';
import { CiteRanker, familyOf, type CiteCandidate, type Ranked } from '../core/cite/rank';
import { citeContextAt } from '../core/tex/citeContext';
import type { Metadata } from '../core/storage/metadata';
import type { DocumentBibliographies } from './bibScope';
import type { Session } from './session';
import { appendUntrusted } from './markdown';
import type { AddEntryArgs } from './commands/addEntry';

const TEX: vscode.DocumentSelector = [{ scheme: 'file', language: 'latex' }, { scheme: 'file', pattern: '**/*.tex' }];
/** Completion reads this much text around the cursor, not the whole document. */
const BEFORE = 2000;
const AFTER = 600;

export interface CiteItem extends CiteCandidate {
  /** The .bib that defines it for this document (absent: library only). */
  bib?: vscode.Uri;
}

function metaCandidate(m: Metadata): CiteItem {
  return {
    key: m.key,
    title: m.title,
    authors: (m.authors ?? []).map((a) => [a.given, a.family].filter(Boolean).join(' ')),
    families: (m.authors ?? []).map((a) => a.family),
    year: m.year,
    venue: m.venue,
    type: m.type,
    doi: m.doi,
    hasPdf: !!m.pdf,
    hasAbstract: !!m.abstract,
    notices: (m.notices ?? []).map((n) => n.type),
    tags: m.tags,
    statuses: [m.match?.outcome as string | undefined, m.pdf?.verified as string | undefined].filter((s): s is string => !!s),
    inBibliography: false,
    inLibrary: true,
  };
}

/** One line for a list: "Weinberg 1967" / "Glashow et al. 1961". */
export function shortAuthors(c: CiteCandidate): string {
  const fam = c.families?.[0] ?? (c.authors[0] ? familyOf(c.authors[0]) : '');
  return [fam + (c.authors.length > 1 ? vscode.l10n.t(' et al.') : ''), c.year].filter(Boolean).join(' ');
}

/** Everything an item says, as text: title, authors, year, venue, DOI, PDF and notices. */
export function describe(md: vscode.MarkdownString, c: CiteItem): void {
  md.appendMarkdown('**');
  appendUntrusted(md, c.title ?? c.key);
  md.appendMarkdown('**\n\n');
  if (c.authors.length) appendUntrusted(md, `${c.authors.join(', ')}\n\n`);
  if (c.venue || c.year) appendUntrusted(md, `${[c.venue, c.year].filter(Boolean).join(', ')}\n\n`);
  appendUntrusted(md, vscode.l10n.t('DOI: {0} · PDF: {1}\n\n', c.doi ?? 'none', c.hasPdf ? 'stored' : vscode.l10n.t('not fetched')));
  for (const n of c.notices ?? []) appendUntrusted(md, `⚠ ${n.replace(/_/g, ' ')} notice\n\n`);
  appendUntrusted(md, c.bib ? vscode.l10n.t('In {0}', path.basename(c.bib.fsPath)) : vscode.l10n.t('In the library only: not in this document’s bibliography'));
}

/**
 * Citation keys inside every natbib/biblatex citation command: the document's bibliography first,
 * then the library, ranked by the core ranker (src/core/cite/rank.ts). Candidates and the ranker
 * are rebuilt only when the bibliography or the library changed, so a keystroke costs one ranking.
 */
export class CitationCompletion implements vscode.CompletionItemProvider, vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private library: { at: number; items: Map<string, CiteItem> } | undefined;
  private libraryDirty = true;
  private cache: { sig: string; items: CiteItem[]; ranker: CiteRanker } | undefined;
  private libraryGeneration = 0;

  constructor(
    private readonly bibs: DocumentBibliographies,
    private readonly session: Session,
  ) {
    this.disposables.push(
      vscode.languages.registerCompletionItemProvider(TEX, this, '{', ','),
      session.onDidChange(() => (this.libraryDirty = true)),
      bibs.onDidChange(() => this.warmSoon()),
      vscode.window.onDidChangeActiveTextEditor(() => this.warmSoon()),
    );
  }

  private warm: NodeJS.Timeout | undefined;

  /** Builds the active document's ranker ahead of the first keystroke (10,000 entries take tens of ms). */
  private warmSoon(): void {
    clearTimeout(this.warm);
    this.warm = setTimeout(() => {
      const doc = vscode.window.activeTextEditor?.document;
      if (doc && /\.tex$/i.test(doc.uri.fsPath)) void this.rankerFor(doc.uri).catch(() => undefined);
    }, 500);
  }

  private async libraryItems(): Promise<Map<string, CiteItem>> {
    // A running job changes the library many times a second: take its changes in at most every few seconds.
    if (this.library && (!this.libraryDirty || Date.now() - this.library.at < 3000)) return this.library.items;
    this.libraryDirty = false;
    const index = await this.session.indexFor(this.session.folderFor()).catch(() => undefined);
    const items = new Map<string, CiteItem>();
    if (index) for (const m of index.allMetadata().values()) items.set(m.key, metaCandidate(m));
    this.library = { at: Date.now(), items };
    this.libraryGeneration++;
    return items;
  }

  /** The candidates of a document and their ranker (cached per bibliography and library state). */
  async rankerFor(tex: vscode.Uri): Promise<{ items: CiteItem[]; ranker: CiteRanker }> {
    const lib = await this.libraryItems();
    const files = this.bibs.filesFor(tex);
    const sig = `${this.bibs.generation}/${this.libraryGeneration}/${files.join('\n')}`;
    if (this.cache?.sig === sig) return this.cache;
    const items: CiteItem[] = [];
    const seen = new Set<string>();
    for (const s of this.bibs.entriesFor(tex)) {
      const e = s.entry;
      const meta = lib.get(e.key);
      const authors = (fieldText(e, 'author') ?? '').split(/\s+and\s+/).map((a) => a.trim()).filter(Boolean);
      const year = Number((fieldText(e, 'year') ?? fieldText(e, 'date') ?? '').slice(0, 4)) || meta?.year;
      items.push({
        ...(meta ?? {}),
        key: e.key,
        title: fieldText(e, 'title') ?? meta?.title,
        authors: authors.length ? authors : (meta?.authors ?? []),
        families: authors.length ? authors.map(familyOf) : meta?.families,
        year,
        venue: fieldText(e, 'journal') ?? fieldText(e, 'journaltitle') ?? fieldText(e, 'booktitle') ?? meta?.venue,
        type: e.type.toLowerCase(),
        doi: e.fields.get('doi')?.value.trim() || meta?.doi,
        inBibliography: true,
        inLibrary: !!meta,
        bib: s.uri,
      });
      seen.add(e.key);
    }
    for (const m of lib.values()) if (!seen.has(m.key)) items.push(m);
    this.cache = { sig, items, ranker: new CiteRanker(items) };
    return this.cache;
  }

  async provideCompletionItems(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.CompletionList | undefined> {
    const offset = doc.offsetAt(pos);
    const from = Math.max(0, offset - BEFORE);
    const text = doc.getText(new vscode.Range(doc.positionAt(from), doc.positionAt(offset + AFTER)));
    const ctx = citeContextAt(text, offset - from);
    if (!ctx) return undefined;
    const start = doc.positionAt(from + ctx.start);
    const replacing = new vscode.Range(start, doc.positionAt(from + ctx.end));
    const inserting = new vscode.Range(start, pos);
    const { ranker } = await this.rankerFor(doc.uri);
    const others = new Set(ctx.others);
    const ranked = ranker.rank(ctx.prefix, 100 + others.size).filter((r) => !others.has(r.candidate.key));
    const items = ranked.slice(0, 100).map((r, i) => this.item(r, i, ctx.prefix, { inserting, replacing }, doc.uri));
    // A DOI typed where a key goes: add its entry and cite the new key.
    const id = ctx.prefix ? classifyIdentifier(ctx.prefix) : undefined;
    if (id?.kind === 'doi' && !ranked.some((r) => r.candidate.key === ctx.prefix)) {
      const target = this.bibs.targetFor(doc.uri);
      const add = new vscode.CompletionItem({ label: ctx.prefix, description: vscode.l10n.t('Add this DOI{0} and cite its new key', target ? vscode.l10n.t(' to {0}', path.basename(target.fsPath)) : '') }, vscode.CompletionItemKind.Event);
      add.range = { inserting, replacing };
      add.filterText = ctx.prefix;
      add.sortText = '!';
      add.insertText = ctx.prefix;
      const args: AddEntryArgs = { ids: ctx.prefix, target, replaceCite: { uri: doc.uri, range: new vscode.Range(start, start.translate(0, ctx.prefix.length)) } };
      add.command = { command: 'scholar.addEntry', title: vscode.l10n.t('Add entry from DOI'), arguments: [args] };
      items.unshift(add);
    }
    // Re-asked on every keystroke: the ranking looks at title and authors, which the editor's own filter does not.
    return new vscode.CompletionList(items, true);
  }

  private item(r: Ranked, i: number, prefix: string, range: { inserting: vscode.Range; replacing: vscode.Range }, tex: vscode.Uri): vscode.CompletionItem {
    const c = r.candidate as CiteItem;
    const flags = [c.hasPdf ? 'PDF' : '', c.doi ? 'DOI' : '', c.notices?.includes('retraction') ? 'RETRACTED' : c.notices?.length ? 'notice' : '', c.bib ? '' : 'library'].filter(Boolean);
    const item = new vscode.CompletionItem({ label: c.key, detail: flags.length ? `  ${flags.join(' · ')}` : undefined, description: shortAuthors(c) }, vscode.CompletionItemKind.Reference);
    item.range = range;
    // The editor filters on filterText: the typed text itself keeps every ranked item, in our order.
    item.filterText = prefix;
    item.sortText = String(i).padStart(4, '0');
    item.detail = c.title;
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = false;
    md.supportHtml = false;
    describe(md, c);
    item.documentation = md;
    if (c.notices?.includes('retraction')) item.tags = [vscode.CompletionItemTag.Deprecated];
    // A library entry missing from the document's .bib is added to it from its DOI, under its key.
    const target = c.bib ? undefined : this.bibs.targetFor(tex);
    if (!c.bib && c.doi && target) {
      const args: AddEntryArgs = { ids: c.doi, key: c.key, target };
      item.command = { command: 'scholar.addEntry', title: vscode.l10n.t('Add the entry to the bibliography'), arguments: [args] };
    }
    return item;
  }

  dispose(): void {
    clearTimeout(this.warm);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
