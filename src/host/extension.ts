import * as vscode from 'vscode';
import { createLog } from './log';
import { pending, registerCommands, type CommandTable } from './commands';
import { LibraryTree } from './libraryTree';

/**
 * Composition root: builds the services once and wires them to VS Code. No behaviour lives here.
 * Activation catches its own failure so that a broken start shows a message instead of a silent dead view.
 */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = createLog();
  context.subscriptions.push(log);
  try {
    const tree = new LibraryTree(log);
    context.subscriptions.push(tree, vscode.window.registerTreeDataProvider('scholar.library', tree));

    const commands: CommandTable = {
      'scholar.resolveAllDois': pending('Resolve All DOIs'),
      'scholar.fetchPdfs': pending('Fetch PDFs for .bib File'),
      'scholar.showDashboard': pending('The dashboard'),
      'scholar.cancel': pending('Cancelling a job'),
      'scholar.retryFailed': pending('Retry failed'),
      'scholar.rebuildIndex': pending('Rebuilding the library index'),
      'scholar.openPdf': pending('Opening a PDF'),
      'scholar.revealInStorage': pending('Reveal in storage'),
      'scholar.searchLibrary': pending('Library search'),
    };
    context.subscriptions.push(...registerCommands(commands, log));
    void tree.refresh();
    log.info(`Scholar ${context.extension.packageJSON.version} activated`);
  } catch (err) {
    log.error('activation failed', err instanceof Error ? err : new Error(String(err)));
    void vscode.window.showErrorMessage(`Scholar failed to start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function deactivate(): void {
  // Later: drain the write queue before the host goes away.
}
