/**
 * COMMANDS: every command of Scholar → its handler, one feature file each. The type makes the
 * table complete (a declared id without a handler does not compile) and a feature file can only
 * name declared ids; test/unit/host-commands.test.ts checks the ids against package.json.
 * To add a command: declare it in package.json, add its id to src/shared/commands.ts, write
 * `src/host/commands/<feature>.ts` exporting a `CommandsOf<'scholar.x'>`, and spread it here.
 */
import type { Services } from '../container';
import type { CommandTable } from './types';
import { jobCommands } from './jobs';
import { checkDoisCommands } from './checkDois';
import { entryCommands } from './entries';
import { libraryCommands } from './library';
import { pdfCommands } from './pdfs';
import { addEntryCommands } from './addEntry';
import { updateEntriesCommands } from './updateEntries';
import { upgradeCommands } from './upgrade';
import { mergeDuplicatesCommands } from './mergeDuplicates';
import { insertCitationCommands } from './insertCitation';
import { firstRunCommands } from './firstRun';
import { fulltextCommands } from './fulltext';

// What src/host/commands.ts exported before it became this folder, for code written against it.
export type { CommandHandler, CommandTable, Handlers } from './types';
export { registerCommands, pending, type CommandFailure } from './register';

export function COMMANDS(s: Services): CommandTable {
  return {
    ...jobCommands(s),
    ...checkDoisCommands(s),
    ...entryCommands(s),
    ...libraryCommands(s),
    ...pdfCommands(s),
    ...addEntryCommands(s),
    ...updateEntriesCommands(s),
    ...upgradeCommands(s),
    ...mergeDuplicatesCommands(s),
    ...insertCitationCommands(s),
    ...firstRunCommands(s),
    ...fulltextCommands(s),
  };
}
