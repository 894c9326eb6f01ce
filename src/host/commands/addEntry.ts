/**
 * Scholar: Add Entry… — from the palette, the library view's title, a .bib editor's title, or the
 * quick fix on an undefined \cite key. The records are fetched by the core (add/), the entries are
 * planned against the document's current text (unsaved changes count), and the insertion is one
 * WorkspaceEdit, so one undo removes every added entry and restores the file byte for byte.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { parseBib } from '../../core/bib/parse';
import { addedMetadata, fetchIdentifiers, planAdditions, type AddResult } from '../../core/add/add';
import { classifyIdentifier, splitIdentifiers } from '../../core/add/ids';
import { validateKeyPattern } from '../../core/add/key';
import type { ProjectModel } from '../project';
import type { Session } from '../session';
import type { Log } from '../log';
import { saveSoon } from './save';
import type { Handlers } from './types';

export interface AddEntryArgs {
  /** Identifiers (one or more, separated by spaces, commas or new lines); asked for when absent. */
  ids?: string;
  /** The .bib to add to; else the active .bib editor, else a pick. */
  target?: vscode.Uri;
  /** Fetch the new entries' PDFs afterwards without asking. */
  fetch?: boolean;
  /** The key to give the (single) new entry: the quick fix on an undefined key uses the cited key. */
  key?: string;
  /** A cite of an identifier typed as a key (`\cite{10.1234/x}`): replaced by the new key. */
  replaceCite?: { uri: vscode.Uri; range: vscode.Range };
}

export interface AddEntrySummary {
  target: string;
  results: Omit<AddResult, 'record'>[];
}

const TEX: vscode.DocumentSelector = [{ scheme: 'file', language: 'latex' }, { scheme: 'file', pattern: '**/*.tex' }];

