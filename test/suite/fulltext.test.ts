// Full-text search in a real VS Code: a real LuaTeX PDF stored through the library's writer, its
// text extracted by the pdf.js worker (dist/pdfTextWorker.js beside the extension bundle), then found
// by `text:` queries with a snippet in the dashboard and in the library tree's filter.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { test, waitFor } from './util';
import { closeAllEditors, readable, scholarApi, treeEntries, writeWorkspaceFile } from './scholar';
import { extractFulltext } from '../../src/core/fulltext/extract';
import { storagePaths } from '../../src/core/storage/layout';
import { PdfTextPool } from '../../src/core/pdf/text';

test('full text: a stored PDF\'s text is searched with text: and shown as a snippet in the dashboard and the tree filter', async () => {
  const api = await scholarApi();
  const folder = vscode.workspace.workspaceFolders![0]!;
  const lib = await api.session.library(folder);
  const repo = path.resolve(__dirname, '../..');
  const pdf = path.join(repo, 'test/fixtures/pdf/lua-twocol.pdf');
  const key = 'fulltext-a';
  const bib = await writeWorkspaceFile(api, 'fulltext/fulltext.bib', `@article{${key},\n  title = {Toward Efficient Offline Reference Matching},\n  year = {2021}\n}\n`);
  try {
    const tmp = path.join(storagePaths(lib.root).tmp, 'fulltext-a.pdf');
    fs.copyFileSync(pdf, tmp);
    const bytes = fs.readFileSync(pdf);
    await lib.writer.writeMetadata(key, { title: 'Toward Efficient Offline Reference Matching', year: 2021 });
    await lib.writer.commitPdf(key, tmp, { sourceUrl: 'file', source: 'entry', sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, retrievedAt: new Date().toISOString(), verified: 'doi' });
    // This bundle is not the extension's: its pool is pointed at the worker beside the extension.
    const pool = new PdfTextPool({ workerPath: path.join(repo, 'dist/pdfTextWorker.js') });
    try {
      assert.equal(await extractFulltext({ root: lib.root, writer: lib.writer, pool }, key), 'stored');
    } finally {
      await pool.close();
    }

    api.dashboard.showSearch('text:"zephyr and marmalade"');
    const r = await waitFor(() => (api.dashboard.lastRendered?.query === 'text:"zephyr and marmalade"' ? api.dashboard.lastRendered : undefined), 15_000, 'dashboard results');
    assert.deepEqual(r.keys, [key]);
    assert.match(r.snippets?.[0] ?? '', /quixotic, zephyr and marmalade were/);

    const keys = (await vscode.commands.executeCommand<string[]>('scholar.searchLibrary', 'text:quixotic')) ?? [];
    assert.deepEqual(keys, [key]);
    const item = treeEntries(api, bib).find((e) => e.node.key === key)!.item;
    assert.match(String(item.description), /«quixotic»/);
    assert.match(readable((item.tooltip as vscode.MarkdownString).value), /In the full text: .*quixotic/);
  } finally {
    await vscode.commands.executeCommand('scholar.clearFilter');
    await closeAllEditors();
    fs.rmSync(bib.fsPath, { force: true });
  }
}, { timeoutMs: 90_000 });

test('full text: Scholar: Extract Full Text of Stored PDFs extracts the text of a stored PDF that has none, through the writer, and it is searchable', async () => {
  const api = await scholarApi();
  const folder = vscode.workspace.workspaceFolders![0]!;
  const lib = await api.session.library(folder);
  const repo = path.resolve(__dirname, '../..');
  // pdfTeX, Times Type 1, two columns (test/fixtures/pdf/README.md).
  const pdf = path.join(repo, 'test/fixtures/pdf/pdftex-twocol.pdf');
  const key = 'fulltext-cmd';
  const bib = await writeWorkspaceFile(api, 'fulltext/fulltext-cmd.bib', `@article{${key},\n  title = {Wavefront Theory of Typed Yield Curves},\n  year = {2020}\n}\n`);
  try {
    const tmp = path.join(storagePaths(lib.root).tmp, `${key}.pdf`);
    fs.copyFileSync(pdf, tmp);
    const bytes = fs.readFileSync(pdf);
    await lib.writer.writeMetadata(key, { title: 'Wavefront Theory of Typed Yield Curves', year: 2020 });
    await lib.writer.commitPdf(key, tmp, { sourceUrl: 'file', source: 'entry', sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, retrievedAt: new Date().toISOString(), verified: 'title' });
    const textFile = path.join(storagePaths(lib.root).byKey, key, 'fulltext.txt');
    assert.ok(!fs.existsSync(textFile));
    const r = await vscode.commands.executeCommand<{ cancelled: boolean; stored: number; failed: number }>('scholar.extractFulltext');
    assert.equal(r?.cancelled, false);
    assert.ok((r?.stored ?? 0) >= 1, JSON.stringify(r));
    assert.match(fs.readFileSync(textFile, 'utf8'), /^scholar-fulltext 1 sha256=[0-9a-f]{64} /);
    const keys = (await vscode.commands.executeCommand<string[]>('scholar.searchLibrary', 'text:incomprehensibilities')) ?? [];
    assert.ok(keys.includes(key), JSON.stringify(keys));
    // Nothing left to do: a second run extracts nothing.
    const again = await vscode.commands.executeCommand<{ stored: number }>('scholar.extractFulltext');
    assert.equal(again?.stored, 0);
  } finally {
    await vscode.commands.executeCommand('scholar.clearFilter');
    fs.rmSync(bib.fsPath, { force: true });
  }
}, { timeoutMs: 90_000 });
