import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { createLog } from './log';
import { registerCommands, type CommandFailure } from './commands';
import { LibraryTree, type TreeNode } from './libraryTree';
import { ProjectModel } from './project';
import { Session } from './session';
import { Dashboard } from './dashboard';
import { Controller } from './controller';
import { JobStatusBar } from './statusBar';
import { LatexFeatures } from './latex';
import { Upgrades } from './upgrade';
import { PdfViewer } from './pdfViewer';
import { interruptedJobs } from '../core/jobs/resume';
import { parseBib } from '../core/bib/parse';
import { PdfCommands, TreeDrop } from './pdfCommands';
import { AddEntryFeature } from './commands/addEntry';
import { UpdateEntriesFeature } from './commands/updateEntries';
import { FirstRunFeature } from './commands/firstRun';

/** What the extension exposes to its own tests (and to other extensions): read-only views of its state. */
export interface ScholarApi {
  session: Session;
  project: ProjectModel;
  tree: LibraryTree;
  dashboard: Dashboard;
  controller: Controller;
  latex: LatexFeatures;
  upgrades: Upgrades;
  pdfViewer: PdfViewer;
  /** Commands that threw since activation (the user saw a message; tests assert there are none). */
  commandFailures: readonly CommandFailure[];
  pdfs: PdfCommands;
  treeDrop: TreeDrop;
  addEntry: AddEntryFeature;
  updateEntries: UpdateEntriesFeature;
  firstRun: FirstRunFeature;
}

let active: { session: Session } | undefined;

/**
 * Composition root: builds the services once and wires them to VS Code. No behaviour lives here.
 * Activation catches its own failure so that a broken start shows a message instead of a dead view.
 */
