/**
 * Scholar: Update Entries from DOI — on every entry of a .bib, the entries selected in its editor,
 * or one entry (tree, code lens). The proposals are shown as a diff of the .bib against a virtual
 * document holding the proposed text; a multi-select pick accepts all, one entry or one field.
 * Accepted fields are written as one WorkspaceEdit (only their bytes change); fields left unticked
 * are remembered as kept (metadata.json provenance `bib.<field>: user`) and never proposed again.
 * Notices (retraction, correction, expression of concern) read with the records go into metadata
 * and show up in diagnostics, tree and hover as before.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { applyEdits, hasOptOut } from '../../core/bib/edit';
import { findEntry, parseBib } from '../../core/bib/parse';
import type { MetadataPatch } from '../../core/storage/metadata';
import { keptFields, planUpdateEdits, proposeUpdates, PROVENANCE_PREFIX, type EntryUpdate, type Proposal } from '../../core/update/update';
import type { ProjectModel } from '../project';
import type { Session } from '../session';
import type { Log } from '../log';
import { saveSoon } from './save';
import type { Handlers } from './types';

export const PROPOSED_SCHEME = 'scholar-proposed';

export interface UpdateArgs {
  uri?: vscode.Uri;
  keys?: string[];
  /** Without asking: `'all'`, or a list of `key` (every field of it) and `key.field`. */
  accept?: 'all' | string[];
}

export interface UpdateSummary {
  entries: EntryUpdate[];
  proposals: Proposal[];
  applied: Proposal[];
  kept: Proposal[];
  refused: { key: string; reason: string }[];
  proposedUri?: string;
}

/** The proposed text of a .bib, shown on the right of the review diff (read-only, never saved). */
class ProposedDocs implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  private n = 0;
  set(bib: vscode.Uri, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: PROPOSED_SCHEME, path: bib.path, query: String(++this.n) });
    this.texts.set(uri.toString(), text);
    this.emitter.fire(uri);
    return uri;
  }
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

/** "Update from DOI" above each .bib entry that has a DOI (scholar.update.codeLens). */
class UpdateLenses implements vscode.CodeLensProvider {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  constructor(private readonly project: ProjectModel) {}
  refresh(): void {
    this.emitter.fire();
  }
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.getConfiguration('scholar', doc.uri).get<boolean>('update.codeLens', true)) return [];
    const file = this.project.bibDoc(doc.uri)?.file ?? parseBib(doc.getText());
    return file.entries
      .filter((e) => e.fields.get('doi')?.value.trim() && !hasOptOut(e))
      .map((e) => {
        const pos = doc.positionAt(e.span.start);
        return new vscode.CodeLens(new vscode.Range(pos, pos), { title: vscode.l10n.t('Update from DOI'), command: 'scholar.updateEntries', arguments: [{ uri: doc.uri, keys: [e.key] } satisfies UpdateArgs] });
      });
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

type PickItem = vscode.QuickPickItem & { proposal?: Proposal };

export class UpdateEntriesFeature implements vscode.Disposable {
  private readonly proposed = new ProposedDocs();
  private readonly lenses: UpdateLenses;
  private readonly disposables: vscode.Disposable[] = [];
  lastSummary: UpdateSummary | undefined;

