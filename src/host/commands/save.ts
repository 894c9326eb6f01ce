import * as vscode from 'vscode';

/**
 * Saves a document that Scholar edited while it was clean. In code-server under load a save right
 * after an edit was seen to return false with the document still dirty (and once "Unable to
 * resolve nonexistent file" for a file that existed); a second attempt a moment later succeeds.
 */
export async function saveSoon(doc: vscode.TextDocument, attempts = 4): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (await doc.save()) return true;
    if (!doc.isDirty) return true;
    await new Promise((r) => setTimeout(r, 250 * (i + 1)));
  }
  return !doc.isDirty;
}
