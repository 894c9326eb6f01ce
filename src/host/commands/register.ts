import * as vscode from 'vscode';
import type { Log } from '../log';
import type { CommandHandler, CommandTable } from './types';

/** A capability that has not landed answers with a plain message, never an exception. */
export function pending(what: string): CommandHandler {
  return () => {
    void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: {0} is not available yet in this version.', what));
    return { pending: true };
  };
}

/** A command that threw: caught at the edge, and kept so that tests (and the log) can see it. */
export interface CommandFailure {
  id: string;
  message: string;
}

/**
 * Registers every command of the table. Failures are caught at the edge: the user sees a message,
 * the log gets the stack, the failure is appended to `failures`, and the command's promise resolves
 * instead of rejecting into the void.
 */
export function registerCommands(table: Partial<CommandTable>, log: Log, failures: CommandFailure[] = []): vscode.Disposable[] {
  return (Object.entries(table) as [string, CommandHandler][]).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log.error(`${id} failed`, err instanceof Error ? err : new Error(message));
        failures.push({ id, message });
        if (failures.length > 100) failures.splice(0, failures.length - 100);
        void vscode.window.showErrorMessage(vscode.l10n.t('Scholar: {0}', message));
        return undefined;
      }
    }),
  );
}
