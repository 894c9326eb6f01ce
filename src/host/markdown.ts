import * as vscode from 'vscode';

/**
 * Appends untrusted text (titles, authors, messages from .bib files and APIs) to a MarkdownString so
 * that every character shows as itself. `appendText` escapes Markdown punctuation and `>` but not
 * `<`, so `<img src=x onerror=…>` would still reach the renderer as an HTML tag — dropped with
 * supportHtml off instead of shown, and one renderer change away from being interpreted.
 */
export function appendUntrusted(md: vscode.MarkdownString, text: string): vscode.MarkdownString {
  const escaped = new vscode.MarkdownString(undefined, md.supportThemeIcons).appendText(text).value.replace(/</g, '\\<');
  return md.appendMarkdown(escaped);
}
