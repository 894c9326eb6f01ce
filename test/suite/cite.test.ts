// Citing in a real VS Code (issue 20, items 1–2): completion inside every citation command form,
// Scholar: Insert Citation…, undefined-key diagnostics that follow each document's own
// bibliography (two papers in one workspace, one .bib outside it), and the hover beside LaTeX
// Workshop's citation hover.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, waitFor, workspaceRoot } from './util';
import { closeAllEditors, readable, scholarApi, writeWorkspaceFile } from './scholar';

const label = (i: vscode.CompletionItem) => (typeof i.label === 'string' ? i.label : i.label.label);

async function completionsAt(uri: vscode.Uri, pos: vscode.Position): Promise<vscode.CompletionItem[]> {
  const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, pos);
  // Only Scholar's: they are the ones with a Reference kind and a sort text we gave.
  return (list?.items ?? []).filter((i) => i.kind === vscode.CompletionItemKind.Reference && /^\d{4}$/.test(i.sortText ?? ''));
}

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
}

test('cite: completion offers the bibliography inside every citation command form', async () => {
  const api = await scholarApi();
  const forms = [
    '\\cite{|}',
    '\\citep{|}',
    '\\citet*{|}',
    '\\parencite[p.~3]{|}',
    '\\textcite{|}',
    '\\autocite[see][12]{|}',
    '\\footcite{|}',
    '\\citeauthor{|}',
    '\\citeyear{|}',
    '\\nocite{|}',
    '\\Cite{|}',
    '\\Parencite*[][{p.~3}]{|}',
    '\\Textcite{|}',
    '\\cites[see]{kastenholz}[12]{|}',
    '\\cite{glashow, |}',
  ];
  const lines = ['\\documentclass{article}', '\\addbibresource{../refs.bib}', '\\begin{document}', ...forms.map((f) => `Text ${f.replace('|', '')} more.`), 'Not a citation: \\ref{}.', '\\end{document}', ''];
  const uri = await writeWorkspaceFile(api, 'cite/forms.tex', lines.join('\n'));
  try {
    await vscode.workspace.openTextDocument(uri);
    for (let i = 0; i < forms.length; i++) {
      const line = 3 + i;
      const col = `Text ${forms[i]}`.indexOf('|');
      const items = await completionsAt(uri, new vscode.Position(line, col));
      const keys = items.map(label);
      assert.ok(keys.includes('weinberg'), `${forms[i]}: ${keys.join(', ')}`);
      assert.ok(keys.includes('sigfridsson'), `${forms[i]}: ${keys.join(', ')}`);
      if (forms[i]!.includes('glashow, ')) assert.ok(!keys.includes('glashow'), 'a key already in the list is not offered again');
      // Items say title, authors and year.
      const w = items.find((x) => label(x) === 'weinberg')!;
      assert.match(String(w.detail), /A Model of Leptons/);
      assert.match(readable((w.documentation as vscode.MarkdownString).value), /Weinberg/);
      assert.match(typeof w.label === 'string' ? '' : String(w.label.description), /Weinberg.*1967/);
      // The whole key under the cursor is what the item replaces.
      const r = w.range as { inserting: vscode.Range; replacing: vscode.Range };
      assert.equal(r.replacing.start.character, col);
    }
    const notCite = lines.findIndex((l) => l.startsWith('Not a citation'));
    assert.deepEqual(await completionsAt(uri, new vscode.Position(notCite, lines[notCite]!.indexOf('{}') + 1)), []);

    // Typing ranks fuzzily over key, title, authors and year.
    const edit = new vscode.WorkspaceEdit();
    edit.insert(uri, new vscode.Position(3, 'Text \\cite{'.length), 'lept');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const byTitle = await completionsAt(uri, new vscode.Position(3, 'Text \\cite{lept'.length));
    assert.equal(label(byTitle[0]!), 'weinberg', byTitle.map(label).join(', '));
    const edit2 = new vscode.WorkspaceEdit();
    edit2.insert(uri, new vscode.Position(4, 'Text \\citep{'.length), 'glas1961');
    assert.ok(await vscode.workspace.applyEdit(edit2));
    const byKeyYear = await completionsAt(uri, new vscode.Position(4, 'Text \\citep{glas1961'.length));
    assert.equal(label(byKeyYear[0]!), 'glashow', byKeyYear.map(label).join(', '));
  } finally {
    await closeAllEditors();
    fs.rmSync(uri.fsPath, { force: true });
  }
});

