import * as vscode from 'vscode';
import { createLog } from './log';
import { createServices, type Services } from './container';
import { COMMANDS } from './commands';
import { registerCommands, type CommandFailure } from './commands/register';
import { WatchMode } from './watchMode';
import { openExistingLibrary } from './startup';
import type { ScholarApi } from './api';

export type { ScholarApi } from './api';

let active: Services | undefined;

/**
 * Composition root: builds the services (container.ts), registers the command table (commands/)
 * and starts the background parts. No behaviour lives here. Activation catches its own failure so
 * that a broken start shows a message instead of a dead view.
 */
export async function activate(context: vscode.ExtensionContext): Promise<ScholarApi | undefined> {
  const log = createLog();
  context.subscriptions.push(log);
  try {
    const s = createServices(context, log);
    const table = COMMANDS(s);
    const commandFailures: CommandFailure[] = [];
    context.subscriptions.push(...registerCommands(table, log, commandFailures));
    const watch = new WatchMode(s);
    context.subscriptions.push(watch);
    void s.project.ready().then(() => {
      watch.seed();
      return openExistingLibrary(s);
    });
    active = s;
    log.info(`Scholar ${context.extension.packageJSON.version} activated`);
    const { session, project, tree, dashboard, controller, latex, upgrades, pdfViewer, pdfs, treeDrop, addEntry, updateEntries, bibliographies, insertCitation, firstRun } = s;
    return { session, project, tree, dashboard, controller, latex, upgrades, pdfViewer, pdfs, treeDrop, addEntry, updateEntries, bibliographies, insertCitation, firstRun, commandFailures, commandIds: Object.keys(table) };
  } catch (err) {
    log.error('activation failed', err instanceof Error ? err : new Error(String(err)));
    void vscode.window.showErrorMessage(vscode.l10n.t('Scholar failed to start: {0}', err instanceof Error ? err.message : String(err)));
    return undefined;
  }
}

/** Drains the write queue before the extension host goes away. */
export async function deactivate(): Promise<void> {
  await active?.session.dispose();
  active = undefined;
}
