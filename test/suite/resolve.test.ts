// "Scholar: Resolve All DOIs" in a real VS Code against the replay server: the right DOIs land in
// the .bib as minimal edits through one undoable WorkspaceEdit, metadata.json is written for each
// resolved entry, opted-out and unknown entries stay as they were, and unsaved changes survive.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { screenshot, test, waitFor } from './util';
import type { JobSummary } from '../../src/host/controller';
import { bibEntry, closeAllEditors, keyDir, readMetadata, record, scholarApi, startReplay, writeWorkspaceFile } from './scholar';

// Real journal articles of test/fixtures/corpus, written without their DOI.
const TO_RESOLVE = {
  'res-chirvasitu2019': '10.1007/s10468-019-09889-1',
  'res-krishnamurthy2019': '10.1007/s00382-019-04712-5',
  'res-komarov2016': '10.1007/s10827-016-0622-8',
  'res-boettiger2013': '10.1007/s12080-013-0192-6',
} as const;
const HAS_DOI = { key: 'res-miranda2020', doi: '10.1002/aqc.3262' };
const OPTED_OUT = { key: 'res-kokoszka2017', doi: '10.1007/s10687-017-0302-8' };
const UNKNOWN_KEY = 'res-nowhere2020';
const UNKNOWN = `@article{${UNKNOWN_KEY},
  author  = {Nobody, Alice and Nemo, Bob},
  title   = {A quantum theory of unicorn migration across imaginary rivers},
  journal = {Journal of Improbable Zoology},
  year    = {2020},
}
`;

function entryText(text: string, key: string): string {
  const start = text.indexOf(`@article{${key},`);
  assert.ok(start >= 0, `${key} is not in the text`);
  const end = text.indexOf('\n}\n', start);
  return text.slice(start, end + 3);
}

const doiLine = (doi: string) => new RegExp(`^\\s*doi\\s*=\\s*\\{${doi.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\},?$`, 'i');

test('resolve: scholar.resolveAllDois writes the right DOIs as minimal edits, metadata.json per entry, and undo restores the file', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    const original =
      '% Entries copied from test/fixtures/corpus (Crossref records), DOIs removed.\n\n' +
      Object.entries(TO_RESOLVE).map(([key, doi]) => bibEntry(key, record(doi))).join('\n') +
      '\n' +
      bibEntry(HAS_DOI.key, record(HAS_DOI.doi), { doi: true }) +
      '\n' +
      bibEntry(OPTED_OUT.key, record(OPTED_OUT.doi), { extra: { scholar: 'skip' } }) +
      '\n' +
      UNKNOWN;
    const uri = await writeWorkspaceFile(api, 'resolve/resolve.bib', original);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);

    const summary = (await vscode.commands.executeCommand('scholar.resolveAllDois', uri)) as JobSummary | undefined;
    assert.ok(summary, 'the command returned no summary (it failed or found nothing to do: see the Scholar log)');
    assert.equal(summary.written, 4, `DOIs written: ${summary.written}; refused: ${JSON.stringify(summary.refused)}`);
    assert.deepEqual(summary.refused, []);
    // Progress went to the library view (not a notification), and one plain summary was shown.
    assert.deepEqual(api.controller.lastProgress, { place: 'view', viewId: 'scholar.library', automatic: false });
    assert.equal(api.controller.lastReport?.shown, true);
    assert.match(api.controller.lastReport?.message ?? '', /^Scholar: 4 DOIs added, /);
    assert.doesNotMatch(api.controller.lastReport?.message ?? '', /has doi|accept|_/);
    await screenshot('resolve-after');

    // The document: one doi line added to each corpus entry, with the record's DOI, and nothing else.
    const after = doc.getText();
    for (const [key, doi] of Object.entries(TO_RESOLVE)) {
      const lines = entryText(after, key).split('\n');
      assert.equal(lines.filter((l) => doiLine(doi).test(l)).length, 1, `${key} should have doi = {${doi}}:\n${entryText(after, key)}`);
    }
    const added = after.split('\n').filter((l) => Object.values(TO_RESOLVE).some((doi) => doiLine(doi).test(l)));
    assert.equal(added.length, 4);
    const withoutAdded = after
      .split('\n')
      .filter((l) => !added.includes(l))
      .join('\n');
    assert.equal(withoutAdded, original, 'apart from the added doi lines, the file must be byte-identical');
    assert.equal(entryText(after, OPTED_OUT.key), entryText(original, OPTED_OUT.key), 'the opted-out entry changed');
    assert.equal(entryText(after, UNKNOWN_KEY), entryText(original, UNKNOWN_KEY), 'the entry that is not in the corpus changed');
    assert.equal(entryText(after, HAS_DOI.key), entryText(original, HAS_DOI.key), 'the entry that already had a DOI changed');
    // The document was clean, so it is saved: the file on disk and the library agree.
    assert.equal(doc.isDirty, false);
    assert.equal(fs.readFileSync(uri.fsPath, 'utf8'), after);

    // The library: metadata.json with the DOI, where it came from and how it matched.
    for (const [key, doi] of Object.entries(TO_RESOLVE)) {
      const meta = readMetadata(key);
      assert.equal(meta.key, key);
      assert.equal(String(meta.doi).toLowerCase(), doi.toLowerCase(), `${key}: metadata doi`);
      assert.equal(meta.match?.outcome, 'accepted', `${key}: match outcome`);
      assert.ok(typeof meta.match.score === 'number' && meta.match.score >= 0.85, `${key}: match score ${meta.match.score}`);
      assert.ok(Array.isArray(meta.match.candidates) && meta.match.candidates.some((c: { doi?: string }) => c.doi?.toLowerCase() === doi.toLowerCase()), `${key}: candidates considered`);
      assert.equal(meta.title, record(doi).title[0]);
    }
    assert.equal(readMetadata(UNKNOWN_KEY).match?.outcome, 'not_found');
    const optedOut = path.join(keyDir(OPTED_OUT.key), 'metadata.json');
    assert.ok(!fs.existsSync(optedOut) || JSON.parse(fs.readFileSync(optedOut, 'utf8')).doi === undefined, 'the opted-out entry got a DOI in the library');

    // The job's own account agrees.
    const job = summary.job.snapshot();
    assert.equal(job.stats.outcomes.accept, 4, JSON.stringify(job.stats.outcomes));
    assert.equal(job.stats.outcomes.not_found, 1, JSON.stringify(job.stats.outcomes));

    // Undo, with the document's editor active, restores the original text exactly (one step).
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('undo');
    await waitFor(() => doc.getText() === original, 5_000, 'undo to restore the original text');
    await doc.save();
    assert.equal(fs.readFileSync(uri.fsPath, 'utf8'), original);
  } finally {
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 120_000 });