test('cite: a DOI typed as a key offers to add its entry and cite the new key', async () => {
  const api = await scholarApi();
  const doi = '10.1103/PhysRevLett.19.1264';
  const uri = await writeWorkspaceFile(api, 'cite/doi.tex', `\\documentclass{article}\n\\addbibresource{../refs.bib}\nSee \\cite{${doi}}.\n`);
  try {
    // A file written a moment ago: the project model reads it (and its \addbibresource) asynchronously.
    await waitFor(() => api.bibliographies.targetFor(uri) !== undefined, 15_000, 'the new document\'s bibliography');
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, new vscode.Position(2, 'See \\cite{'.length + doi.length));
    const add = list.items.find((i) => i.command?.command === 'scholar.addEntry');
    assert.ok(add, list.items.map(label).join(', '));
    const args = add.command!.arguments![0] as { ids: string; target?: vscode.Uri; replaceCite: { range: vscode.Range } };
    assert.equal(args.ids, doi);
    assert.equal(path.basename(args.target!.fsPath), 'refs.bib');
    assert.equal(args.replaceCite.range.start.character, 'See \\cite{'.length);
    assert.equal(args.replaceCite.range.end.character, 'See \\cite{'.length + doi.length);
  } finally {
    await closeAllEditors();
    fs.rmSync(uri.fsPath, { force: true });
  }
});

test('cite: Insert Citation… searches with the query language and inserts at the cursor', async () => {
  const api = await scholarApi();
  const text = '\\documentclass{article}\n\\addbibresource{../refs.bib}\nFirst: \nSecond: \\parencite{glashow}.\n';
  const uri = await writeWorkspaceFile(api, 'cite/insert.tex', text);
  try {
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    const pick = async (query: string, expect: string[], accept = true): Promise<string[]> => {
      const done = vscode.commands.executeCommand<string[]>('scholar.insertCitation', query);
      const qp = await waitFor(() => (api.insertCitation.current?.items.length ? api.insertCitation.current : undefined), 10_000, 'the Insert Citation pick');
      assert.deepEqual(qp.items.map((i) => i.label), expect, qp.items.map((i) => i.label).join(', '));
      await vscode.commands.executeCommand(accept ? 'workbench.action.acceptSelectedQuickOpenItem' : 'workbench.action.closeQuickOpen');
      return done;
    };
    editor.selection = new vscode.Selection(2, 'First: '.length, 2, 'First: '.length);
    assert.deepEqual(await pick('leptons', ['weinberg']), ['weinberg']);
    assert.equal(doc.lineAt(2).text, 'First: \\cite{weinberg}');
    // The index's query language: a year range, an author, has:doi.
    assert.deepEqual(await pick('year:1960..1962', ['glashow'], false), []);
    assert.deepEqual(await pick('has:doi author:sigf', ['sigfridsson'], false), []);
    assert.equal(doc.getText(), text.replace('First: ', 'First: \\cite{weinberg}'), 'a dismissed pick inserts nothing');
    // Inside a list, after its last key: the new key follows a comma.
    const at = 'Second: \\parencite{glashow'.length;
    editor.selection = new vscode.Selection(3, at, 3, at);
    assert.deepEqual(await pick('author:kastenholz', ['kastenholz']), ['kastenholz']);
    assert.equal(doc.lineAt(3).text, 'Second: \\parencite{glashow,kastenholz}.');
  } finally {
    await closeAllEditors();
    fs.rmSync(uri.fsPath, { force: true });
  }
});

