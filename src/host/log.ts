import * as vscode from 'vscode';

/** The "Scholar" log channel. It never reveals itself: users open it from the Output view. */
export type Log = vscode.LogOutputChannel;

export function createLog(): Log {
  return vscode.window.createOutputChannel('Scholar', { log: true });
}
