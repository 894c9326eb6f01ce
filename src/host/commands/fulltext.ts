/** Scholar: Extract Full Text of Stored PDFs — the text of every stored PDF that has none yet, for full-text search. */
import * as vscode from 'vscode';
import { isAbortError } from '../../core/errors';
import { extractMissingFulltext, type FulltextReport } from '../../core/fulltext/extract';
import type { CommandsOf } from '../container';

type Id = 'scholar.extractFulltext';

export const fulltextCommands: CommandsOf<Id> = ({ log, controller, session, libraryChanged }) => ({
  // Every folder's library that exists (a command that only reads stored PDFs creates no storage).
  'scholar.extractFulltext': async () => {
    if (!controller.requireTrust()) return undefined;
    const libs = await session.libraries.existingLibraries();
    if (!libs.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: there are no stored PDFs yet.'));
      return undefined;
    }
    const reports: { folder: string; report: FulltextReport }[] = [];
    let cancelled = false;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Scholar: extracting the full text of stored PDFs'), cancellable: true },
      async (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        let shown = 0;
        try {
          for (const { folder, library } of libs) {
            const report = await extractMissingFulltext(library, {
              signal: ac.signal,
              onProgress: (done, total, key) => {
                // Increments in percent of this folder's PDFs; VS Code sums them.
                const pct = (done / total) * 100;
                progress.report({ message: vscode.l10n.t('{0}/{1} ({2})', done, total, key), increment: (pct - shown) / libs.length });
                shown = pct;
              },
            });
            shown = 0;
            reports.push({ folder: folder.name, report });
            await library.writer.flush();
            void library.writer.saveIndex().catch(() => undefined);
          }
        } catch (err) {
          if (!isAbortError(err) && !ac.signal.aborted) throw err;
          cancelled = true;
        }
      },
    );
    libraryChanged();
    const sum = (f: (r: FulltextReport) => number) => reports.reduce((n, r) => n + f(r.report), 0);
    const stored = sum((r) => r.stored);
    const empty = sum((r) => r.empty);
    const failed = reports.flatMap((r) => r.report.failed.map((f) => ({ ...f, where: r.folder })));
    for (const f of failed) log.warn(`full text (${f.where}): ${f.key}: ${f.message}`);
    log.info(`full text: ${stored} extracted, ${empty} without text, ${failed.length} unreadable${cancelled ? ' (cancelled)' : ''}`);
    const parts = [vscode.l10n.t('{0} extracted', stored)];
    if (empty) parts.push(vscode.l10n.t('{0} without text (scans)', empty));
    if (failed.length) parts.push(vscode.l10n.t('{0} unreadable (see the log)', failed.length));
    void vscode.window.showInformationMessage(
      cancelled ? vscode.l10n.t('Scholar: full-text extraction cancelled: {0}.', parts.join(', ')) : vscode.l10n.t('Scholar: full text of stored PDFs: {0}.', parts.join(', ')),
    );
    return { cancelled, stored, empty, failed: failed.length, reports };
  },
});
