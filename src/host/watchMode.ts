/**
 * Watch mode (`scholar.autoProcessOnSave`): a saved .bib with new entries gets just those resolved
 * and fetched. The keys each .bib had are remembered from the first look, so only additions count.
 */
import * as vscode from 'vscode';
import { parseBib } from '../core/bib/parse';
import type { Services } from './container';

export class WatchMode implements vscode.Disposable {
  private readonly known = new Map<string, Set<string>>();
  private readonly sub: vscode.Disposable;

  constructor(private readonly s: Pick<Services, 'session' | 'project' | 'controller' | 'log'>) {
    this.sub = vscode.workspace.onDidSaveTextDocument((doc) => void this.saved(doc));
  }

  /** The keys of every .bib as the project first read them (called once the project is ready). */
  seed(): void {
    for (const d of this.s.project.bibDocs()) this.known.set(d.uri.toString(), new Set(d.file.entries.map((e) => e.key)));
  }

  private async saved(doc: vscode.TextDocument): Promise<void> {
    const { session, project, controller, log } = this.s;
    if (!/\.bib$/i.test(doc.uri.fsPath) || !vscode.workspace.isTrusted) return;
    const folder = session.folderFor(doc.uri);
    if (!folder) return;
    const cfg = vscode.workspace.getConfiguration('scholar', doc.uri);
    const before = this.known.get(doc.uri.toString());
    await project.ready();
    // The saved text itself: the project model re-reads it a moment later.
    const now = new Set(parseBib(doc.getText()).entries.map((e) => e.key));
    this.known.set(doc.uri.toString(), now);
    if (!cfg.get<boolean>('autoProcessOnSave') || !before || session.currentJob) return;
    const added = new Set([...now].filter((k) => !before.has(k)));
    if (!added.size) return;
    log.info(`auto-process: ${added.size} new entries in ${vscode.workspace.asRelativePath(doc.uri)}`);
    await project.reread(doc.uri);
    await controller.run('resolve', [doc.uri], { only: added, automatic: true });
    await controller.run('fetch', [doc.uri], { only: added, automatic: true });
  }

  dispose(): void {
    this.sub.dispose();
  }
}
