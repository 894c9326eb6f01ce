/**
 * The host's services, built once in dependency order: each constructor gets what it needs, so
 * nothing is set after the fact. Command handlers (commands/) receive this container; views read
 * the models (session, project, upgrades) and own none of them.
 */
import * as vscode from 'vscode';
import type { Log } from './log';
import { setTranslator } from './model/l10n';
import { Session } from './session';
import { ProjectModel } from './project';
import { Upgrades } from './upgrade';
import { EntryStatuses } from './entryStatuses';
import { LibraryTree, type TreeNode } from './libraryTree';
import { PdfCommands, TreeDrop } from './pdfCommands';
import { Controller } from './controller';
import { Dashboard } from './dashboard';
import { PdfViewer } from './pdfViewer';
import { LatexFeatures } from './latex';
import { JobStatusBar } from './statusBar';
import { AddEntryFeature } from './commands/addEntry';
import { UpdateEntriesFeature } from './commands/updateEntries';
import { DocumentBibliographies } from './bibScope';
import { CitationCompletion } from './completion';
import { InsertCitationFeature } from './commands/insertCitation';
import { FirstRunFeature } from './commands/firstRun';
import { WEBVIEW_COMMAND_IDS } from '../shared/protocol';
import type { CommandId } from '../shared/commands';
import type { Handlers } from './commands/types';

export interface Services {
  context: vscode.ExtensionContext;
  log: Log;
  session: Session;
  project: ProjectModel;
  upgrades: Upgrades;
  statuses: EntryStatuses;
  tree: LibraryTree;
  pdfs: PdfCommands;
  treeDrop: TreeDrop;
  controller: Controller;
  dashboard: Dashboard;
  pdfViewer: PdfViewer;
  latex: LatexFeatures;
  addEntry: AddEntryFeature;
  updateEntries: UpdateEntriesFeature;
  /** Each .tex file's bibliography (the root's \bibliography / \addbibresource files). */
  bibliographies: DocumentBibliographies;
  insertCitation: InsertCitationFeature;
  firstRun: FirstRunFeature;
  /** Redraws the views that show the library (after a change outside a job). */
  libraryChanged(): void;
}

/** What each feature's command file exports: its handlers, built from the services. */
export type CommandsOf<K extends CommandId> = (s: Services) => Handlers<K>;

export function createServices(context: vscode.ExtensionContext, log: Log): Services {
  // The pure model modules translate through this (they cannot import vscode).
  setTranslator((message, ...args) => vscode.l10n.t(message, ...args)); // l10n-ignore: the messages are model/*'s literals
  const own = <T extends vscode.Disposable>(d: T): T => (context.subscriptions.push(d), d);
  const session = own(new Session(context, log));
  const project = own(new ProjectModel(log, () => session.storageFolders()));
  const upgrades = own(new Upgrades(project, session, log));
  const statuses = new EntryStatuses(session, project);
  const tree = own(new LibraryTree(project, statuses, () => upgrades.keys()));
  const pdfs = new PdfCommands(session, project, tree, statuses, log, vscode.Uri.joinPath(context.extensionUri, 'dist', 'sql-wasm.wasm').fsPath);
  const treeDrop = new TreeDrop(pdfs);
  tree.attach(own(vscode.window.createTreeView<TreeNode>('scholar.library', { treeDataProvider: tree, showCollapseAll: true, dragAndDropController: treeDrop })));
  const firstRun = new FirstRunFeature(context.globalState, log);
  const controller = new Controller(session, project, tree, statuses, log, () => firstRun.jobStarting());
  const dashboard = own(
    new Dashboard(
      context.extensionUri,
      { snapshot: () => session.snapshot(), onDidChange: session.onDidChange },
      {
        command: (msg) => void vscode.commands.executeCommand(WEBVIEW_COMMAND_IDS[msg.command], msg.command === 'retryReason' ? msg.reason : undefined),
        search: (query) => controller.searchHits(query, 50),
        open: (key, what) => void vscode.commands.executeCommand(what === 'pdf' ? 'scholar.openPdf' : 'scholar.revealEntry', key),
      },
      log,
    ),
  );
  const pdfViewer = own(new PdfViewer(context.extensionUri));
  const bibliographies = own(new DocumentBibliographies(project, log));
  const latex = own(new LatexFeatures(project, session, statuses, upgrades, bibliographies));
  const completion = own(new CitationCompletion(bibliographies, session));
  const insertCitation = new InsertCitationFeature(completion, bibliographies);
  own(new JobStatusBar(session));
  const libraryChanged = () => {
    tree.refreshNow();
    latex.updateSoon();
  };
  const addEntry = own(new AddEntryFeature(session, project, log, (uri, keys) => controller.run('fetch', [uri], { only: keys }), libraryChanged));
  const updateEntries = own(new UpdateEntriesFeature(session, project, log, libraryChanged));

  // Cancel, Pause and Resume are enabled by these keys (package.json `enablement`); set only on a change.
  let shown = '';
  const jobContext = (running: boolean, paused: boolean) => {
    if (shown === `${running}${paused}`) return;
    shown = `${running}${paused}`;
    void vscode.commands.executeCommand('setContext', 'scholar.jobRunning', running);
    void vscode.commands.executeCommand('setContext', 'scholar.jobPaused', paused);
  };
  const modelChanged = () => {
    tree.refreshSoon();
    latex.updateSoon();
  };
  context.subscriptions.push(
    bibliographies.onDidChange(() => latex.updateSoon()),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('scholar.diagnostics.enabled') && latex.updateSoon()),
    upgrades.onDidChange(modelChanged),
    project.onDidChange(modelChanged),
    session.onDidChange(() => {
      tree.refreshSoon();
      // Diagnostics depend on notices in the library, not on a job's progress: recompute them
      // (every .bib checked again) when no job runs, i.e. also once when a job ends.
      if (!session.currentJob) latex.updateSoon();
      jobContext(!!session.currentJob, session.currentJob?.snapshot().state === 'paused');
    }),
  );
  return { context, log, session, project, upgrades, statuses, tree, pdfs, treeDrop, controller, dashboard, pdfViewer, latex, addEntry, updateEntries, bibliographies, insertCitation, firstRun, libraryChanged };
}
