/**
 * The CLI's output: the streams a run writes to, and the lines every command renders the same way.
 * Error codes are rendered from the registry (core/errors.ts): a label a person reads, the code in
 * brackets for scripts and bug reports.
 */
import { errorLabel, errorMessage, errorCode, ScholarError } from '../core/errors';

export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

/** The --json answer of a command: one pretty-printed document on stdout. */
export function writeJson(io: CliIO, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** One failed entry of a job: its key, what went wrong in words, the code, and the particulars. */
export function failureLine(e: { key: string; reason: string | null; message: string | null; permanent?: boolean | null }): string {
  const code = e.reason ?? 'E_INTERNAL';
  const transient = e.permanent === false ? ' (transient)' : '';
  return `  failed: ${e.key}: ${errorLabel(code)} [${code}]${transient}${e.message ? `: ${e.message}` : ''}\n`;
}

/** The last line of a run that stopped on an error; the code only for Scholar's own errors. */
export function fatalLine(err: unknown): string {
  return `scholar: ${errorMessage(err)}${err instanceof ScholarError ? ` (${errorCode(err)})` : ''}\n`;
}
