/**
 * Every command Scholar contributes, by id. The host's table (src/host/commands/index.ts) must have
 * exactly these keys, package.json `contributes.commands` must declare exactly these ids (a unit test
 * checks both), and the dashboard names its buttons' commands with them. A plain list, free of
 * `vscode`, so that the test and the webview protocol can read it.
 */
export const COMMAND_IDS = [
  // jobs
  'scholar.resolveAllDois',
  'scholar.resolveEntry',
  'scholar.checkDois',
  'scholar.fetchPdfs',
  'scholar.cancel',
  'scholar.pause',
  'scholar.resume',
  'scholar.retryFailed',
  'scholar.retryEntry',
  // entries and decisions
  'scholar.openPdf',
  'scholar.revealInStorage',
  'scholar.revealEntry',
  'scholar.openDoi',
  'scholar.copyDoi',
  'scholar.copyKey',
  'scholar.review',
  'scholar.markNoDoi',
  'scholar.keepDoi',
  // library, search and settings
  'scholar.showDashboard',
  'scholar.showLog',
  'scholar.rebuildIndex',
  'scholar.searchLibrary',
  'scholar.searchInDashboard',
  'scholar.clearFilter',
  'scholar.setApiKey',
  // PDFs beyond open access
  'scholar.attachPdf',
  'scholar.openViaLibrary',
  'scholar.attachFromDownloads',
  'scholar.importZotero',
  'scholar.importFolder',
  'scholar.extractFulltext',
  // features
  'scholar.addEntry',
  'scholar.updateEntries',
  'scholar.upgradePreprints',
  'scholar.citePublishedVersion',
  'scholar.mergeDuplicates',
  'scholar.insertCitation',
  // first run
  'scholar.setContactEmail',
  'scholar.openLibrary',
  'scholar.gettingStarted',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];