export async function activate(context: vscode.ExtensionContext): Promise<ScholarApi | undefined> {
  const log = createLog();
  context.subscriptions.push(log);
  try {
    let session: Session | undefined;
    const project = new ProjectModel(log, () => session?.storageFolders() ?? []);
    session = new Session(context, log);
    const tree = new LibraryTree(project, session);
    const pdfs = new PdfCommands(session, project, tree, log, vscode.Uri.joinPath(context.extensionUri, 'dist', 'sql-wasm.wasm').fsPath);
    const treeDrop = new TreeDrop(pdfs);
    const view = vscode.window.createTreeView<TreeNode>('scholar.library', { treeDataProvider: tree, showCollapseAll: true, dragAndDropController: treeDrop });
    tree.attach(view);
    // The dashboard's search goes through the controller, which is built with the dashboard.
    const late: { controller?: Controller } = {};
    const dashboard = new Dashboard(
      context.extensionUri,
      { snapshot: () => session!.snapshot(), onDidChange: session.onDidChange },
      {
        command: (msg) => {
          const map: Record<string, string> = {
            resolve: 'scholar.resolveAllDois',
            fetch: 'scholar.fetchPdfs',
            cancel: 'scholar.cancel',
            pause: 'scholar.pause',
            resume: 'scholar.resume',
            retryFailed: 'scholar.retryFailed',
            retryReason: 'scholar.retryFailed',
            openLog: 'scholar.showLog',
          };
          void vscode.commands.executeCommand(map[msg.command], msg.command === 'retryReason' ? msg.reason : undefined);
        },
        search: (query) => late.controller!.searchHits(query, 50),
        open: (key, what) => void vscode.commands.executeCommand(what === 'pdf' ? 'scholar.openPdf' : 'scholar.revealEntry', key),
      },
      log,
    );
    const controller = new Controller(session, project, tree, dashboard, log);
    late.controller = controller;
    const pdfViewer = new PdfViewer(context.extensionUri);
    controller.pdfViewer = pdfViewer;
    context.subscriptions.push(pdfViewer);
    controller.setSecretWriter(async (id, value) => {
      if (value) await context.secrets.store(id, value);
      else await context.secrets.delete(id);
    });
    const upgrades = new Upgrades(project, session, log);
    tree.publishedKeys = () => upgrades.keys();
    const latex = new LatexFeatures(project, session, tree, upgrades);
    const status = new JobStatusBar(session);
    context.subscriptions.push(project, session, tree, view, dashboard, latex, status, upgrades);
    const libraryChanged = () => {
      tree.refreshNow();
      latex.updateSoon();
    };
    const addEntry = new AddEntryFeature(session, project, log, (uri, keys) => controller.run('fetch', [uri], { only: keys }), libraryChanged);
    const updateEntries = new UpdateEntriesFeature(session, project, log, libraryChanged);
    context.subscriptions.push(addEntry, updateEntries);

    const firstRun = new FirstRunFeature(context.globalState, log);
    controller.onJobStart = () => firstRun.jobStarting();
    const table = { ...controller.table(), ...pdfs.table(), ...firstRun.table() };
    table['scholar.showLog'] = () => log.show(true);
    table['scholar.addEntry'] = (arg) => addEntry.add(arg);
    table['scholar.updateEntries'] = (arg) => updateEntries.update(arg);
    table['scholar.checkDois'] = async () => {
      await project.ready();
      const withDoi = new Set(project.bibDocs().flatMap((d) => d.file.entries.filter((e) => e.fields.get('doi')?.value.trim()).map((e) => e.key)));
      if (!withDoi.size) return void vscode.window.showInformationMessage('Scholar: no entry has a DOI to check.');
      const summary = await controller.run('resolve', undefined, { checkExisting: true, writeBack: false, only: withDoi });
      if (!summary) return undefined;
      // The findings live in each entry's metadata.json (written by the job); the diagnostics read them there.
      let problems = 0;
      for (const r of summary.job.resolutions.values()) if (r.outcome === 'doi_unknown' || r.outcome === 'doi_mismatch') problems++;
      latex.updateSoon();
      void vscode.window.showInformationMessage(problems ? `Scholar: ${problems} DOIs need a look (see the Problems view).` : 'Scholar: every existing DOI checks out.');
      return problems;
    };
    table['scholar.resolveEntry'] = (arg) => {
      const n = arg as { key?: string; bibUri?: vscode.Uri } | undefined;
      return n?.key && n.bibUri ? controller.run('resolve', [n.bibUri], { only: new Set([n.key]) }) : undefined;
    };
    table['scholar.upgradePreprints'] = (arg) => upgrades.command(arg);
    table['scholar.citePublishedVersion'] = async (arg) => {
      const n = arg as { key?: unknown; bibUri?: unknown } | undefined;
      if (typeof n?.key !== 'string' || !(n.bibUri instanceof vscode.Uri)) throw new Error('Cite the published version needs an entry');
      return upgrades.apply(n.bibUri, [n.key]);
    };
    context.subscriptions.push(
      upgrades.onDidChange(() => {
        tree.refreshSoon();
        latex.updateSoon();
      }),
    );
    const commandFailures: CommandFailure[] = [];
    context.subscriptions.push(...registerCommands(table, log, commandFailures));

    context.subscriptions.push(
      project.onDidChange(() => {
        tree.refreshSoon();
        latex.updateSoon();
      }),
      session.onDidChange(() => {
        tree.refreshSoon();
        // Diagnostics depend on notices in the library, not on a job's progress: recompute them
        // (every .bib checked again) when no job runs, i.e. also once when a job ends.
        if (!session!.currentJob) latex.updateSoon();
        void vscode.commands.executeCommand('setContext', 'scholar.jobRunning', !!session!.currentJob);
      }),
      vscode.workspace.onDidSaveTextDocument((doc) => void autoProcess(doc)),
    );

    // Watch mode: a saved .bib with new entries gets just those resolved and fetched.
    const known = new Map<string, Set<string>>();
    const autoProcess = async (doc: vscode.TextDocument) => {
      if (!/\.bib$/i.test(doc.uri.fsPath) || !vscode.workspace.isTrusted) return;
      const folder = session!.folderFor(doc.uri);
      if (!folder) return;
      const cfg = vscode.workspace.getConfiguration('scholar', doc.uri);
      const before = known.get(doc.uri.toString());
      await project.ready();
      // The saved text itself: the project model re-reads it a moment later.
      const now = new Set(parseBib(doc.getText()).entries.map((e) => e.key));
      known.set(doc.uri.toString(), now);
      if (!cfg.get<boolean>('autoProcessOnSave') || !before || session!.currentJob) return;
      const added = new Set([...now].filter((k) => !before.has(k)));
      if (!added.size) return;
      log.info(`auto-process: ${added.size} new entries in ${vscode.workspace.asRelativePath(doc.uri)}`);
      await project.reread(doc.uri);
      await controller.run('resolve', [doc.uri], { only: added });
      await controller.run('fetch', [doc.uri], { only: added, automatic: true });
    };

    void project.ready().then(async () => {
      for (const d of project.bibDocs()) known.set(d.uri.toString(), new Set(d.file.entries.map((e) => e.key)));
      // Show the library's state if one exists already; never create storage just by opening a folder.
      const folder = session!.folderFor();
      if (folder && vscode.workspace.isTrusted) {
        const cfg = await session!.config(folder).catch(() => undefined);
        if (cfg && existsSync(cfg.storageRoot)) {
          await session!.indexFor(folder);
          void offerResume(cfg.storageRoot, folder);
        }
      }
      tree.refreshNow();
      latex.update();
    });
    // A job interrupted by a crash or a closed window can continue where it stopped.
    const offerResume = async (storageRoot: string, folder: vscode.WorkspaceFolder) => {
      const [job] = await interruptedJobs(storageRoot);
      if (!job) return;
      const left = job.total - job.finished.size;
      const verb = job.kind === 'fetch' ? 'fetching PDFs' : 'resolving DOIs';
      const answer = await vscode.window.showInformationMessage(`Scholar was interrupted while ${verb} (${left} of ${job.total} entries left).`, 'Resume', 'Discard');
      const lib = await session!.library(folder);
      await lib.writer.writeJobState({ ...(job.raw as { id: string; status: string }), status: answer === 'Resume' ? 'resumed' : 'discarded', updatedAt: new Date().toISOString() });
      if (answer !== 'Resume') return;
      const files = job.bibFiles.map((f) => vscode.Uri.file(f));
      const keys = new Set(project.bibDocs().filter((d) => job.bibFiles.includes(d.uri.fsPath)).flatMap((d) => d.file.entries.map((e) => e.key)).filter((k) => !job.finished.has(k)));
      await controller.run(job.kind, files, { only: keys });
    };
    active = { session };
    log.info(`Scholar ${context.extension.packageJSON.version} activated`);
    return { session, project, tree, dashboard, controller, latex, upgrades, pdfViewer, pdfs, treeDrop, commandFailures, addEntry, updateEntries, firstRun };
  } catch (err) {
    log.error('activation failed', err instanceof Error ? err : new Error(String(err)));
    void vscode.window.showErrorMessage(`Scholar failed to start: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** Drains the write queue before the extension host goes away. */
export async function deactivate(): Promise<void> {
  await active?.session.dispose();
  active = undefined;
}
