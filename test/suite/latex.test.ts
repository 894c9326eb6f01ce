// LaTeX-aware features in a real VS Code: the hover on a cited key, the warning for a key cited but
// defined in no .bib, and the error for a .bib that does not parse — each at the right place.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, waitFor, workspaceRoot } from './util';
import { bibEntry, closeAllEditors, readable, record, scholarApi, startReplay, writeWorkspaceFile } from './scholar';

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
}

function positionOf(doc: vscode.TextDocument, needle: string, within = 0): vscode.Position {
  const at = doc.getText().indexOf(needle);
  assert.ok(at >= 0, `${needle} not found in ${doc.uri.fsPath}`);
  return doc.positionAt(at + within);
}

test('latex: a hover on a cited key in main.tex shows the entry\u2019s title, authors and year', async () => {
  await scholarApi();
  const uri = vscode.Uri.file(path.join(workspaceRoot(), 'main.tex'));
  const doc = await vscode.workspace.openTextDocument(uri);
  try {
    // On the "g" of \cite{glashow} (refs.bib: biblatex fields journaltitle and date).
    const pos = positionOf(doc, '\\cite{glashow}', '\\cite{'.length + 2);
    const hovers = await waitFor(
      async () => {
        const h = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, pos)) ?? [];
        return /Glashow/.test(hoverText(h)) ? h : undefined;
      },
      10_000,
      'a Scholar hover on glashow',
    );
    const text = readable(hoverText(hovers));
    assert.match(text, /Partial Symmetries of Weak Interactions/, text);
    assert.match(text, /Glashow, Sheldon/, text);
    assert.match(text, /\b1961\b/, text);
    assert.match(text, /Nucl\.\s*Phys\./, text);
    // The hover's range is the key itself.
    const range = hovers.find((h) => /Glashow/.test(hoverText([h])))!.range!;
    assert.equal(doc.getText(range), 'glashow');

    // And on a key of the other citation command in the same line.
    const pos2 = positionOf(doc, '\\textcite{weinberg}', '\\textcite{'.length + 1);
    const h2 = readable(hoverText((await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, pos2)) ?? []));
    assert.match(h2, /A Model of Leptons/, h2);
    assert.match(h2, /Weinberg, Steven/, h2);
    assert.match(h2, /\b1967\b/, h2);
  } finally {
    await closeAllEditors();
  }
});

test('latex: a key cited but defined in no .bib gets W_UNDEFINED_CITATION at the key', async () => {
  const api = await scholarApi();
  const rel = 'latex/undefined.tex';
  const missing = 'latex-undefined-key2024';
  const text = ['\\documentclass{article}', '\\begin{document}', 'Known: \\cite{weinberg}.', '', `Unknown: \\parencite[p.~3]{glashow,${missing}} here.`, '\\end{document}', ''].join('\n');
  const uri = await writeWorkspaceFile(api, rel, text);
  try {
    const diags = await waitFor(
      () => {
        const d = vscode.languages.getDiagnostics(uri).filter((x) => x.code === 'W_UNDEFINED_CITATION');
        return d.length ? d : undefined;
      },
      10_000,
      `W_UNDEFINED_CITATION in ${rel}`,
    );
    assert.equal(diags.length, 1, diags.map((d) => d.message).join('; '));
    const d = diags[0]!;
    assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(d.source, 'Scholar');
    assert.match(d.message, new RegExp(missing));
    const line = text.split('\n')[4]!;
    assert.equal(d.range.start.line, 4);
    assert.equal(d.range.start.character, line.indexOf(missing));
    assert.equal(d.range.end.character, line.indexOf(missing) + missing.length);
  } finally {
    fs.rmSync(uri.fsPath, { force: true });
  }
});

