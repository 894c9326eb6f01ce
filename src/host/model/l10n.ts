/**
 * The translator of the pure host modules (model/*: no `vscode`, so that they run under `node --test`).
 * Activation hands it `vscode.l10n.t` (container.ts); until then, and in unit tests, it fills the
 * `{0}`… placeholders of the English message, as `vscode.l10n.t` does without a bundle.
 */
export type Translate = (message: string, ...args: Array<string | number | boolean>) => string;

const english: Translate = (message, ...args) => message.replace(/\{(\d+)\}/g, (m, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : m));

let translate: Translate = english;

export function setTranslator(fn: Translate): void {
  translate = fn;
}

/** A user-facing message of a model module; listed in l10n/bundle.l10n.json like `vscode.l10n.t`'s. */
export function t(message: string, ...args: Array<string | number | boolean>): string {
  return translate(message, ...args);
}