test('cite: undefined-key diagnostics follow each root\u2019s bibliography (two papers, one .bib outside the workspace)', async () => {
  const api = await scholarApi();
  const outsideDir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-outside-'));
  const outsideBib = path.join(outsideDir, 'outside.bib');
  assert.ok(!outsideBib.startsWith(workspaceRoot()));
  fs.writeFileSync(outsideBib, '@article{rootsOnlyB,\n  title = {Only in the outside bibliography},\n  author = {Outside, Olga},\n  year = {2011},\n  doi = {10.5555/outside.1}\n}\n');
  const files: vscode.Uri[] = [];
  try {
    files.push(await writeWorkspaceFile(api, 'rootsA/a.bib', '@article{rootsOnlyA,\n  title = {Only in paper A},\n  author = {Alpha, Anna},\n  year = {2010}\n}\n'));
    const chap = 'Chapter: \\cite{rootsOnlyA} and \\cite{rootsOnlyB}.\n';
    files.push(await writeWorkspaceFile(api, 'rootsA/chapters/one.tex', chap));
    const mainA = '\\documentclass{article}\n\\usepackage{biblatex}\n\\addbibresource{a.bib}\n\\begin{document}\nA: \\cite{rootsOnlyA}, \\cite{rootsOnlyB}.\n\\input{chapters/one}\n\\end{document}\n';
    files.push(await writeWorkspaceFile(api, 'rootsA/main.tex', mainA));
    const mainB = `\\documentclass{article}\n\\begin{document}\nB: \\citep{rootsOnlyB} and \\citep{rootsOnlyA}.\n\\bibliography{${outsideBib.replace(/\.bib$/, '')}}\n\\end{document}\n`;
    files.push(await writeWorkspaceFile(api, 'rootsB/paper.tex', mainB));
    const part = '% !TEX root = ../rootsB/paper.tex\nPart: \\cite{rootsOnlyB}, \\cite{rootsOnlyA}.\n';
    files.push(await writeWorkspaceFile(api, 'rootsC/part.tex', part));
    const undefinedIn = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.code === 'W_UNDEFINED_CITATION');
    const [, chapUri, aUri, bUri, partUri] = files as [vscode.Uri, vscode.Uri, vscode.Uri, vscode.Uri, vscode.Uri];
    const expect: [vscode.Uri, string, string][] = [
      [aUri, 'rootsOnlyB', mainA],
      [chapUri, 'rootsOnlyB', chap],
      [bUri, 'rootsOnlyA', mainB],
      [partUri, 'rootsOnlyA', part],
    ];
    await waitFor(() => expect.every(([u, key]) => undefinedIn(u).length === 1 && undefinedIn(u)[0]!.message.includes(`'${key}'`)), 15_000, 'per-root W_UNDEFINED_CITATION');
    for (const [u, key, text] of expect) {
      const d = undefinedIn(u);
      assert.equal(d.length, 1, `${u.fsPath}: ${d.map((x) => x.message).join('; ')}`);
      const line = text.split('\n').findIndex((l) => l.includes(`{${key}}`));
      assert.equal(d[0]!.range.start.line, line);
      assert.equal(d[0]!.range.start.character, text.split('\n')[line]!.indexOf(`{${key}}`) + 1);
    }
    // Paper B's hover reads the entry from the .bib outside the workspace.
    const pos = new vscode.Position(2, 'B: \\citep{'.length + 2);
    const h = readable(hoverText((await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', bUri, pos)) ?? []));
    assert.match(h, /Only in the outside bibliography/, h);
    assert.match(h, /10\.5555\/outside\.1/, h);
    // Completion in paper B offers paper B's keys, not paper A's.
    const keys = (await completionsAt(bUri, pos)).map(label);
    assert.ok(keys.includes('rootsOnlyB') && !keys.includes('rootsOnlyA'), keys.join(', '));

    // An edit of the outside .bib is seen: the key it now defines is no longer flagged in paper B.
    fs.appendFileSync(outsideBib, '\n@article{rootsOnlyA,\n  title = {Now also outside},\n  year = {2012}\n}\n');
    await waitFor(() => undefinedIn(bUri).length === 0, 20_000, 'paper B to see the new outside entry');
    assert.equal(undefinedIn(aUri).length, 1, 'paper A is not affected');
  } finally {
    for (const u of files) fs.rmSync(u.fsPath, { force: true });
    fs.rmSync(outsideDir, { recursive: true, force: true });
  }
}, { timeoutMs: 90_000 });

test('cite: the hover beside LaTeX Workshop\u2019s citation hover (off: everything; on: only what it lacks)', async () => {
  const api = await scholarApi();
  const settingsFile = path.join(workspaceRoot(), '.vscode', 'settings.json');
  const hadSettings = fs.existsSync(settingsFile) ? fs.readFileSync(settingsFile, 'utf8') : undefined;
  const files: vscode.Uri[] = [];
  const lwSetting = () => vscode.workspace.getConfiguration('latex-workshop').get<boolean>('hover.citation.enabled');
  const setLw = async (on: boolean | undefined) => {
    await waitFor(async () => {
      fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
      fs.writeFileSync(settingsFile, JSON.stringify(on === undefined ? {} : { 'latex-workshop.hover.citation.enabled': on }, null, 2));
      return waitFor(() => lwSetting() === on, 2_000, 'the setting').then(() => true, () => false);
    }, 30_000, `latex-workshop.hover.citation.enabled = ${on}`);
  };
  try {
    files.push(await writeWorkspaceFile(api, 'lw/lw.bib', '@article{lwDoi,\n  title = {A work with a DOI},\n  author = {Dee, Oi},\n  year = {2019},\n  doi = {10.5555/lw.1}\n}\n\n@article{lwPlain,\n  title = {A plain work},\n  author = {Plain, Pat},\n  year = {2018}\n}\n'));
    const tex = '\\documentclass{article}\n\\addbibresource{lw.bib}\nSee \\cite{lwDoi} and \\cite{lwPlain}.\n';
    const uri = await writeWorkspaceFile(api, 'lw/lw.tex', tex);
    files.push(uri);
    const hover = async (key: string) => {
      const pos = new vscode.Position(2, tex.split('\n')[2]!.indexOf(`{${key}}`) + 2);
      return (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, pos)) ?? [];
    };
    // LaTeX Workshop absent or its citation hover off: Scholar's hover is the whole story.
    await setLw(false);
    const off = readable(hoverText(await waitFor(async () => ((await hover('lwDoi')).length ? hover('lwDoi') : undefined), 10_000, 'a hover')));
    assert.match(off, /A work with a DOI/);
    assert.match(off, /Dee/);
    assert.match(off, /10\.5555\/lw\.1/);
    const offHovers = await hover('lwDoi');
    const trusted = offHovers.flatMap((h) => h.contents).find((c) => typeof c !== 'string' && 'isTrusted' in c && c.isTrusted) as vscode.MarkdownString | undefined;
    assert.ok(trusted, 'a trusted link part');
    assert.match(trusted.value, /command:scholar\.openDoi\?/);
    assert.deepEqual((trusted.isTrusted as { enabledCommands: string[] }).enabledCommands.sort(), ['scholar.attachPdf', 'scholar.openDoi']);
    assert.match(readable(hoverText(await hover('lwPlain'))), /A plain work/);

    // Its citation hover on: no title, authors or year from Scholar (LaTeX Workshop shows them);
    // the DOI and the links stay; an entry Scholar knows nothing more about gets no hover.
    await setLw(true);
    const on = readable(hoverText(await hover('lwDoi')));
    assert.doesNotMatch(on, /A work with a DOI/);
    assert.doesNotMatch(on, /Dee/);
    assert.match(on, /10\.5555\/lw\.1/);
    assert.match(on, /command:scholar\.openDoi\?/);
    assert.deepEqual(await hover('lwPlain'), []);

    // scholar.hover.enabled off: nothing at all.
    await vscode.workspace.getConfiguration('scholar').update('hover.enabled', false, vscode.ConfigurationTarget.Global);
    try {
      await waitFor(async () => (await hover('lwDoi')).length === 0, 5_000, 'no hover with scholar.hover.enabled off');
    } finally {
      await vscode.workspace.getConfiguration('scholar').update('hover.enabled', undefined, vscode.ConfigurationTarget.Global);
    }
  } finally {
    if (hadSettings === undefined) fs.rmSync(settingsFile, { force: true });
    else fs.writeFileSync(settingsFile, hadSettings);
    for (const u of files) fs.rmSync(u.fsPath, { force: true });
    await closeAllEditors();
  }
}, { timeoutMs: 90_000 });

test('cite: scholar.diagnostics.enabled off clears Scholar\u2019s diagnostics, on brings them back', async () => {
  const api = await scholarApi();
  const uri = await writeWorkspaceFile(api, 'cite/diag.tex', '\\documentclass{article}\n\\addbibresource{../refs.bib}\n\\cite{diagMissingKey}\n');
  const count = () => vscode.languages.getDiagnostics(uri).filter((d) => d.code === 'W_UNDEFINED_CITATION').length;
  try {
    await waitFor(() => count() === 1, 15_000, 'the undefined key flagged');
    await vscode.workspace.getConfiguration('scholar').update('diagnostics.enabled', false, vscode.ConfigurationTarget.Global);
    await waitFor(() => count() === 0, 10_000, 'no diagnostics when disabled');
    await vscode.workspace.getConfiguration('scholar').update('diagnostics.enabled', undefined, vscode.ConfigurationTarget.Global);
    await waitFor(() => count() === 1, 10_000, 'diagnostics back');
  } finally {
    await vscode.workspace.getConfiguration('scholar').update('diagnostics.enabled', undefined, vscode.ConfigurationTarget.Global);
    fs.rmSync(uri.fsPath, { force: true });
  }
});