test('latex: a .bib with a parse error gets an Error diagnostic at the right line', async () => {
  const api = await scholarApi();
  const rel = 'latex/broken.bib';
  const text = [
    '@article{latex-ok1,',
    '  title = {Fine},',
    '  year  = {2020},',
    '}',
    '',
    '@article{latex-bad1,',
    '  title = {A field without its comma}',
    '  year  = {2021},', // line 8 (1-based): the parser meets `year` where `,` or `}` belongs
    '}',
    '',
    '@article{latex-ok2,',
    '  title = {Also fine},',
    '}',
    '',
  ].join('\n');
  const uri = await writeWorkspaceFile(api, rel, text);
  try {
    const errors = await waitFor(
      () => {
        const d = vscode.languages.getDiagnostics(uri).filter((x) => x.severity === vscode.DiagnosticSeverity.Error);
        return d.length ? d : undefined;
      },
      10_000,
      `an Error diagnostic in ${rel}`,
    );
    assert.equal(errors.length, 1, errors.map((d) => `${d.range.start.line + 1}: ${d.message}`).join('; '));
    const e = errors[0]!;
    assert.equal(e.range.start.line, 7, `the error is reported on line ${e.range.start.line + 1}: ${e.message}`);
    assert.equal(e.range.start.character, 2);
    assert.equal(e.code, 'E_BIB_SYNTAX');
    assert.equal(e.source, 'Scholar');
    // The entries around the broken one are still read.
    const keys = api.project.bibDoc(uri)!.file.entries.map((x) => x.key);
    assert.ok(keys.includes('latex-ok1') && keys.includes('latex-ok2'), keys.join(', '));
  } finally {
    fs.rmSync(uri.fsPath, { force: true });
  }
});

test('latex: Check Existing DOIs flags a DOI that names another work, on the doi field', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    // A real record's title with the DOI of a different real record.
    const right = record('10.1002/aqc.3262');
    const wrongDoi = '10.1007/s11240-016-0944-2';
    const text = bibEntry('check-wrong', right, { extra: { doi: wrongDoi } }) + '\n' + bibEntry('check-right', record('10.1007/s10687-017-0302-8'), { doi: true });
    const uri = await writeWorkspaceFile(api, 'check/check.bib', text);
    // The workspace's other .bib (biblatex-examples entries, not in the offline corpus) adds DOIs Crossref does not know.
    const problems = (await vscode.commands.executeCommand('scholar.checkDois')) as number;
    assert.ok(problems >= 1, `problems: ${problems}`);
    const diags = await waitFor(() => {
      const d = vscode.languages.getDiagnostics(uri).filter((x) => x.code === 'W_DOI_MISMATCH');
      return d.length ? d : undefined;
    }, 10_000, 'a W_DOI_MISMATCH diagnostic');
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.getText(diags[0].range), wrongDoi);
    // The entry whose DOI is right gets nothing.
    assert.equal(vscode.languages.getDiagnostics(uri).filter((x) => String(x.code).startsWith('W_DOI')).length, 1);
  } finally {
    await replay.dispose();
  }
}, { timeoutMs: 90_000 });

test('latex: a cited work with a correction notice (Crossref updated-by) is flagged at the citation after a fetch', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    // The real recorded Crossref record of 10.1073/pnas.1414271111 carries updated-by: correction 10.1073/pnas.1507001112.
    const bib = await writeWorkspaceFile(
      api,
      'notice/notice.bib',
      '@article{makris2014,\n  author = {Makris, Eleftherios A. and Responte, Donald J.},\n  title = {Developing functional musculoskeletal tissues through hypoxia and lysyl oxidase-induced collagen cross-linking},\n  year = {2014},\n  doi = {10.1073/pnas.1414271111}\n}\n',
    );
    const tex = await writeWorkspaceFile(api, 'notice/notice.tex', 'As shown by \\cite{makris2014}.\n');
    await vscode.commands.executeCommand('scholar.fetchPdfs', bib);
    const diag = await waitFor(() => vscode.languages.getDiagnostics(tex).find((d) => d.code === 'I_CORRECTED'), 15_000, 'an I_CORRECTED diagnostic');
    assert.match(diag.message, /correction notice \(10\.1073\/pnas\.1507001112\)/);
    const doc = await vscode.workspace.openTextDocument(tex);
    assert.equal(doc.getText(diag.range), 'makris2014');
  } finally {
    await replay.dispose();
  }
}, { timeoutMs: 90_000 });
