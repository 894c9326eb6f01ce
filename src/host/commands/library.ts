/** The library as a whole: the dashboard, the log, the index, search and filter, API keys. */
import * as vscode from 'vscode';
import { fieldText } from '../../core/bib/latex';
import type { CommandsOf } from '../container';
import { LIBRARY_VIEW_ID } from '../controller';

type Id = 'scholar.showDashboard' | 'scholar.showLog' | 'scholar.rebuildIndex' | 'scholar.searchLibrary' | 'scholar.searchInDashboard' | 'scholar.clearFilter' | 'scholar.setApiKey';

const SECRET_IDS = { OpenAlex: 'scholar.apiKey.openalex', 'Semantic Scholar': 'scholar.apiKey.semanticScholar' } as const;

export const libraryCommands: CommandsOf<Id> = ({ context, log, controller, session, project, tree, dashboard }) => ({
  'scholar.showDashboard': () => dashboard.show(),
  'scholar.showLog': () => log.show(true),
  // Every folder's library (one storage each); the first folder's when none exists yet.
  'scholar.rebuildIndex': async () => {
    if (!controller.requireTrust()) return undefined;
    let libs = await session.libraries.existingLibraries();
    if (!libs.length) {
      const folder = session.folderFor();
      if (!folder) return undefined;
      libs = [{ folder, library: await session.library(folder) }];
    }
    const reports = await vscode.window.withProgress({ location: { viewId: LIBRARY_VIEW_ID }, title: vscode.l10n.t('Scholar: rebuilding the library index') }, async () => {
      const out = [];
      for (const { folder, library } of libs) out.push({ folder, report: await library.writer.indexTask((ix) => ix.rebuildFromFolders()) });
      return out;
    });
    for (const { library } of libs) void library.writer.saveIndex().catch(() => undefined);
    session.invalidateMetadata();
    tree.refreshNow();
    const count = reports.reduce((n, r) => n + r.report.count, 0);
    const errors = reports.flatMap((r) => r.report.errors.map((e) => ({ ...e, where: r.folder.name })));
    const where = reports.length > 1 ? vscode.l10n.t(' in {0} workspace folders', reports.length) : '';
    void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: index rebuilt from {0} {1}{2}{3}.', count, count === 1 ? vscode.l10n.t('entry folder') : vscode.l10n.t('entry folders'), where, errors.length ? vscode.l10n.t('; {0} unreadable (see the log)', errors.length) : ''));
    for (const e of errors) log.warn(`index (${e.where}): ${e.folder}: ${e.message}`);
    // One folder: the core's report as before; several: one per folder.
    return reports.length === 1 ? reports[0]!.report : reports.map((r) => ({ folder: r.folder.name, ...r.report }));
  },
  'scholar.searchLibrary': async (arg) => {
    const query = typeof arg === 'string' ? arg : await vscode.window.showInputBox({ title: vscode.l10n.t('Scholar: search the library'), prompt: vscode.l10n.t('Words (prefixes), "phrases", and filters author: year: tag: has:pdf status: venue: (- negates)'), placeHolder: vscode.l10n.t('e.g. entropy year:2015..2022 has:pdf') });
    if (query === undefined) return undefined;
    if (!query.trim()) {
      tree.setFilter(undefined);
      return [];
    }
    if (!(await session.libraries.existingLibraries()).length && !(await session.indexFor(session.folderFor()))) {
      // No library yet (or Restricted Mode): filter the .bib entries by their text.
      const q = query.toLowerCase();
      const keys = new Set(project.bibDocs().flatMap((d) => d.file.entries).filter((e) => e.key.toLowerCase().includes(q) || (fieldText(e, 'title') ?? '').toLowerCase().includes(q)).map((e) => e.key));
      tree.setFilter(keys, query);
      return [...keys];
    }
    const { hits, error } = await controller.searchHits(query, 500);
    if (error) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Scholar: {0}', error));
      return undefined;
    }
    tree.setFilter(new Set(hits.map((h) => h.key)), query, new Map(hits.flatMap((h) => (h.snippet ? [[h.key, h.snippet] as const] : []))));
    return hits.map((h) => h.key);
  },
  'scholar.searchInDashboard': (arg) => dashboard.showSearch(typeof arg === 'string' ? arg : ''),
  'scholar.clearFilter': () => tree.setFilter(undefined),
  'scholar.setApiKey': async () => {
    const which = (await vscode.window.showQuickPick(Object.keys(SECRET_IDS), { title: vscode.l10n.t('Scholar: set an API key (kept in VS Code’s secret storage)') })) as keyof typeof SECRET_IDS | undefined;
    if (!which) return;
    const key = await vscode.window.showInputBox({ title: vscode.l10n.t('{0} API key', which), password: true, ignoreFocusOut: true });
    if (key === undefined) return;
    // The session listens to secret changes and hands the new key to the open libraries.
    if (key) await context.secrets.store(SECRET_IDS[which], key);
    else await context.secrets.delete(SECRET_IDS[which]);
  },
});
