import * as vscode from 'vscode';
import * as path from 'node:path';
import type { BibEntry } from '../core/bib/parse';
import { fieldText } from '../core/bib/latex';
import { appendUntrusted } from './markdown';
import { entryStateText, type EntryStatus } from './model/entryStatus';
import type { EntryStatuses } from './entryStatuses';
import type { ProjectModel, BibDoc } from './project';

export type TreeNode =
  | { kind: 'group'; group: 'review' | 'failed' | 'published'; keys: string[] }
  | { kind: 'bib'; doc: BibDoc }
  | { kind: 'entry'; key: string; bibUri: vscode.Uri; entry: BibEntry }
  /** Entries from..to-1 of a long list (a .bib or a group), so VS Code never holds thousands of rows at once. */
  | { kind: 'range'; parentId: string; from: number; to: number; entries: EntryNode[] };

type EntryNode = Extract<TreeNode, { kind: 'entry' }>;

/** Above this many entries, a .bib's or group's children are ranges of this many. */
export const TREE_PAGE_SIZE = 1000;

function paged(parentId: string, entries: EntryNode[]): TreeNode[] {
  if (entries.length <= TREE_PAGE_SIZE) return entries;
  const out: TreeNode[] = [];
  for (let from = 0; from < entries.length; from += TREE_PAGE_SIZE) {
    const to = Math.min(entries.length, from + TREE_PAGE_SIZE);
    out.push({ kind: 'range', parentId, from, to, entries: entries.slice(from, to) });
  }
  return out;
}

export type { EntryStatus } from './model/entryStatus';

/** The end of `s` when `tail`: a snippet's context before the hit is cut at its start. */
function shortTail(s: string, n: number): string {
  return s.length <= n ? s : `…${s.slice(s.length - n + 1)}`;
}

function plural(n: number): string {
  return `${n} ${n === 1 ? 'entry' : 'entries'}`;
}

