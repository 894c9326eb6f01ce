import type { CommandFailure } from './commands/register';
import type { Session } from './session';
import type { ProjectModel } from './project';
import type { LibraryTree } from './libraryTree';
import type { Dashboard } from './dashboard';
import type { Controller } from './controller';
import type { LatexFeatures } from './latex';
import type { Upgrades } from './upgrade';
import type { PdfViewer } from './pdfViewer';
import type { PdfCommands, TreeDrop } from './pdfCommands';
import type { AddEntryFeature } from './commands/addEntry';
import type { UpdateEntriesFeature } from './commands/updateEntries';
import type { DocumentBibliographies } from './bibScope';
import type { InsertCitationFeature } from './commands/insertCitation';
import type { FirstRunFeature } from './commands/firstRun';

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
  /** The ids registered from the command table, every one through the edge that records failures. */
  commandIds: readonly string[];
  pdfs: PdfCommands;
  treeDrop: TreeDrop;
  addEntry: AddEntryFeature;
  updateEntries: UpdateEntriesFeature;
  bibliographies: DocumentBibliographies;
  insertCitation: InsertCitationFeature;
  firstRun: FirstRunFeature;
}