export class AddEntryFeature implements vscode.CodeActionProvider, vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** For tests and the status line: the last finished Add. */
  lastSummary: AddEntrySummary | undefined;

  constructor(
    private readonly session: Session,
    private readonly project: ProjectModel,
    private readonly log: Log,
    private readonly fetchPdfs: (uri: vscode.Uri, keys: Set<string>) => Promise<unknown>,
    private readonly libraryChanged: () => void,
  ) {
    this.disposables.push(vscode.languages.registerCodeActionsProvider(TEX, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }));
  }

  /** The quick fix on an undefined citation: add the entry it should be, under the cited key. */
  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics) {
      if (d.source !== 'Scholar' || d.code !== 'W_UNDEFINED_CITATION') continue;
      const key = doc.getText(d.range);
      const id = classifyIdentifier(key);
      const a = new vscode.CodeAction(id.kind === 'invalid' ? vscode.l10n.t('Add entry \'{0}\' from DOI…', key) : vscode.l10n.t('Add {0} and cite its new key', key), vscode.CodeActionKind.QuickFix);
      a.diagnostics = [d];
      const args: AddEntryArgs = id.kind === 'invalid' ? { key } : { ids: key, replaceCite: { uri: doc.uri, range: d.range } };
      a.command = { command: 'scholar.addEntry', title: vscode.l10n.t('Add Entry'), arguments: [args] };
      out.push(a);
    }
    return out;
  }

  private async pickTarget(): Promise<vscode.Uri | undefined> {
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active && /\.bib$/i.test(active.fsPath)) return active;
    await this.project.ready();
    const docs = this.project.bibDocs();
    if (docs.length === 1) return docs[0].uri;
    if (docs.length === 0) {
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (!folder) return undefined;
      const create = await vscode.window.showInformationMessage(vscode.l10n.t('Scholar: this workspace has no .bib file. Create refs.bib?'), vscode.l10n.t('Create refs.bib'));
      if (!create) return undefined;
      const uri = vscode.Uri.joinPath(folder.uri, 'refs.bib');
      await vscode.workspace.fs.writeFile(uri, new Uint8Array());
      return uri;
    }
    const pick = await vscode.window.showQuickPick(
      docs.map((d) => ({ label: path.basename(d.uri.fsPath), description: vscode.workspace.asRelativePath(d.uri), uri: d.uri })),
      { title: vscode.l10n.t('Scholar: add to which .bib file?') },
    );
    return pick?.uri;
  }

  async add(arg: unknown): Promise<AddEntrySummary | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Scholar sends no request and writes nothing in Restricted Mode. Trust this folder to add entries.'));
      return undefined;
    }
    const args: AddEntryArgs = arg instanceof vscode.Uri ? { target: arg } : arg && typeof arg === 'object' && !('kind' in arg) ? (arg as AddEntryArgs) : {};
    const pattern = vscode.workspace.getConfiguration('scholar', args.target ?? vscode.window.activeTextEditor?.document.uri ?? null).get<string>('keyPattern') || undefined;
    if (pattern) {
      try {
        validateKeyPattern(pattern);
      } catch (err) {
        void vscode.window.showErrorMessage(vscode.l10n.t('Scholar: scholar.keyPattern: {0}', (err as Error).message));
        return undefined;
      }
    }
    const ids =
      args.ids ??
      (await vscode.window.showInputBox({
        title: args.key ? vscode.l10n.t('Scholar: add \'{0}\' from its identifier', args.key) : vscode.l10n.t('Scholar: Add Entry'),
        prompt: vscode.l10n.t('A DOI, an arXiv id or a publisher URL; several separated by spaces or commas'),
        placeHolder: 'e.g. 10.1038/nature14539  arXiv:1706.03762  https://doi.org/…',
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() && splitIdentifiers(v).every((x) => classifyIdentifier(x).kind === 'invalid') ? vscode.l10n.t('Not a DOI, an arXiv id or a URL') : undefined),
      }));
    if (!ids?.trim()) return undefined;
    const target = args.target ?? (await this.pickTarget());
    if (!target) return undefined;
    const folder = this.session.folderFor(target) ?? vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Scholar: the .bib file is outside the workspace.'));
      return undefined;
    }
    const lib = await this.session.library(folder);
    const fetched = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Scholar: reading the records'), cancellable: true }, (_p, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      return fetchIdentifiers(lib.http, [ids], { signal: ac.signal });
    });
    const doc = await vscode.workspace.openTextDocument(target);
    const wasDirty = doc.isDirty;
    // Planned against the text as it is now: what the user typed while the records came stays.
    const plan = planAdditions(parseBib(doc.getText()), fetched, { keyPattern: pattern, key: args.key });
    const summary: AddEntrySummary = { target: target.fsPath, results: plan.results.map(({ record: _r, ...rest }) => rest) };
    const added = plan.results.filter((r) => r.outcome === 'added');
    if (plan.edit) {
      const edit = new vscode.WorkspaceEdit();
      edit.insert(target, doc.positionAt(plan.edit.offset), plan.edit.text, { label: vscode.l10n.t('Scholar: add {0}', added.map((r) => r.key).join(', ')), needsConfirmation: false });
      if (!(await vscode.workspace.applyEdit(edit))) throw new Error(vscode.l10n.t('VS Code refused the edit'));
      if (!wasDirty && !(await saveSoon(doc))) this.log.warn(`${vscode.workspace.asRelativePath(doc.uri)} was edited but could not be saved; it stays open with the change`);
      // Fetched again: a settings change meanwhile reopens the library (the old one is closed).
      const writer = (await this.session.library(folder)).writer;
      for (const r of added) await writer.writeMetadata(r.key!, addedMetadata(r.record!));
      await writer.flush();
      for (const r of added) this.session.invalidateMetadata(r.key);
      await this.project.reread(target);
      this.libraryChanged();
    }
    // `\cite{10.1234/x}`: the identifier becomes the key of the entry it named.
    const newKey = plan.results[0]?.key ?? plan.results[0]?.existingKey;
    if (args.replaceCite && newKey && plan.results.length === 1) {
      const e = new vscode.WorkspaceEdit();
      e.replace(args.replaceCite.uri, args.replaceCite.range, newKey);
      await vscode.workspace.applyEdit(e);
    }
    this.lastSummary = summary;
    this.report(summary, target, added.map((r) => r.key!), args.fetch);
    if (args.fetch && added.length) await this.fetchPdfs(target, new Set(added.map((r) => r.key!)));
    return summary;
  }

  private report(s: AddEntrySummary, target: vscode.Uri, keys: string[], fetching?: boolean): void {
    const name = path.basename(target.fsPath);
    const lines = s.results.map((r) =>
      r.outcome === 'added' ? `${r.id} → ${r.key}` : r.outcome === 'duplicate' ? vscode.l10n.t('{0}: already in {1} as {2}', r.id, name, String(r.existingKey)) : `${r.id}: ${r.message ?? r.outcome}`,
    );
    for (const l of lines) this.log.info(`add: ${l}`);
    const bad = s.results.filter((r) => r.outcome !== 'added' && r.outcome !== 'duplicate');
    const msg = vscode.l10n.t('Scholar: {0}.{1}', keys.length ? vscode.l10n.t('added {0} to {1}', keys.join(', '), name) : vscode.l10n.t('nothing added'), s.results.length > keys.length ? ` ${lines.filter((_, i) => s.results[i].outcome !== 'added').join('; ')}.` : '');
    const actions = keys.length && !fetching ? [vscode.l10n.t('Fetch PDF'), vscode.l10n.t('Go to Entry')] : [];
    const show = bad.length && !keys.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(msg, ...actions).then(async (a) => {
      if (a === vscode.l10n.t('Fetch PDF')) await this.fetchPdfs(target, new Set(keys));
      if (a === vscode.l10n.t('Go to Entry')) await vscode.commands.executeCommand('scholar.revealEntry', keys[0]);
    });
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** The command's part of the table (commands/index.ts). */
export const addEntryCommands = ({ addEntry }: { addEntry: AddEntryFeature }): Handlers<'scholar.addEntry'> => ({ 'scholar.addEntry': (arg) => addEntry.add(arg) });
