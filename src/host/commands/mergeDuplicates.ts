/**
 * Scholar: Merge Duplicate Entries… — a preprint entry and the published entry of one work (the
 * I_VERSION_DUPLICATE pairs) become one entry. The user picks the key to keep (default: the one
 * cited more often) and whether the other key's `\cite`s are rewritten or it stays as a BibLaTeX
 * alias. The merge is one WorkspaceEdit over the .bib and .tex files, so one undo restores every
 * file; the removed entry's text also goes to the log. The removed key's storage folder is left as
 * it is (the user is told, see docs/decisions.md).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { parseBib } from '../../core/bib/parse';
import { versionDuplicates, type VersionDuplicate } from '../../core/upgrade/duplicates';
import { defaultKeep, planMerge, removedKeyStorage, type MergeMode, type MergePlan } from '../../core/upgrade/merge';
import type { ProjectModel } from '../project';
import type { Log } from '../log';
import type { Upgrades } from '../upgrade';
import { saveSoon } from './save';
import type { CommandsOf } from '../container';

export interface EntryRef {
  uri: vscode.Uri;
  key: string;
}

/** What the quick fix passes; a test or a script may add `keep` and `mode` to skip the questions. */
export interface MergeArgs {
  preprint: EntryRef;
  published: EntryRef;
  keep?: string;
  mode?: MergeMode;
}

export interface MergeResult {
  keep: string;
  remove: string;
  mode: MergeMode;
  files: string[];
  citesRewritten: number;
  copied: string[];
  removedText: string;
  notes: string[];
}

function isRef(x: unknown): x is EntryRef {
  return !!x && typeof x === 'object' && (x as EntryRef).uri instanceof vscode.Uri && typeof (x as EntryRef).key === 'string';
}

export class MergeDuplicatesFeature {
  constructor(
    private readonly project: ProjectModel,
    private readonly log: Log,
    private readonly upgrades?: Upgrades,
  ) {}

  /** The project's preprint/published pairs (what the diagnostics show). */
  pairs(): VersionDuplicate[] {
    const linked = new Map((this.upgrades?.keys() ?? []).map((k) => [k, this.upgrades!.get(k)!.proposal.to!.doi] as [string, string]));
    return versionDuplicates(this.project.bibDocs().map((d) => ({ path: d.uri.toString(), file: d.file })), linked);
  }

  async merge(arg?: unknown): Promise<MergeResult | undefined> {
    await this.project.ready();
    const a = arg as Partial<MergeArgs> | undefined;
    let pair: { preprint: EntryRef; published: EntryRef } | undefined;
    if (a && isRef(a.preprint) && isRef(a.published)) pair = { preprint: a.preprint, published: a.published };
    else {
      const all = this.pairs().map((d) => ({ preprint: { uri: vscode.Uri.parse(d.preprint.path), key: d.preprint.key }, published: { uri: vscode.Uri.parse(d.published.path), key: d.published.key } }));
      if (!all.length) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: no preprint entry has its published version as another entry of this workspace.'));
        return undefined;
      }
      const picked = all.length === 1 ? all[0] : (await vscode.window.showQuickPick(all.map((p) => ({ label: `${p.preprint.key} ↔ ${p.published.key}`, description: 'preprint ↔ published', p })), { title: vscode.l10n.t('Merge duplicate entries'), placeHolder: vscode.l10n.t('Which pair?') }))?.p;
      if (!picked) return undefined;
      pair = picked;
    }