test('resolve: with unsaved changes in the .bib, the DOI lands in the dirty document and the unsaved edit is kept', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    const key = 'dirty-komarov2016';
    const doi = '10.1007/s10827-016-0622-8';
    const original = bibEntry(key, record(doi));
    const uri = await writeWorkspaceFile(api, 'resolve/dirty.bib', original);
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    const note = '\n% an unsaved note the user is still typing\n';
    await editor.edit((b) => b.insert(doc.positionAt(doc.getText().length), note));
    assert.ok(doc.isDirty);
    await waitFor(() => api.project.bibDoc(uri)?.file.text === original + note, 5_000, 'the project model to read the unsaved text');

    const summary = (await vscode.commands.executeCommand('scholar.resolveAllDois', uri)) as JobSummary | undefined;
    assert.ok(summary, 'the command returned no summary');
    assert.equal(summary.written, 1, JSON.stringify(summary.refused));

    const text = doc.getText();
    assert.ok(doc.isDirty, 'a document with unsaved changes must be left for the user to save');
    assert.ok(text.endsWith(note), 'the unsaved edit was lost');
    assert.equal(text.split('\n').filter((l) => doiLine(doi).test(l)).length, 1, `no doi line in:\n${text}`);
    assert.equal(text.split('\n').filter((l) => !doiLine(doi).test(l)).join('\n'), original + note);
    assert.equal(fs.readFileSync(uri.fsPath, 'utf8'), original, 'the file on disk must not change while the editor has unsaved changes');
    assert.equal(readMetadata(key).doi, doi);

    // Leave the document as it is on disk: put the original text back and save it (the same bytes
    // as the file). The revert command acts on the active editor and was seen to time out under load.
    const whole = new vscode.WorkspaceEdit();
    whole.replace(uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), original);
    assert.ok(await vscode.workspace.applyEdit(whole));
    await waitFor(async () => !doc.isDirty || ((await doc.save()) && !doc.isDirty), 20_000, 'the document saved as it is on disk');
    assert.equal(fs.readFileSync(uri.fsPath, 'utf8'), original);
  } finally {
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 120_000 });

