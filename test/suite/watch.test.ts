// Watch mode (scholar.autoProcessOnSave): saving a .bib with new entries resolves and fetches just those.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, waitFor } from './util';
import { bibEntry, keyDir, record, scholarApi, startReplay, writeWorkspaceFile, closeAllEditors } from './scholar';

test('watch: with autoProcessOnSave on, a saved .bib gets its new entry resolved and fetched, and only that one', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  const cfg = vscode.workspace.getConfiguration('scholar');
  await cfg.update('autoProcessOnSave', true, vscode.ConfigurationTarget.Workspace);
  try {
    const old = record('10.1007/s10687-017-0302-8');
    const uri = await writeWorkspaceFile(api, 'watch/watch.bib', bibEntry('watch-old', old));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    // A first save tells Scholar what the file had.
    let edit = new vscode.WorkspaceEdit();
    edit.insert(uri, doc.positionAt(doc.getText().length), '\n');
    await vscode.workspace.applyEdit(edit);
    await doc.save();
    await new Promise((r) => setTimeout(r, 500));

    const fresh = record('10.1002/aqc.3262');
    edit = new vscode.WorkspaceEdit();
    edit.insert(uri, doc.positionAt(doc.getText().length), bibEntry('watch-new', fresh));
    await vscode.workspace.applyEdit(edit);
    await doc.save();

    await waitFor(() => fs.existsSync(path.join(keyDir('watch-new'), 'paper.pdf')), 60_000, 'the new entry\u2019s PDF');
    await waitFor(() => /doi\s*=\s*\{10\.1002\/aqc\.3262\}/i.test(doc.getText()), 20_000, 'the new entry\u2019s DOI in the document');
    assert.ok(!fs.existsSync(keyDir('watch-old')), 'the entry that was already there was not processed');
    // An automatic run shows no summary (only the log has it) and draws its progress in the view.
    await waitFor(() => !api.session.currentJob && api.controller.lastProgress?.automatic === true && api.controller.lastSummary?.job.kind === 'fetch', 20_000, 'the automatic fetch to end');
    assert.equal(api.controller.lastReport?.shown, false, 'no summary for an automatic run');
    assert.equal(api.controller.lastProgress?.place, 'view');
    assert.ok(!/watch-old[\s\S]*?doi\s*=/.test(doc.getText().split('@article{watch-new')[0]), 'the old entry got no DOI');
  } finally {
    await cfg.update('autoProcessOnSave', undefined, vscode.ConfigurationTarget.Workspace);
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 120_000 });
