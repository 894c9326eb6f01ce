/**
 * Scholar: Insert Citation… — a QuickPick over the document's bibliography and the library with
 * the completion's ranking and the index's query language (`author:`, `year:`, `has:pdf`, "…").
 * The picked keys go into the citation list under the cursor, or into a new `\cite{…}`.
 */
import * as vscode from 'vscode';
import type { Handlers } from './types';
import { ScholarError } from '../../core/errors';
import { citeContextAt } from '../../core/tex/citeContext';
import type { CiteItem, CitationCompletion } from '../completion';
import { shortAuthors } from '../completion';
import type { DocumentBibliographies } from '../bibScope';
import type { AddEntryArgs } from './addEntry';

type Item = vscode.QuickPickItem & { cite?: CiteItem };

export class InsertCitationFeature {
  /** The open pick, for tests (which type into it and accept it through VS Code's own commands). */
  current: vscode.QuickPick<Item> | undefined;

  constructor(
    private readonly completion: CitationCompletion,
    private readonly bibs: DocumentBibliographies,
  ) {}

  /** Resolves with the keys inserted ([] when dismissed). */
  async run(initial: string): Promise<string[]> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !/\.tex$/i.test(editor.document.uri.fsPath)) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: open a .tex file to insert a citation.'));
      return [];
    }
    const { ranker, items } = await this.completion.rankerFor(editor.document.uri);
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = vscode.l10n.t('Scholar: Insert Citation');
    qp.placeholder = vscode.l10n.t('Key, title, author or year; filters: author:NAME year:2010..2015 has:pdf venue:V "a phrase"');
    qp.canSelectMany = true;
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    const update = () => {
      try {
        qp.items = ranker.rank(qp.value, 200, { query: true }).map(({ candidate }): Item => {
          const c = candidate as CiteItem;
          const flags = [c.hasPdf ? '$(file-pdf)' : '', c.doi ? 'DOI' : '', c.notices?.includes('retraction') ? '$(warning) retracted' : '', c.bib ? '' : vscode.l10n.t('$(library) library only')].filter(Boolean);
          return { label: c.key, description: [shortAuthors(c), c.venue].filter(Boolean).join(' · '), detail: [c.title, ...flags].filter(Boolean).join('  '), alwaysShow: true, cite: c };
        });
        // Enter without a checked item takes the focused one: the best match unless the user moves.
        qp.activeItems = qp.items.slice(0, 1);
        qp.title = vscode.l10n.t('Scholar: Insert Citation');
      } catch (err) {
        if (!(err instanceof ScholarError && err.code === 'E_BAD_QUERY')) throw err;
        qp.items = [];
        qp.title = vscode.l10n.t('Scholar: Insert Citation — {0}', err.message);
      }
    };
    qp.value = initial;
    update();
    this.current = qp;
    const picked = await new Promise<CiteItem[]>((resolve) => {
      qp.onDidChangeValue(update);
      qp.onDidAccept(() => {
        const sel = qp.selectedItems.length ? qp.selectedItems : qp.activeItems;
        resolve(sel.flatMap((i) => (i.cite ? [i.cite] : [])));
        qp.hide();
      });
      qp.onDidHide(() => resolve([]));
      qp.show();
    });
    qp.dispose();
    this.current = undefined;
    if (!picked.length) return [];
    await this.insert(editor, picked.map((c) => c.key), new Set(items.map((c) => c.key)));
    // Library entries missing from the document's bibliography are added to it, under their keys.
    const target = this.bibs.targetFor(editor.document.uri);
    for (const c of picked) {
      if (c.bib || !c.doi || !target) continue;
      const args: AddEntryArgs = { ids: c.doi, key: c.key, target };
      await vscode.commands.executeCommand('scholar.addEntry', args);
    }
    return picked.map((c) => c.key);
  }

  private async insert(editor: vscode.TextEditor, keys: string[], known: ReadonlySet<string>): Promise<void> {
    const doc = editor.document;
    const pos = editor.selection.active;
    const offset = doc.offsetAt(pos);
    const from = Math.max(0, offset - 2000);
    const text = doc.getText(new vscode.Range(doc.positionAt(from), doc.positionAt(offset + 600)));
    const ctx = citeContextAt(text, offset - from);
    const command = vscode.workspace.getConfiguration('scholar', doc.uri).get<string>('citation.command') || 'cite';
    await editor.edit((b) => {
      if (!ctx) return b.replace(editor.selection, `\\${command}{${keys.join(',')}}`);
      // Inside a key list: a fragment being typed is replaced; a complete key stays and the new keys
      // follow it. A comma separates them from their neighbours.
      const whole = text.slice(ctx.start, ctx.end);
      if (known.has(whole)) ctx.start = ctx.end;
      const range = new vscode.Range(doc.positionAt(from + ctx.start), doc.positionAt(from + ctx.end));
      const before = text.slice(0, ctx.start).trimEnd();
      const after = text.slice(ctx.end).trimStart();
      const lead = ctx.start === ctx.end && !/[{,]$/.test(before) ? ',' : '';
      const tail = !/^[},]/.test(after) ? ',' : '';
      b.replace(range, lead + keys.join(',') + tail);
    });
  }
}

// Typed structurally, not by CommandsOf: the container builds InsertCitationFeature, so importing it back would be a cycle.
export const insertCitationCommands = ({ insertCitation }: { insertCitation: InsertCitationFeature }): Handlers<'scholar.insertCitation'> => ({
  'scholar.insertCitation': (arg) => insertCitation.run(typeof arg === 'string' ? arg : ''),
});