test('resolve: Resolve All checks the DOIs entries carry; a wrong one is flagged on its doi field, listed under Needs review, and its quick fix replaces only the value (undo restores)', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    // Real records of test/fixtures/corpus: one with the DOI of another real record, one with a truncated DOI, one right.
    const mismatch = { key: 'chk-mismatch', right: '10.1007/s10468-019-09889-1', wrong: '10.1007/s00382-019-04712-5' };
    const truncated = { key: 'chk-truncated', right: '10.1007/s10827-016-0622-8', wrong: '10.1007/s10827-016-0622' };
    const original =
      '% Entries copied from test/fixtures/corpus (Crossref records), with wrong DOIs.\n\n' +
      bibEntry(mismatch.key, record(mismatch.right), { extra: { doi: mismatch.wrong } }) +
      '\n' +
      bibEntry(truncated.key, record(truncated.right), { extra: { doi: truncated.wrong } }) +
      '\n' +
      bibEntry('chk-right', record('10.1002/aqc.3262'), { doi: true });
    const uri = await writeWorkspaceFile(api, 'resolve/check-existing.bib', original);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);

    const summary = (await vscode.commands.executeCommand('scholar.resolveAllDois', uri)) as JobSummary | undefined;
    assert.ok(summary);
    assert.equal(summary.job.resolutions.get(mismatch.key)?.outcome, 'doi_mismatch');
    assert.equal(summary.job.resolutions.get(truncated.key)?.outcome, 'doi_unknown');
    assert.equal(summary.job.resolutions.get('chk-right')?.outcome, 'has_doi');
    assert.equal(doc.getText(), original, 'Resolve All never rewrites a DOI the user wrote');

    const diags = await waitFor(() => {
      const d = vscode.languages.getDiagnostics(uri).filter((x) => x.code === 'W_DOI_MISMATCH' || x.code === 'W_DOI_UNKNOWN');
      return d.length === 2 ? d : undefined;
    }, 15_000, 'two wrong-DOI diagnostics');
    assert.deepEqual(diags.map((d) => doc.getText(d.range)).sort(), [mismatch.wrong, truncated.wrong].sort());
    // Both wait for the user under Needs review.
    assert.equal(api.tree.status(mismatch.key).doiState, 'review');
    assert.equal(api.tree.status(truncated.key).doiState, 'review');
    assert.equal(api.tree.status('chk-right').doiState, 'found');
    await screenshot('resolve-wrong-doi');

    const d = diags.find((x) => doc.getText(x.range) === mismatch.wrong)!;
    const actions = (await vscode.commands.executeCommand('vscode.executeCodeActionProvider', uri, d.range)) as vscode.CodeAction[];
    const fix = actions.find((a) => a.title === `Replace with ${mismatch.right}`);
    assert.ok(fix?.edit, `actions: ${actions.map((a) => a.title).join(' | ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.equal(doc.getText(), original.replace(mismatch.wrong, mismatch.right), 'only the doi value changed');
    await waitFor(() => (vscode.languages.getDiagnostics(uri).some((x) => doc.getText(x.range) === mismatch.right) ? undefined : true), 10_000, 'the fixed DOI to lose its diagnostic');
    await vscode.commands.executeCommand('undo');
    assert.equal(doc.getText(), original, 'undo restores the file');

    // "Keep this DOI" is remembered: the diagnostic goes, and a later Resolve All leaves the entry alone.
    const t = vscode.languages.getDiagnostics(uri).find((x) => doc.getText(x.range) === truncated.wrong)!;
    const keep = ((await vscode.commands.executeCommand('vscode.executeCodeActionProvider', uri, t.range)) as vscode.CodeAction[]).find((a) => a.title.startsWith('Keep this DOI'));
    assert.ok(keep?.command);
    await vscode.commands.executeCommand(keep.command.command, ...(keep.command.arguments ?? []));
    await waitFor(() => (vscode.languages.getDiagnostics(uri).some((x) => doc.getText(x.range) === truncated.wrong) ? undefined : true), 10_000, 'the kept DOI to lose its diagnostic');
    const again = (await vscode.commands.executeCommand('scholar.resolveAllDois', uri)) as JobSummary | undefined;
    assert.equal(again?.job.results.get(truncated.key)?.outcome, 'skipped', 'the decision is not asked again');
    assert.equal(readMetadata(truncated.key).match.outcome, 'manual');
    await doc.save();
  } finally {
    await replay.dispose();
    await closeAllEditors();
  }
}, { timeoutMs: 120_000 });
