/** One entry: open its PDF, DOI or folder, go to it, copy from it, and record decisions about it. */
import * as vscode from 'vscode';
import { systemViewerWorks } from '../pdfViewer';
import { existsSync } from 'node:fs';
import { pdfPath } from '../../core/storage/layout';
import { isValidDoi, normalizeDoi } from '../../core/doi';
import { entryNodeFor, pickEntry } from '../entryPick';
import { doiUrl, openSafeLink } from '../controller';
import type { CommandsOf } from '../container';

type Id =
  | 'scholar.openPdf'
  | 'scholar.revealInStorage'
  | 'scholar.revealEntry'
  | 'scholar.openDoi'
  | 'scholar.copyDoi'
  | 'scholar.copyKey'
  | 'scholar.review'
  | 'scholar.markNoDoi'
  | 'scholar.keepDoi';

export const entryCommands: CommandsOf<Id> = ({ controller, session, project, statuses, pdfViewer }) => ({
  'scholar.openPdf': async (arg) => {
    let key: string;
    let file: string | undefined;
    if (typeof arg === 'string' && !entryNodeFor(project, arg)) {
      // A library entry that no .bib of the workspace cites (the dashboard's search finds those too).
      const folder = session.folderFor();
      key = arg;
      file = folder && pdfPath((await session.config(folder)).storageRoot, arg);
    } else {
      const node = await pickEntry(project, arg, vscode.l10n.t('Scholar: open the PDF of which entry?'), (k) => statuses.of(k).pdfState === 'stored');
      key = node?.key ?? '';
      file = await controller.libraryPath(node, 'pdf');
    }
    if (!file || !existsSync(file)) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: this entry has no stored PDF yet.'));
      return undefined;
    }
    const uri = vscode.Uri.file(file);
    const viewer = vscode.workspace.getConfiguration('scholar').get<string>('pdf.viewer');
    if (viewer === 'system' && systemViewerWorks()) return vscode.env.openExternal(uri);
    pdfViewer.open(file, `${key}.pdf`);
    return uri;
  },
  'scholar.revealInStorage': async (arg) => {
    const node = await pickEntry(project, arg, vscode.l10n.t('Scholar: reveal which entry?'));
    const dir = await controller.libraryPath(node, 'dir');
    if (!dir || !existsSync(dir)) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: this entry has no folder in the library yet.'));
      return undefined;
    }
    await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(dir));
    return dir;
  },
  'scholar.revealEntry': async (arg) => {
    const n = entryNodeFor(project, arg);
    if (!n) return;
    const doc = await vscode.workspace.openTextDocument(n.bibUri);
    const found = project.bibDoc(n.bibUri)?.file.entries.find((e) => e.key === n.key) ?? n.entry;
    const pos = doc.positionAt(found.span.start);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: true });
  },
  'scholar.openDoi': async (arg) => {
    const n = entryNodeFor(project, arg);
    const doi = n && statuses.of(n.key).doi;
    if (!doi || !isValidDoi(normalizeDoi(doi))) return void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: this entry has no DOI.'));
    await openSafeLink(doiUrl(normalizeDoi(doi)));
  },
  'scholar.copyDoi': async (arg) => {
    const n = entryNodeFor(project, arg);
    const doi = n && statuses.of(n.key).doi;
    if (doi) await vscode.env.clipboard.writeText(normalizeDoi(doi));
  },
  'scholar.copyKey': async (arg) => {
    const n = entryNodeFor(project, arg);
    if (n) await vscode.env.clipboard.writeText(n.key);
  },
  'scholar.review': (arg) => controller.review(arg),
  'scholar.markNoDoi': (arg) => controller.markNoDoi(arg),
  'scholar.keepDoi': (arg) => controller.keepDoi(arg),
});
