// Upgrade Preprints in a real VS Code against the replay server: a cited arXiv preprint whose
// published version arXiv links gets an information diagnostic on its entry and on its \cite, sits
// under "Published since", and the quick fix "Cite the published version" rewrites the entry in one
// undoable edit (undo restores the file byte for byte). The proposal is kept in metadata.json, so
// it survives the session's proposals being dropped (a reload) without a new request.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { screenshot, test, waitFor } from './util';
import { closeAllEditors, corpus, fixturesDir, keyDir, readable, scholarApi, startReplay, writeWorkspaceFile } from './scholar';
import type { UpgradeSummary } from '../../src/host/upgrade';
import type { MergeResult } from '../../src/host/commands/mergeDuplicates';

function readMetadataIfAny(key: string): Record<string, any> | undefined { // eslint-disable-line @typescript-eslint/no-explicit-any
  const file = path.join(keyDir(key), 'metadata.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
}

/** The arXiv id the replay gives a record (src/replay/corpus.ts: every fifth DOI by hash). */
function replayArxivId(doi: string, year: number): string | undefined {
  const h = createHash('sha1').update(doi.toLowerCase()).digest().readUInt32BE(0);
  if (h % 5 !== 0) return undefined;
  const y = Math.min(Math.max(year, 2008), 2099) % 100;
  return `${String(y).padStart(2, '0')}${String((h % 12) + 1).padStart(2, '0')}.${String(h % 100000).padStart(5, '0')}`;
}

test('upgrade: Upgrade Preprints finds the published version of a cited arXiv preprint; the diagnostic, the Published since group and the quick fix work, and undo restores the file byte for byte', async () => {
  const api = await scholarApi();
  // Failures caught earlier in the session (other tests provoke some on purpose) are not this test's.
  const failedBefore = api.commandFailures.length;
  const replay = await startReplay();
  try {
    // A real journal article of test/fixtures/corpus that the replay also puts on arXiv.
    const rec = corpus().find((r) => r.type === 'journal-article' && r['container-title']?.[0] && r.volume && r.issued?.['date-parts']?.[0]?.[0] >= 2010 && r.author?.length >= 2 && /^[\w ,:-]+$/.test(r.title?.[0] ?? '') && replayArxivId(r.DOI, r.issued['date-parts'][0][0]));
    assert.ok(rec, 'no corpus record on the replay\'s arXiv');
    const year = rec.issued['date-parts'][0][0] as number;
    const id = replayArxivId(rec.DOI, year)!;
    const authors = rec.author.map((a: { family: string; given?: string }) => `${a.family}, ${a.given ?? ''}`.replace(/, $/, '')).join(' and ');
    const original =
      `% A preprint of a real record of test/fixtures/corpus (${rec.DOI}), cited as arXiv.\r\n\r\n` +
      `@misc{upg-preprint,\r\n  author       = {${authors}},\r\n  title        = {${rec.title[0]}},\r\n  year         = {${year - 1}},\r\n  eprint       = {${id}},\r\n  archivePrefix = {arXiv},\r\n  primaryClass = {q-bio.PE},\r\n}\r\n\r\n` +
      `@article{upg-other,\r\n  author = {Nobody, Alice},\r\n  title = {Unrelated work},\r\n  journal = {Journal of Nothing},\r\n  year = {2020},\r\n}\r\n`;
    const uri = await writeWorkspaceFile(api, 'upgrade/upgrade.bib', original);
    const tex = await writeWorkspaceFile(api, 'upgrade/chapter.tex', 'As shown by \\cite{upg-preprint}, and \\cite{upg-other}.\n');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    await waitFor(() => api.project.findEntry('upg-preprint'), 10_000, 'the project model to read the .bib');

    // Propose only: the user decides through the quick fix.
    const summary = (await vscode.commands.executeCommand('scholar.upgradePreprints', { apply: [] })) as UpgradeSummary | undefined;
    assert.ok(summary, 'no summary');
    assert.equal(summary.upgraded, 1, JSON.stringify(summary));
    assert.deepEqual(summary.applied, []);
    assert.equal(doc.getText(), original, 'proposing changes nothing');

    // Kept in the entry's metadata.json (through the single writer): after a reload, here the
    // session's proposals dropped, the same proposal is back without a single request.
    const kept = await waitFor(() => readMetadataIfAny('upg-preprint')?.upgrade, 10_000, 'the proposal in metadata.json');
    assert.equal(kept.outcome, 'upgraded');
    assert.equal(kept.to.doi, rec.DOI.toLowerCase());
    assert.deepEqual(kept.evidence.slice(0, 2), ['arxiv-doi', 'arxiv-journal-ref']);
    assert.equal(readMetadataIfAny('upg-other'), undefined, 'no folder for an entry with nothing to keep');
    const requestsBefore = replay.server.stats().log.length;
    api.upgrades.forgetSession();
    assert.deepEqual(api.upgrades.keys(), ['upg-preprint']);
    assert.equal(api.upgrades.get('upg-preprint')?.proposal.to?.doi, rec.DOI.toLowerCase());
    assert.equal(replay.server.stats().log.length, requestsBefore, 'no request to show a kept proposal');

    const diag = await waitFor(() => vscode.languages.getDiagnostics(uri).find((d) => d.code === 'I_PUBLISHED_VERSION'), 10_000, 'the published-version diagnostic on the entry');
    assert.equal(diag.severity, vscode.DiagnosticSeverity.Information);
    assert.equal(doc.getText(diag.range), 'upg-preprint');
    assert.ok(diag.message.startsWith(`Published as "${rec.title[0]}"`), diag.message);
    assert.match(diag.message, /evidence: arXiv DOI link \+ arXiv journal_ref/);
    const texDiag = await waitFor(() => vscode.languages.getDiagnostics(tex).find((d) => d.code === 'I_PUBLISHED_VERSION'), 10_000, 'the diagnostic on the \\cite');
    assert.match(texDiag.message, /^'upg-preprint': Published as/);
    assert.equal(vscode.languages.getDiagnostics(tex).filter((d) => d.code === 'I_PUBLISHED_VERSION').length, 1, 'only the preprint is flagged');

    const texDoc = await vscode.workspace.openTextDocument(tex);
    const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', tex, texDoc.positionAt(texDoc.getText().indexOf('upg-preprint') + 2))) as vscode.Hover[];
    const hoverText = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
    assert.match(readable(hoverText), /Published as/, readable(hoverText));
    const groups = api.tree.getChildren();
    const group = groups.find((g) => g.kind === 'group' && g.group === 'published');
    assert.ok(group && group.kind === 'group', `groups: ${groups.map((g) => g.kind === 'group' ? g.group : g.kind).join(', ')}`);
    assert.deepEqual(group.keys, ['upg-preprint']);
    assert.equal(api.tree.getTreeItem(group).label, 'Published since');
    await screenshot('upgrade-diagnostic');

    const actions = (await vscode.commands.executeCommand('vscode.executeCodeActionProvider', uri, diag.range)) as vscode.CodeAction[];
    const fix = actions.find((a) => a.title === `Cite the published version (${rec.DOI.toLowerCase()})`);
    assert.ok(fix?.edit, `actions: ${actions.map((a) => a.title).join(' | ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    const after = doc.getText();
    // The key, the authors, the title and the preprint's eprint fields keep their bytes; CRLF stays CRLF.
    assert.ok(after.startsWith(original.slice(0, original.indexOf('@misc'))));
    assert.match(after, /@article\{upg-preprint,\r\n/);
    assert.ok(after.includes(`  eprint       = {${id}},\r\n  archivePrefix = {arXiv},\r\n  primaryClass = {q-bio.PE},\r\n`));
    assert.ok(after.includes(`doi = {${rec.DOI.toLowerCase()}}`) || after.includes(`doi          = {${rec.DOI.toLowerCase()}}`), after);
    assert.ok(after.includes(`{${year}}`));
    assert.ok(!/\n(?!\r)/.test(after.replace(/\r\n/g, '')), 'no bare LF');
    assert.ok(after.endsWith(original.slice(original.indexOf('@article{upg-other'))), 'the other entry is untouched');
    const reparsed = api.project.bibDoc(uri);
    await waitFor(() => (api.project.bibDoc(uri)?.file.text === after ? true : undefined), 10_000, 'the model to see the edit');
    void reparsed;
    await waitFor(() => (vscode.languages.getDiagnostics(uri).some((d) => d.code === 'I_PUBLISHED_VERSION') ? undefined : true), 10_000, 'the diagnostic to go once the entry cites the published version');

    await vscode.commands.executeCommand('undo');
    await waitFor(() => (doc.getText() === original ? true : undefined), 5_000, 'undo to restore the file');
    assert.equal(doc.getText(), original, 'undo restores the file byte for byte');
    assert.deepEqual(api.commandFailures.slice(failedBefore), []);
    await doc.save();
  } finally {
    await replay.dispose();
    await closeAllEditors();
  }
}, { timeoutMs: 120_000 });

test('upgrade: a preprint entry and the published entry of the same work are flagged as two versions of one work, on both keys', async () => {
  const api = await scholarApi();
  const text =
    '@misc{dup-pre,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Sparse Widgets for Reproducible Bibliographies},\n  year = {2021},\n  eprint = {2104.01234},\n  archivePrefix = {arXiv}\n}\n\n' +
    '@article{dup-pub,\n  author = {A. Okafor and B. Lindqvist},\n  title = {Sparse widgets for reproducible bibliographies},\n  journal = {Journal of Replay Studies},\n  year = {2022}\n}\n\n' +
    '@article{dup-other,\n  author = {Brandt, Uwe},\n  title = {Sparse widgets for reproducible bibliographies},\n  journal = {Replay Surveys},\n  year = {2022}\n}\n';
  const uri = await writeWorkspaceFile(api, 'upgrade/duplicates.bib', text);
  try {
    const doc = await vscode.workspace.openTextDocument(uri);
    const diags = await waitFor(() => {
      const d = vscode.languages.getDiagnostics(uri).filter((x) => x.code === 'I_VERSION_DUPLICATE');
      return d.length === 2 ? d : undefined;
    }, 15_000, 'two version-duplicate diagnostics');
    assert.deepEqual(diags.map((d) => doc.getText(d.range)).sort(), ['dup-pre', 'dup-pub']);
    assert.match(diags.find((d) => doc.getText(d.range) === 'dup-pre')!.message, /'dup-pub' is its published version/);
    assert.equal(doc.getText(), text, 'detection changes nothing');
  } finally {
    await vscode.workspace.fs.delete(uri);
    await closeAllEditors();
  }
});

test('upgrade: Merge duplicate entries… merges a preprint entry into its published entry across the .bib and two .tex files as one edit; one undo restores every file byte for byte; the stored PDF of the removed key stays', async () => {
  const api = await scholarApi();
  const failedBefore = api.commandFailures.length;
  // CRLF .bib with a comment between entries; the .tex files cite the preprint alone and in a list with the published key.
  const bibText =
    '% merge test\r\n\r\n@misc{merge-pre,\r\n  author = {Okafor, Ada and Lindqvist, Bo},\r\n  title = {Sparse Widgets for Merged Bibliographies},\r\n  year = {2021},\r\n  eprint = {2104.04321},\r\n  archivePrefix = {arXiv},\r\n  primaryClass = {cs.DL}\r\n}\r\n\r\n' +
    '@article{merge-pub,\r\n  author = {A. Okafor and B. Lindqvist},\r\n  title = {Sparse widgets for merged bibliographies},\r\n  journal = {Journal of Replay Studies},\r\n  year = {2022},\r\n  doi = {10.5555/merge.1}\r\n}\r\n\r\n' +
    '@book{merge-other,\r\n  title = {Unrelated},\r\n  year = {1999}\r\n}\r\n';
  const texA = 'First \\cite{merge-pre}; then \\citep[p.~2]{merge-pub, merge-pre}.\n% \\cite{merge-pre} in a comment stays\n';
  const texB = 'Only here: \\textcite{merge-pre} and \\cite{merge-other}.\n';
  const uri = await writeWorkspaceFile(api, 'merge/merge.bib', bibText);
  const a = await writeWorkspaceFile(api, 'merge/a.tex', texA);
  const b = await writeWorkspaceFile(api, 'merge/b.tex', texB);
  // A real PDF (test/fixtures/pdf, made by the fixture's make.sh) stored under the key that goes away.
  fs.mkdirSync(keyDir('merge-pre'), { recursive: true });
  const storedPdf = path.join(keyDir('merge-pre'), 'paper.pdf');
  fs.copyFileSync(path.join(fixturesDir(), 'pdf/paper-a.pdf'), storedPdf);
  const pdfBytes = fs.readFileSync(storedPdf);
  try {
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const diag = await waitFor(() => vscode.languages.getDiagnostics(uri).find((d) => d.code === 'I_VERSION_DUPLICATE' && doc.getText(d.range) === 'merge-pre'), 15_000, 'the version-duplicate diagnostic');
    const actions = (await vscode.commands.executeCommand('vscode.executeCodeActionProvider', uri, diag.range)) as vscode.CodeAction[];
    const action = actions.find((x) => x.title === "Merge duplicate entries 'merge-pre' and 'merge-pub'…");
    assert.ok(action?.command, `actions: ${actions.map((x) => x.title).join(' | ')}`);
    assert.equal(action.command.command, 'scholar.mergeDuplicates');
    // The quick fix's own arguments, with the two answers the QuickPicks would ask for.
    const args = { ...(action.command.arguments![0] as object), keep: 'merge-pub', mode: 'rewrite' };
    const result = (await vscode.commands.executeCommand('scholar.mergeDuplicates', args)) as MergeResult | undefined;
    assert.ok(result, 'no merge result');
    assert.equal(result.citesRewritten, 3);
    assert.deepEqual(result.copied, ['eprint', 'archiveprefix', 'primaryclass']);
    assert.ok(result.removedText.startsWith('@misc{merge-pre,\r\n'));
    assert.ok(result.notes.some((n) => /paper\.pdf \(not deleted/.test(n)), result.notes.join('; '));

    const texDocA = await vscode.workspace.openTextDocument(a);
    const texDocB = await vscode.workspace.openTextDocument(b);
    const merged = doc.getText();
    assert.ok(!merged.includes('merge-pre'), merged);
    assert.ok(merged.startsWith('% merge test\r\n\r\n@article{merge-pub,\r\n'), merged);
    assert.ok(merged.includes('  eprint = {2104.04321}') && merged.includes('  doi = {10.5555/merge.1}'), merged);
    assert.ok(!/[^\r]\n/.test(merged), 'CRLF stays CRLF');
    assert.ok(merged.endsWith('@book{merge-other,\r\n  title = {Unrelated},\r\n  year = {1999}\r\n}\r\n'), 'the other entry is untouched');
    assert.equal(texDocA.getText(), 'First \\cite{merge-pub}; then \\citep[p.~2]{merge-pub}.\n% \\cite{merge-pre} in a comment stays\n');
    assert.equal(texDocB.getText(), 'Only here: \\textcite{merge-pub} and \\cite{merge-other}.\n');
    // The files were clean: the merge is saved, like every Scholar edit of a clean file.
    await waitFor(() => (fs.readFileSync(uri.fsPath, 'utf8') === merged ? true : undefined), 10_000, 'the merged .bib on disk');
    assert.deepEqual(fs.readFileSync(storedPdf), pdfBytes, 'the stored PDF of the removed key is left as it was');
    await waitFor(() => (vscode.languages.getDiagnostics(uri).some((d) => d.code === 'I_VERSION_DUPLICATE') ? undefined : true), 10_000, 'the duplicate diagnostics to go');
    await screenshot('merge-duplicates');

    // One undo in the .bib's editor undoes the whole WorkspaceEdit, in all three files.
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('undo');
    await waitFor(() => (doc.getText() === bibText && texDocA.getText() === texA && texDocB.getText() === texB ? true : undefined), 10_000, 'undo to restore all three files');
    for (const d of [doc, texDocA, texDocB]) assert.ok(await d.save() || !d.isDirty, `save ${d.uri.fsPath}`);
    assert.deepEqual(fs.readFileSync(uri.fsPath), Buffer.from(bibText), '.bib restored byte for byte');
    assert.deepEqual(fs.readFileSync(a.fsPath), Buffer.from(texA), 'a.tex restored byte for byte');
    assert.deepEqual(fs.readFileSync(b.fsPath), Buffer.from(texB), 'b.tex restored byte for byte');
    assert.deepEqual(api.commandFailures.slice(failedBefore), []);
  } finally {
    await closeAllEditors();
    for (const u of [uri, a, b]) await vscode.workspace.fs.delete(u).then(undefined, () => undefined);
    fs.rmSync(keyDir('merge-pre'), { recursive: true, force: true });
  }
}, { timeoutMs: 120_000 });