  constructor(
    private readonly session: Session,
    private readonly project: ProjectModel,
    private readonly log: Log,
    private readonly libraryChanged: () => void,
  ) {
    this.lenses = new UpdateLenses(project);
    this.disposables.push(
      this.proposed,
      this.lenses,
      vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, this.proposed),
      vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/*.bib' }, this.lenses),
      project.onDidChange(() => this.lenses.refresh()),
    );
  }

  /** What the command is about: an argument (Uri, tree node, code lens), the editor's selection, or a pick. */
  private async targets(arg: unknown): Promise<{ uri: vscode.Uri; keys?: Set<string>; accept?: UpdateArgs['accept'] } | undefined> {
    if (arg instanceof vscode.Uri) return { uri: arg };
    const node = arg as { kind?: string; key?: string; bibUri?: vscode.Uri } | undefined;
    if (node?.kind === 'entry' && node.key && node.bibUri) return { uri: node.bibUri, keys: new Set([node.key]) };
    const bibNode = arg as { kind?: string; doc?: { uri?: vscode.Uri } } | undefined;
    if (bibNode?.kind === 'bib' && bibNode.doc?.uri instanceof vscode.Uri) return { uri: bibNode.doc.uri };
    const a = arg as UpdateArgs | undefined;
    if (a && typeof a === 'object' && (a.uri || a.keys)) {
      const uri = a.uri ?? (a.keys?.[0] ? this.project.findEntry(a.keys[0])?.doc.uri : undefined);
      if (uri) return { uri, keys: a.keys ? new Set(a.keys) : undefined, accept: a.accept };
    }
    const ed = vscode.window.activeTextEditor;
    if (ed && /\.bib$/i.test(ed.document.uri.fsPath)) {
      // A selection covering (part of) several entries means those entries; a bare cursor, all of them.
      const sel = ed.selections.filter((s) => !s.isEmpty);
      if (!sel.length) return { uri: ed.document.uri, accept: a?.accept };
      const file = parseBib(ed.document.getText());
      const keys = new Set(
        file.entries
          .filter((e) => sel.some((s) => ed.document.offsetAt(s.start) < e.span.end && ed.document.offsetAt(s.end) > e.span.start))
          .map((e) => e.key),
      );
      return { uri: ed.document.uri, keys, accept: a?.accept };
    }
    await this.project.ready();
    const docs = this.project.bibDocs();
    if (docs.length === 1) return { uri: docs[0].uri, accept: a?.accept };
    const pick = await vscode.window.showQuickPick(
      docs.map((d) => ({ label: path.basename(d.uri.fsPath), description: vscode.workspace.asRelativePath(d.uri), uri: d.uri })),
      { title: vscode.l10n.t('Scholar: update the entries of which .bib file?') },
    );
    return pick ? { uri: pick.uri, accept: a?.accept } : undefined;
  }

  async update(arg: unknown): Promise<UpdateSummary | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Scholar sends no request and writes nothing in Restricted Mode. Trust this folder to update entries.'));
      return undefined;
    }
    const t = await this.targets(arg);
    if (!t) return undefined;
    const folder = this.session.folderFor(t.uri);
    if (!folder) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Scholar: the .bib file is outside the workspace.'));
      return undefined;
    }
    const lib = await this.session.library(folder);
    const doc = await vscode.workspace.openTextDocument(t.uri);
    const file = parseBib(doc.getText());
    const kept = (key: string) => keptFields(lib.index.get(key)?.provenance);
    const entries = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Scholar: comparing entries with their DOI records'), cancellable: true }, (_p, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      return proposeUpdates(lib.http, file, { keys: t.keys, kept, signal: ac.signal });
    });
    // Notices are re-read on every update, whatever the user decides about the fields.
    // Fetched again: a settings change meanwhile reopens the library (the old one is closed).
    let writer = (await this.session.library(folder)).writer;
    for (const u of entries) if (u.notices) await writer.writeMetadata(u.key, { notices: u.notices.length ? u.notices : null });
    await writer.flush();
    this.session.invalidateMetadata();
    this.libraryChanged();

    const proposals = entries.flatMap((u) => u.proposals);
    const summary: UpdateSummary = { entries, proposals, applied: [], kept: [], refused: [] };
    this.lastSummary = summary;
    for (const u of entries) if (u.outcome === 'mismatch' || u.outcome === 'failed') this.log.warn(`update: ${u.key}: ${u.outcome}: ${u.message ?? ''}`);
    if (!proposals.length) {
      const mismatched = entries.filter((u) => u.outcome === 'mismatch').length;
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: {0} entries agree with their DOI records; nothing to change.{1}', entries.filter((u) => u.outcome === 'unchanged').length, mismatched ? vscode.l10n.t(' {0} DOIs name another work (see the log).', mismatched) : ''));
      return summary;
    }
    const proposedText = applyEdits(file.text, planUpdateEdits(file, proposals).edits);
    const proposedUri = this.proposed.set(t.uri, proposedText);
    summary.proposedUri = proposedUri.toString();
    await vscode.commands.executeCommand('vscode.diff', t.uri, proposedUri, vscode.l10n.t('{0} ↔ proposed updates ({1})', path.basename(t.uri.fsPath), proposals.length), { preview: true });

    let accepted: Proposal[];
    if (t.accept) {
      const want = t.accept;
      accepted = want === 'all' ? proposals : proposals.filter((p) => want.includes(p.key) || want.includes(`${p.key}.${p.field}`));
    } else {
      const items: PickItem[] = [];
      for (const u of entries.filter((x) => x.proposals.length)) {
        items.push({ label: u.key, kind: vscode.QuickPickItemKind.Separator });
        for (const p of u.proposals) {
          items.push({ label: `${p.key} · ${p.field}`, description: `${p.old ?? '(missing)'} → ${p.new}`, detail: vscode.l10n.t('{0}, from {1}', p.reason, p.source), picked: true, proposal: p });
        }
      }
      const picked = await vscode.window.showQuickPick(items, {
        canPickMany: true,
        ignoreFocusOut: true,
        title: vscode.l10n.t('Scholar: apply which of {0} changes? Unticked fields are kept and not proposed again.', proposals.length),
        matchOnDescription: true,
      });
      if (!picked) return summary;
      accepted = picked.map((i) => i.proposal).filter((p): p is Proposal => !!p);
    }
    const keptNow = proposals.filter((p) => !accepted.includes(p));
    summary.kept = keptNow;

    // Written against the document as it is now; an entry edited since it was compared is left alone.
    const nowText = doc.getText();
    const nowFile = parseBib(nowText);
    const safe = accepted.filter((p) => {
      const before = findEntry(file, p.key);
      const now = findEntry(nowFile, p.key);
      const same = !!before && !!now && file.text.slice(before.span.start, before.span.end) === nowText.slice(now.span.start, now.span.end);
      if (!same && !summary.refused.some((r) => r.key === p.key)) summary.refused.push({ key: p.key, reason: vscode.l10n.t('the entry changed since Scholar read it') });
      return same;
    });
    const { byKey } = planUpdateEdits(nowFile, safe);
    if (byKey.size) {
      const wasDirty = doc.isDirty;
      const edit = new vscode.WorkspaceEdit();
      for (const [key, te] of byKey) {
        edit.replace(t.uri, new vscode.Range(doc.positionAt(te.offset), doc.positionAt(te.offset + te.length)), te.text, { label: vscode.l10n.t('Scholar: update {0}', key), needsConfirmation: false });
      }
      if (!(await vscode.workspace.applyEdit(edit))) throw new Error(vscode.l10n.t('VS Code refused the edit'));
      if (!wasDirty && !(await saveSoon(doc))) this.log.warn(`${vscode.workspace.asRelativePath(doc.uri)} was edited but could not be saved; it stays open with the change`);
      summary.applied = safe.filter((p) => byKey.has(p.key));
    }
    // Where each value now comes from, and what the user chose to keep.
    const patches = new Map<string, Record<string, string>>();
    for (const p of summary.applied) patches.set(p.key, { ...patches.get(p.key), [PROVENANCE_PREFIX + p.field]: p.source });
    for (const p of keptNow) patches.set(p.key, { ...patches.get(p.key), [PROVENANCE_PREFIX + p.field]: 'user' });
    writer = (await this.session.library(folder)).writer;
    for (const [key, provenance] of patches) await writer.writeMetadata(key, { provenance } satisfies MetadataPatch);
    await writer.flush();
    this.session.invalidateMetadata();
    await this.project.reread(t.uri);
    this.libraryChanged();
    const msg = vscode.l10n.t('Scholar: {0} field{1} updated in {2} entr{3}{4}{5}.', summary.applied.length, summary.applied.length === 1 ? '' : 's', byKey.size, byKey.size === 1 ? 'y' : 'ies', keptNow.length ? vscode.l10n.t('; {0} kept as they were', keptNow.length) : '', summary.refused.length ? vscode.l10n.t('; {0} entries changed meanwhile and were left alone', summary.refused.length) : '');
    this.log.info(msg);
    void vscode.window.showInformationMessage(msg);
    return summary;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** The command's part of the table (commands/index.ts). */
export const updateEntriesCommands = ({ updateEntries }: { updateEntries: UpdateEntriesFeature }): Handlers<'scholar.updateEntries'> => ({ 'scholar.updateEntries': (arg) => updateEntries.update(arg) });
