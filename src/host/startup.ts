/**
 * What happens once the project has been read: show the library's state if one exists already
 * (never create storage just by opening a folder), and offer to resume a job that a crash or a
 * closed window interrupted.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { interruptedJobs } from '../core/jobs/resume';
import type { Services } from './container';

export async function openExistingLibrary(s: Services): Promise<void> {
  const { session, project, tree, latex } = s;
  await project.ready();
  const folder = session.folderFor();
  if (folder && vscode.workspace.isTrusted) {
    const cfg = await session.config(folder).catch(() => undefined);
    if (cfg && existsSync(cfg.storageRoot)) {
      await session.indexFor(folder);
      void offerResume(s, cfg.storageRoot, folder);
    }
  }
  tree.refreshNow();
  latex.update();
}

/** A job interrupted by a crash or a closed window can continue where it stopped. */
export async function offerResume({ session, project, controller }: Services, storageRoot: string, folder: vscode.WorkspaceFolder): Promise<void> {
  const [job] = await interruptedJobs(storageRoot);
  if (!job) return;
  const left = job.total - job.finished.size;
  const verb = job.kind === 'fetch' ? vscode.l10n.t('fetching PDFs') : vscode.l10n.t('resolving DOIs');
  const answer = await vscode.window.showInformationMessage(vscode.l10n.t('Scholar was interrupted while {0} ({1} of {2} entries left).', verb, left, job.total), vscode.l10n.t('Resume'), vscode.l10n.t('Discard'));
  const lib = await session.library(folder);
  await lib.writer.writeJobState({ ...(job.raw as { id: string; status: string }), status: answer === vscode.l10n.t('Resume') ? 'resumed' : 'discarded', updatedAt: new Date().toISOString() });
  if (answer !== vscode.l10n.t('Resume')) return;
  const files = job.bibFiles.map((f) => vscode.Uri.file(f));
  const keys = new Set(project.bibDocs().filter((d) => job.bibFiles.includes(d.uri.fsPath)).flatMap((d) => d.file.entries.map((e) => e.key)).filter((k) => !job.finished.has(k)));
  await controller.run(job.kind, files, { only: keys });
}
