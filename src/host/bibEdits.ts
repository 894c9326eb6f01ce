import * as vscode from 'vscode';
import { parseBib, findEntry, type BibEntry } from '../core/bib/parse';
import { planFieldUpsert } from '../core/bib/edit';

export interface FieldWrite {
  key: string;
  field: string;
  value: string;
  /** The entry's text when the value was found: the edit is refused if the entry changed since. */
  entryText: string;
}

export interface EditOutcome {
  applied: string[];
  refused: { key: string; reason: string }[];
}

/**
 * Writes fields into a .bib through one WorkspaceEdit: undoable as one step, correct when the file
 * has unsaved changes (it edits the document, not the disk), and refused per entry when the entry
 * changed since it was read. A document that was clean before is saved after, so the file on disk
 * and the library agree; a dirty one is left for the user to save.
 */
export async function writeFields(uri: vscode.Uri, writes: FieldWrite[]): Promise<EditOutcome> {
  const doc = await vscode.workspace.openTextDocument(uri);
  const wasDirty = doc.isDirty;
  const text = doc.getText();
  const file = parseBib(text);
  const edit = new vscode.WorkspaceEdit();
  const outcome: EditOutcome = { applied: [], refused: [] };
  const seen = new Set<string>();
  for (const w of writes) {
    const entry: BibEntry | undefined = findEntry(file, w.key);
    if (!entry || entry.key !== w.key) {
      outcome.refused.push({ key: w.key, reason: vscode.l10n.t('the entry is no longer in the file') });
      continue;
    }
    if (text.slice(entry.span.start, entry.span.end) !== w.entryText) {
      outcome.refused.push({ key: w.key, reason: vscode.l10n.t('the entry changed since Scholar read it') });
      continue;
    }
    if (seen.has(w.key)) continue;
    seen.add(w.key);
    const te = planFieldUpsert(file, entry, w.field, w.value);
    const range = new vscode.Range(doc.positionAt(te.offset), doc.positionAt(te.offset + te.length));
    edit.replace(uri, range, te.text, { label: vscode.l10n.t('Scholar: {0} of {1}', w.field, w.key), needsConfirmation: false });
    outcome.applied.push(w.key);
  }
  if (outcome.applied.length === 0) return outcome;
  const ok = await vscode.workspace.applyEdit(edit);
  if (!ok) return { applied: [], refused: writes.map((w) => ({ key: w.key, reason: vscode.l10n.t('VS Code refused the edit') })) };
  if (!wasDirty) await doc.save();
  return outcome;
}
