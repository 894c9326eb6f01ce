/** Resolve DOIs, Fetch PDFs and the controls of a running job. */
import * as vscode from 'vscode';
import { entryNodeFor } from '../entryPick';
import type { CommandsOf } from '../container';

type Id = 'scholar.resolveAllDois' | 'scholar.resolveEntry' | 'scholar.fetchPdfs' | 'scholar.cancel' | 'scholar.pause' | 'scholar.resume' | 'scholar.retryFailed' | 'scholar.retryEntry';

export const jobCommands: CommandsOf<Id> = ({ controller, session, project }) => ({
  // No argument: the palette, a key binding or the dashboard's button (see progressPlace in model/jobReport.ts).
  'scholar.resolveAllDois': (arg) =>
    controller.run('resolve', arg instanceof vscode.Uri ? [arg] : undefined, { checkExisting: vscode.workspace.getConfiguration('scholar').get<boolean>('resolve.checkExistingDois', true), fromPalette: arg === undefined }),
  'scholar.resolveEntry': (arg) => {
    const n = arg as { key?: string; bibUri?: vscode.Uri } | undefined;
    return n?.key && n.bibUri ? controller.run('resolve', [n.bibUri], { only: new Set([n.key]) }) : undefined;
  },
  'scholar.fetchPdfs': async (arg, more) => {
    const uris = await controller.targetBibs(Array.isArray(more) && more.length ? more : arg, false);
    if (uris === null) return undefined;
    return controller.run('fetch', uris, { fromPalette: arg === undefined && !(Array.isArray(more) && more.length) });
  },
  // Enabled only while a job runs (package.json `enablement`): no "nothing to cancel" message.
  'scholar.cancel': () => session.currentJob?.cancel(),
  'scholar.pause': () => {
    session.currentJob?.pause();
    session.notifyChanged();
  },
  'scholar.resume': () => {
    session.currentJob?.resume();
    session.notifyChanged();
  },
  'scholar.retryFailed': async (arg) => {
    const last = session.previousJob;
    if (!last || session.currentJob) {
      void vscode.window.showInformationMessage(session.currentJob ? vscode.l10n.t('Scholar: wait for the running job to finish.') : vscode.l10n.t('Scholar: nothing has failed in this session.'));
      return undefined;
    }
    const reason = typeof arg === 'string' && /^E_[A-Z0-9_]+$/.test(arg) ? arg : undefined;
    const failed = reason ? last.entriesFailedWith(reason) : last.failedEntries(arg === 'all');
    if (!failed.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: no failure that a retry can fix.'));
      return undefined;
    }
    return controller.run(last.kind, undefined, { only: new Set(failed.map((f) => f.key)) });
  },
  'scholar.retryEntry': (arg) => {
    const n = entryNodeFor(project, arg);
    return n ? controller.run('fetch', [n.bibUri], { only: new Set([n.key]) }) : undefined;
  },
});