function short(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/**
 * The library browser: "Needs review" and "Failed" groups when not empty, then each .bib file with
 * its entries. Children are computed when a node expands; refreshes are batched so that a run of
 * thousands of entries redraws a few times a second at most.
 */
export class LibraryTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  private filter: Set<string> | undefined;
  private filterLabel: string | undefined;
  /** Full-text snippets of the filter's hits, shown instead of the title. */
  private snippets = new Map<string, { before: string; hit: string; after: string }>();
  private view: vscode.TreeView<TreeNode> | undefined;
  constructor(
    private readonly project: ProjectModel,
    private readonly statuses: EntryStatuses,
    /** Entries with a published version found (the upgrade feature's). */
    private readonly publishedKeys: () => string[],
    private readonly batchMs = 400,
  ) {}

  /** Whether the library view is on screen (the walkthrough's last step opens it). */
  get isVisible(): boolean {
    return this.view?.visible ?? false;
  }

  attach(view: vscode.TreeView<TreeNode>): void {
    this.view = view;
    this.updateMessage();
  }

  /** Schedules one refresh for any number of calls within the batch window. */
  refreshSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refreshNow();
    }, this.batchMs);
  }

  refreshNow(): void {
    void vscode.commands.executeCommand('setContext', 'scholar.hasBib', this.project.bibDocs().length > 0);
    this.updateMessage();
    this.changed.fire(undefined);
  }

  setFilter(keys: Set<string> | undefined, label?: string, snippets?: Map<string, { before: string; hit: string; after: string }>): void {
    this.filter = keys;
    this.snippets = (keys && snippets) || new Map();
    this.filterLabel = label;
    void vscode.commands.executeCommand('setContext', 'scholar.filtered', !!keys);
    this.refreshNow();
  }

  private updateMessage(): void {
    if (!this.view) return;
    this.view.message = this.filter ? vscode.l10n.t('Showing {0} entries matching "{1}"', this.filter.size, String(this.filterLabel)) : undefined;
  }

  /** The entry's status (read from the models by EntryStatuses; the tree only shows it). */
  status(key: string): EntryStatus {
    return this.statuses.of(key);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    if (node.kind === 'group') {
      if (node.group === 'published') {
        const item = new vscode.TreeItem(vscode.l10n.t('Published since'), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = 'group:published';
        item.description = String(node.keys.length);
        item.tooltip = vscode.l10n.t('Cited preprints with a published version: Cite the published version is a quick fix on each entry');
        item.iconPath = new vscode.ThemeIcon('arrow-circle-up');
        item.contextValue = 'group-published';
        item.accessibilityInformation = { label: vscode.l10n.t('Published since: {0} cited as preprints have a published version', plural(node.keys.length)), role: 'treeitem' };
        return item;
      }
      const item = new vscode.TreeItem(node.group === 'review' ? vscode.l10n.t('Needs review') : 'Failed', vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `group:${node.group}`;
      item.description = String(node.keys.length);
      item.iconPath = new vscode.ThemeIcon(node.group === 'review' ? 'question' : 'error', new vscode.ThemeColor(node.group === 'review' ? 'list.warningForeground' : 'list.errorForeground'));
      item.contextValue = `group-${node.group}`;
      const what = node.group === 'review' ? vscode.l10n.t('need your review') : 'failed';
      item.tooltip = `${plural(node.keys.length)} ${what}`;
      item.accessibilityInformation = { label: `${node.group === 'review' ? vscode.l10n.t('Needs review') : 'Failed'}: ${plural(node.keys.length)} ${what}`, role: 'treeitem' };
      return item;
    }
    if (node.kind === 'range') {
      const first = node.entries[0]?.key ?? '';
      const last = node.entries[node.entries.length - 1]?.key ?? '';
      const item = new vscode.TreeItem(`${node.from + 1}–${node.to}`, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `range:${node.parentId}:${node.from}`;
      item.description = `${first} … ${last}`;
      item.iconPath = new vscode.ThemeIcon('list-flat');
      item.contextValue = 'range';
      item.accessibilityInformation = { label: vscode.l10n.t('Entries {0} to {1}, {2} to {3}', node.from + 1, node.to, first, last), role: 'treeitem' };
      return item;
    }
    if (node.kind === 'bib') {
      const item = new vscode.TreeItem(path.basename(node.doc.uri.fsPath), vscode.TreeItemCollapsibleState.Expanded);
      item.id = `bib:${node.doc.uri.toString()}`;
      item.resourceUri = node.doc.uri;
      const dir = path.dirname(vscode.workspace.asRelativePath(node.doc.uri, false));
      const errors = node.doc.file.errors.filter((e) => e.severity === 'error').length;
      item.description = vscode.l10n.t('{0}{1} entries{2}', dir === '.' ? '' : `${dir} · `, node.doc.file.entries.length, errors ? ` · ${errors} errors` : '');
      item.iconPath = new vscode.ThemeIcon('book');
      item.contextValue = 'bibFile';
      item.tooltip = node.doc.uri.fsPath;
      item.accessibilityInformation = { label: `${path.basename(node.doc.uri.fsPath)}, ${item.description}`, role: 'treeitem' };
      return item;
    }
    const st = this.status(node.key);
    const e = node.entry;
    const title = fieldText(e, 'title') ?? '';
    const year = fieldText(e, 'year') ?? fieldText(e, 'date')?.slice(0, 4) ?? '';
    // Labels and descriptions are plain text in a tree item: nothing in them is interpreted.
    const item = new vscode.TreeItem(node.key, vscode.TreeItemCollapsibleState.None);
    item.id = `entry:${node.bibUri.toString()}#${node.key}`;
    // The state in words first: the icon's colour alone says nothing to a screen reader or in high contrast.
    const state = entryStateText(st);
    const snippet = this.snippets.get(node.key);
    item.description = snippet
      ? [state, year, `${shortTail(snippet.before, 40)}«${snippet.hit}»${short(snippet.after, 40)}`].filter(Boolean).join(' · ')
      : [state, year, short(title, 60)].filter(Boolean).join(' · ');
    item.accessibilityInformation = { label: `${node.key}, ${state}${title ? `, ${title}` : ''}${year ? `, ${year}` : ''}`, role: 'treeitem' };
    const flags = ['entry'];
    if (st.doi) flags.push('hasDoi');
    if (st.pdfState === 'stored') flags.push('hasPdf');
    if (st.doiState === 'review') flags.push('review');
    if (st.pdfState === 'failed') flags.push('failed');
    item.contextValue = flags.join(' ');
    let icon: vscode.ThemeIcon;
    if (st.pdfState === 'failed') icon = new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
    else if (st.doiState === 'review') icon = new vscode.ThemeIcon('question', new vscode.ThemeColor('list.warningForeground'));
    else if (st.pdfState === 'stored') icon = new vscode.ThemeIcon('file-pdf', new vscode.ThemeColor('testing.iconPassed'));
    else if (st.pdfState === 'pending') icon = new vscode.ThemeIcon('loading~spin');
    else if (st.doiState === 'found') icon = new vscode.ThemeIcon('pass');
    else if (st.doiState === 'not_found' || st.doiState === 'no_doi') icon = new vscode.ThemeIcon('circle-slash');
    else icon = new vscode.ThemeIcon('circle-outline');
    item.iconPath = icon;
    // The tooltip is built when the user hovers (resolveTreeItem), not for each of 50,000 items.
    item.command = st.pdfState === 'stored'
      ? { command: 'scholar.openPdf', title: vscode.l10n.t('Open PDF'), arguments: [node] }
      : { command: 'scholar.revealEntry', title: vscode.l10n.t('Go to Entry'), arguments: [node] };
    return item;
  }

  /** Untrusted text (titles from APIs and .bib files) is appended as text: no HTML, no command links. */
  private tooltip(node: Extract<TreeNode, { kind: 'entry' }>, st: EntryStatus, title: string, year: string): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, false);
    md.isTrusted = false;
    md.supportHtml = false;
    md.appendMarkdown('**');
    appendUntrusted(md, st.meta?.title ?? title ?? node.key);
    md.appendMarkdown('**\n\n');
    const authors = st.meta?.authors?.map((a) => a.family).join(', ') ?? fieldText(node.entry, 'author');
    if (authors) appendUntrusted(md, `${short(authors, 200)}\n\n`);
    const venue = st.meta?.venue ?? fieldText(node.entry, 'journal') ?? fieldText(node.entry, 'journaltitle') ?? fieldText(node.entry, 'booktitle');
    appendUntrusted(md, [venue, st.meta?.year ?? year].filter(Boolean).join(', ') + '\n\n');
    appendUntrusted(md, vscode.l10n.t('DOI: {0}\n\n', st.doi ?? (st.libraryDoi ? vscode.l10n.t('{0} (found, not in the .bib)', st.libraryDoi) : st.doiState === 'review' ? vscode.l10n.t('needs review') : st.doiState === 'not_found' ? vscode.l10n.t('not found') : st.doiState === 'no_doi' ? vscode.l10n.t('none (marked)') : '—')));
    appendUntrusted(md, vscode.l10n.t('PDF: {0}\n\n', st.pdfState === 'stored' ? vscode.l10n.t('stored ({0}, {1})', String(st.meta?.pdf?.source), st.meta?.pdf?.verified === 'unverified' ? vscode.l10n.t('no text layer to verify') : st.meta?.pdf?.verified === 'manual' ? vscode.l10n.t('kept by you: it does not name the entry') : 'verified') : st.pdfState));
    if (st.failure) appendUntrusted(md, vscode.l10n.t('Last failure: {0}\n\n', st.failure));
    const snippet = this.snippets.get(node.key);
    if (snippet) appendUntrusted(md, vscode.l10n.t('In the full text: {0}«{1}»{2}\n\n', snippet.before, snippet.hit, snippet.after));
    for (const n of st.meta?.notices ?? []) appendUntrusted(md, `⚠ ${n.type}${n.doi ? ` (${n.doi})` : ''}\n\n`);
    return md;
  }

  resolveTreeItem(item: vscode.TreeItem, node: TreeNode): vscode.TreeItem {
    if (node.kind === 'entry' && !item.tooltip) {
      const e = node.entry;
      item.tooltip = this.tooltip(node, this.status(node.key), fieldText(e, 'title') ?? '', fieldText(e, 'year') ?? fieldText(e, 'date')?.slice(0, 4) ?? '');
    }
    return item;
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) {
      const out: TreeNode[] = [];
      const review: string[] = [];
      const failed: string[] = [];
      const docs = this.project.bibDocs();
      for (const d of docs) {
        for (const e of d.file.entries) {
          const st = this.status(e.key);
          if (st.doiState === 'review') review.push(e.key);
          if (st.pdfState === 'failed') failed.push(e.key);
        }
      }
      if (review.length) out.push({ kind: 'group', group: 'review', keys: review });
      if (failed.length) out.push({ kind: 'group', group: 'failed', keys: failed });
      const published = this.publishedKeys();
      if (published.length) out.push({ kind: 'group', group: 'published', keys: published });
      for (const d of docs) out.push({ kind: 'bib', doc: d });
      return out;
    }
    if (node.kind === 'group') {
      const entries = node.keys.flatMap((k) => {
        const f = this.project.findEntry(k);
        return f ? [{ kind: 'entry' as const, key: k, bibUri: f.doc.uri, entry: f.entry }] : [];
      });
      return paged(`group:${node.group}`, entries);
    }
    if (node.kind === 'bib') {
      const entries = node.doc.file.entries.filter((e) => !this.filter || this.filter.has(e.key)).map((e) => ({ kind: 'entry' as const, key: e.key, bibUri: node.doc.uri, entry: e }));
      return paged(`bib:${node.doc.uri.toString()}`, entries);
    }
    if (node.kind === 'range') return node.entries;
    return [];
  }

  getParent(): undefined {
    return undefined;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.changed.dispose();
  }
}
