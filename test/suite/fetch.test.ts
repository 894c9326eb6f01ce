// "Scholar: Fetch PDFs for .bib File" in a real VS Code against the replay server: verified PDFs
// land in storage/by_key/<KEY>/paper.pdf with their sha256 in metadata.json, an entry without an
// open-access copy fails with a reason, and the library tree shows each entry's PDF state.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { screenshot, sleep, test, waitFor } from './util';
import type { JobSummary } from '../../src/host/controller';
import { bibEntry, closeAllEditors, keyDir, readMetadata, record, scholarApi, showScholarView, startReplay, treeEntries, writeWorkspaceFile } from './scholar';

// Real corpus records with their DOI. The replay server decides open access per DOI (deterministic:
// licence or hash), which gives one of each kind of copy here. Where OpenAlex has a PDF URL Unpaywall
// is not asked (issue 17), so gold and green copies come from OpenAlex's locations.
const WITH_PDF = {
  'fetch-miranda2020': { doi: '10.1002/aqc.3262', source: 'openalex' }, // gold: publisher PDF
  'fetch-alan2016': { doi: '10.1007/s11240-016-0944-2', source: 'openalex' }, // green: repository copy
  'fetch-kokoszka2017': { doi: '10.1007/s10687-017-0302-8', source: 'landingPage' }, // bronze: citation_pdf_url on the landing page
} as const;
const CLOSED = { key: 'fetch-sidiropoulos2021', doi: '10.1007/s00454-021-00282-8' }; // closed, no preprint

test('fetch: scholar.fetchPdfs stores verified PDFs with their sha256 and the tree shows each entry\u2019s PDF state', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    const text =
      Object.entries(WITH_PDF).map(([key, w]) => bibEntry(key, record(w.doi), { doi: true })).join('\n') + '\n' + bibEntry(CLOSED.key, record(CLOSED.doi), { doi: true });
    const uri = await writeWorkspaceFile(api, 'fetch/fetch.bib', text);

    const summary = (await vscode.commands.executeCommand('scholar.fetchPdfs', uri)) as JobSummary | undefined;
    assert.ok(summary, 'the command returned no summary (see the Scholar log)');
    const outcomes = summary.job.snapshot().stats.outcomes;
    assert.equal(outcomes.stored, 3, JSON.stringify(outcomes));
    assert.equal(outcomes.failed, 1, JSON.stringify(outcomes));

    for (const [key, w] of Object.entries(WITH_PDF)) {
      const pdfFile = path.join(keyDir(key), 'paper.pdf');
      assert.ok(fs.existsSync(pdfFile), `${key}: no paper.pdf`);
      const bytes = fs.readFileSync(pdfFile);
      assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-', `${key}: not a PDF header`);
      assert.match(bytes.subarray(-32).toString('latin1'), /%%EOF\s*$/, `${key}: no %%EOF trailer`);
      const meta = readMetadata(key);
      assert.equal(String(meta.doi).toLowerCase(), w.doi);
      assert.ok(meta.pdf, `${key}: metadata.json has no pdf`);
      assert.equal(meta.pdf.sha256, createHash('sha256').update(bytes).digest('hex'), `${key}: pdf.sha256 does not match the file`);
      assert.equal(meta.pdf.size, bytes.length);
      assert.equal(meta.pdf.source, w.source, `${key}: pdf source`);
      assert.ok(meta.pdf.sourceUrl?.startsWith(replay.server.origin), `${key}: pdf.sourceUrl ${meta.pdf.sourceUrl}`);
    }
    assert.ok(!fs.existsSync(path.join(keyDir(CLOSED.key), 'paper.pdf')), 'a closed-access entry got a PDF');
    const failed = summary.job.snapshot().errors.find((e) => e.keys.includes(CLOSED.key));
    assert.ok(failed, 'the closed-access entry has no recorded failure');
    assert.equal(failed.reason, 'E_NO_PDF');
    // No temp file is left behind in any entry folder.
    for (const key of [...Object.keys(WITH_PDF), CLOSED.key]) {
      const dir = keyDir(key);
      const leftovers = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n !== 'paper.pdf' && n !== 'metadata.json' && n !== 'fulltext.txt') : [];
      assert.deepEqual(leftovers, [], `${key}: leftover files`);
    }
    // Each stored PDF got its text (pdf.js in the worker beside the extension), naming that PDF.
    for (const key of Object.keys(WITH_PDF)) {
      const head = fs.readFileSync(path.join(keyDir(key), 'fulltext.txt'), 'utf8').split('\n', 1)[0]!;
      assert.match(head, new RegExp(`^scholar-fulltext 1 sha256=${readMetadata(key).pdf.sha256} `), `${key}: fulltext.txt`);
    }

    // The tree: PDF state per entry, the failure grouped at the top.
    const items = await waitFor(() => {
      const list = treeEntries(api, uri);
      return list.length === 4 && list.filter((x) => String(x.item.contextValue).split(' ').includes('hasPdf')).length === 3 ? list : undefined;
    }, 10_000, 'the tree to show three entries with a PDF');
    for (const { node, item } of items) {
      const flags = String(item.contextValue).split(' ');
      if (node.key in WITH_PDF) {
        assert.ok(flags.includes('hasPdf') && flags.includes('hasDoi'), `${node.key}: contextValue ${item.contextValue}`);
        assert.equal((item.iconPath as vscode.ThemeIcon).id, 'file-pdf');
        assert.equal(item.command?.command, 'scholar.openPdf');
      } else {
        assert.ok(!flags.includes('hasPdf') && flags.includes('failed'), `${node.key}: contextValue ${item.contextValue}`);
        assert.equal((item.iconPath as vscode.ThemeIcon).id, 'error');
      }
    }
    const failedGroup = api.tree.getChildren().find((n) => n.kind === 'group' && n.group === 'failed');
    assert.ok(failedGroup && failedGroup.kind === 'group' && failedGroup.keys.includes(CLOSED.key), 'no "Failed" group with the closed-access entry');

    // The view after the run.
    await showScholarView();
    await screenshot('library-after-fetch');

    // The tree item's command (Open PDF) opens the stored file in Scholar's PDF viewer.
    const pdfNode = items.find((x) => x.node.key === 'fetch-miranda2020')!;
    const file = path.join(keyDir('fetch-miranda2020'), 'paper.pdf');
    const opened = (await vscode.commands.executeCommand(pdfNode.item.command!.command, ...(pdfNode.item.command!.arguments ?? []))) as vscode.Uri | undefined;
    assert.ok(opened && opened.fsPath === file, `openPdf returned ${opened?.fsPath}`);
    // The pdf.js viewer webview renders the stored PDF's pages.
    const pages = await Promise.race([api.pdfViewer.whenRendered(file), sleep(30_000).then(() => -1)]);
    assert.ok(pages >= 1, `the PDF viewer rendered ${pages} pages`);
    await screenshot('pdf-viewer');
  } finally {
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 120_000 });