    const counts = new Map<string, number>();
    for (const site of this.project.citeSites()) if (site.key === pair.preprint.key || site.key === pair.published.key) counts.set(site.key, (counts.get(site.key) ?? 0) + 1);
    const cited = (k: string) => counts.get(k) ?? 0;
    let keep: EntryRef;
    if (a?.keep === pair.preprint.key || a?.keep === pair.published.key) keep = a.keep === pair.preprint.key ? pair.preprint : pair.published;
    else {
      const first = defaultKeep(pair.preprint, pair.published, counts);
      const items = [first, first === pair.preprint ? pair.published : pair.preprint].map((r) => ({
        label: r.key,
        description: vscode.l10n.t('{0} · cited {1} times', r === pair!.preprint ? 'preprint' : vscode.l10n.t('published version'), cited(r.key)),
        detail: r === first ? vscode.l10n.t('Default: cited more often (the published version on a tie)') : undefined,
        r,
      }));
      const choice = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Merge duplicate entries: which key to keep?'), placeHolder: vscode.l10n.t('The other entry is removed (undo restores it)') });
      if (!choice) return undefined;
      keep = choice.r;
    }
    const remove = keep === pair.preprint ? pair.published : pair.preprint;
    let mode: MergeMode;
    if (a?.mode === 'alias' || a?.mode === 'rewrite') mode = a.mode;
    else {
      const n = cited(remove.key);
      const choice = await vscode.window.showQuickPick(
        [
          { label: vscode.l10n.t('Rewrite the citations of \'{0}\'', remove.key), description: `${n} \\cite${n === 1 ? '' : 's'} → '${keep.key}'`, detail: vscode.l10n.t('Works with BibTeX and BibLaTeX'), mode: 'rewrite' as const },
          { label: vscode.l10n.t('Keep \'{0}\' as an alias', remove.key), description: vscode.l10n.t('ids = {{0}} on \'{1}\'; no .tex file changes', remove.key, keep.key), detail: vscode.l10n.t('BibLaTeX with biber only: BibTeX ignores ids, and the old citations become undefined'), mode: 'alias' as const },
        ],
        { title: vscode.l10n.t('Merge duplicate entries: keep \'{0}\', remove \'{1}\'', keep.key, remove.key) },
      );
      if (!choice) return undefined;
      mode = choice.mode;
    }
    return this.apply(keep, remove, mode);
  }

  /** Plans the merge on the documents' current text (unsaved changes included) and applies it as one edit. */
  private async apply(keep: EntryRef, remove: EntryRef, mode: MergeMode): Promise<MergeResult | undefined> {
    const bibDocs = new Map<string, vscode.TextDocument>();
    for (const u of [keep.uri, remove.uri]) if (!bibDocs.has(u.toString())) bibDocs.set(u.toString(), await vscode.workspace.openTextDocument(u));
    // Only the .tex files that cite the removed key can change.
    const texDocs = new Map<string, vscode.TextDocument>();
    if (mode === 'rewrite') {
      for (const site of this.project.citeSites()) {
        if (site.key === remove.key && !texDocs.has(site.uri.toString())) texDocs.set(site.uri.toString(), await vscode.workspace.openTextDocument(site.uri));
      }
    }
    let plan: MergePlan;
    try {
      plan = planMerge(
        [...bibDocs].map(([p, d]) => ({ path: p, file: parseBib(d.getText()) })),
        [...texDocs].map(([p, d]) => ({ path: p, text: d.getText() })),
        { keep: { path: keep.uri.toString(), key: keep.key }, remove: { path: remove.uri.toString(), key: remove.key }, mode },
      );
    } catch (err) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Scholar: cannot merge: {0}', err instanceof Error ? err.message : String(err)));
      return undefined;
    }
    const docs = new Map([...bibDocs, ...texDocs]);
    const wasDirty = new Map([...docs].map(([k, d]) => [k, d.isDirty]));
    const edit = new vscode.WorkspaceEdit();
    const label = { label: vscode.l10n.t('Scholar: merge \'{0}\' into \'{1}\'', remove.key, keep.key), needsConfirmation: false };
    const files: string[] = [];
    for (const f of [...plan.bib, ...plan.tex]) {
      const doc = docs.get(f.path)!;
      for (const e of f.edits) edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.text, label);
      files.push(vscode.workspace.asRelativePath(doc.uri));
    }
    if (!(await vscode.workspace.applyEdit(edit))) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Scholar: VS Code refused the merge edit; nothing was changed.'));
      return undefined;
    }
    // The user's text stays reachable even after the undo stack is gone.
    this.log.info(`merge: kept '${keep.key}', removed '${remove.key}' (${mode === 'alias' ? `alias ids = {${remove.key}}` : `${plan.citesRewritten} citations rewritten`}) in ${files.join(', ')}; the removed entry was:\n${plan.removedText}`);
    for (const [k, d] of docs) if (!wasDirty.get(k) && plan.bib.concat(plan.tex).some((f) => f.path === k)) await saveSoon(d);
    const notes = [...plan.notes];
    const folder = vscode.workspace.getWorkspaceFolder(remove.uri);
    if (folder) {
      const rel = vscode.workspace.getConfiguration('scholar', folder.uri).get<string>('storageFolder') || 'storage';
      const storageNote = await removedKeyStorage(path.resolve(folder.uri.fsPath, rel), remove.key, keep.key).catch(() => undefined);
      if (storageNote) notes.push(storageNote);
    }
    for (const n of notes) this.log.info(`merge: ${n}`);
    void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: merged \'{0}\' into \'{1}\' (undo restores both).{2}', remove.key, keep.key, notes.length ? vscode.l10n.t(' Note: {0}.', notes.join('; ')) : ''));
    return { keep: keep.key, remove: remove.key, mode, files, citesRewritten: plan.citesRewritten, copied: plan.copied, removedText: plan.removedText, notes };
  }
}

export const mergeDuplicatesCommands: CommandsOf<'scholar.mergeDuplicates'> = ({ project, log, upgrades }) => {
  const feature = new MergeDuplicatesFeature(project, log, upgrades);
  return { 'scholar.mergeDuplicates': (arg) => feature.merge(arg) };
};
