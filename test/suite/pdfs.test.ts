// PDFs beyond open access, in a real VS Code: Attach PDF… by command and by dropping a file on a
// tree entry (the question about a PDF that names neither DOI nor title is answered through VS
// Code's own quick-pick commands), Open via Library, a Zotero-format resolver on the replay server,
// Import from Zotero / from Folder, and the storage folder's .gitignore.
//
// Drag and drop: simulating an OS drag in headless chromium is not practical, so the test hands the
// tree's own TreeDragAndDropController.handleDrop a real vscode.DataTransfer with a text/uri-list
// item, which is what VS Code passes it for a file dragged from the explorer or the desktop.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sleep, test, waitFor, workspaceRoot } from './util';
import { fixturesDir, keyDir, readMetadata, repoRoot, scholarApi, startReplay, storageRoot, treeEntries, writeWorkspaceFile } from './scholar';
import type { ScholarApi } from '../../src/host/extension';
import type { AttachOutcome, OpenViaLibraryResult } from '../../src/host/pdfCommands';
import type { ImportReport } from '../../src/core/import/run';
import type { JobSummary } from '../../src/host/controller';
import { loadSqlJs } from '../../src/core/index/library';
import { buildZoteroDataDir, treeDigest } from '../unit/zotero-fixture';

const PDF = (n: string) => path.join(fixturesDir(), 'pdf', `${n}.pdf`);
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
// Closed access in the replay corpus, without a preprint: only a library resolver has it.
const CLOSED = '10.1007/s00454-021-00282-8';

const ATTACH_BIB = `@article{att-drift,
  author = {Example, Ada and Sample, Ben},
  title  = {Measuring Citation Drift in Long-Running Bibliographies},
  year   = {2019},
  doi    = {10.5555/scholar.fixture.0001},
}
@inproceedings{att-tolerant,
  author = {Person, Chloe},
  title  = {Tolerant Parsing of Hand-Written Reference Lists},
  year   = {2021},
}
@article{att-rates,
  author = {Writer, Dan},
  title  = {Rate Limits as Seen From the Server},
  year   = {2020},
}
@article{att-closed,
  title = {A Paper Behind a Paywall},
  doi   = {${CLOSED}},
}
@article{att-download,
  title = {Tolerant Parsing of Hand-Written Reference Lists},
  note  = {the copy a user saved from their library's site},
}
`;

async function withUserSettings<T>(values: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
  const cfg = () => vscode.workspace.getConfiguration('scholar');
  const before = new Map(Object.keys(values).map((k) => [k, cfg().inspect(k)?.globalValue]));
  try {
    for (const [k, v] of Object.entries(values)) await cfg().update(k, v, vscode.ConfigurationTarget.Global);
    await waitFor(() => Object.entries(values).every(([k, v]) => JSON.stringify(cfg().inspect(k)?.globalValue) === JSON.stringify(v)), 10_000, 'settings to apply');
    return await fn();
  } finally {
    for (const [k, v] of before) await cfg().update(k, v, vscode.ConfigurationTarget.Global);
  }
}

async function removeWorkspaceFile(api: ScholarApi, uri: vscode.Uri): Promise<void> {
  fs.rmSync(uri.fsPath, { force: true });
  await waitFor(() => !api.project.bibDoc(uri), 30_000, `Scholar to drop ${vscode.workspace.asRelativePath(uri)}`);
}

/**
 * Answers the quick pick Scholar shows: the first item is "no", the second "yes". Uses the
 * workbench's own quick-input commands, as a keyboard user would (Down, Enter).
 */
async function answer(api: ScholarApi, yes: boolean): Promise<string> {
  const question = await waitFor(() => api.pdfs.asking, 15_000, 'Scholar to ask');
  // The quick pick is created right after `asking` is set; give it a moment to be on screen.
  await sleep(500);
  if (yes) await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
  await sleep(200);
  await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  return question;
}

function entryNode(api: ScholarApi, uri: vscode.Uri, key: string) {
  const e = treeEntries(api, uri).find((x) => x.node.key === key);
  assert.ok(e, `${key} is not in the tree`);
  return e;
}

test('pdfs: Attach PDF… by command stores a PDF that names the DOI, verified, with its provenance; the user’s file is untouched', async () => {
  const api = await scholarApi();
  const uri = await writeWorkspaceFile(api, 'pdfs/attach.bib', ATTACH_BIB);
  const src = path.join(os.tmpdir(), `scholar-suite-${process.pid}-download.pdf`);
  fs.copyFileSync(PDF('paper-a'), src);
  const out = (await vscode.commands.executeCommand('scholar.attachPdf', 'att-drift', vscode.Uri.file(src))) as AttachOutcome;
  assert.deepEqual(out, { key: 'att-drift', status: 'stored', verified: 'doi', file: src });
  assert.equal(sha(path.join(keyDir('att-drift'), 'paper.pdf')), sha(PDF('paper-a')));
  assert.ok(fs.existsSync(src) && sha(src) === sha(PDF('paper-a')), 'the picked file was moved or changed');
  const meta = readMetadata('att-drift');
  assert.equal(meta.pdf.verified, 'doi');
  assert.equal(meta.pdf.source, 'user');
  assert.equal(meta.provenance.pdf, 'user');
  await waitFor(() => /hasPdf/.test(String(entryNode(api, uri, 'att-drift').item.contextValue)), 10_000, 'the tree to show the PDF');
  // A file that is not a PDF: a clear error, nothing stored.
  const html = path.join(os.tmpdir(), `scholar-suite-${process.pid}-login.pdf`);
  fs.writeFileSync(html, '<!doctype html><html><body>Please sign in to your library</body></html>');
  const bad = (await vscode.commands.executeCommand('scholar.attachPdf', 'att-rates', vscode.Uri.file(html))) as AttachOutcome;
  assert.equal(bad.status, 'error');
  assert.equal(bad.status === 'error' && bad.code, 'E_NOT_PDF');
  assert.ok(!fs.existsSync(path.join(keyDir('att-rates'), 'paper.pdf')));

  // The hover on a cited key without a PDF links to Attach PDF… for that key (and only that command).
  const tex = await writeWorkspaceFile(api, 'pdfs/attach.tex', 'See \\cite{att-rates} and \\cite{att-drift}.\n');
  const doc = await vscode.workspace.openTextDocument(tex);
  const at = (k: string) => doc.positionAt(doc.getText().indexOf(k) + 2);
  const hoverOf = async (k: string) => {
    const hs = await waitFor(async () => {
      const h = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', tex, at(k))) ?? [];
      return h.length ? h : undefined;
    }, 10_000, `a hover on ${k}`);
    return hs.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : c.value)).join('\n');
  };
  const link = `command:scholar.attachPdf?${encodeURIComponent(JSON.stringify(['att-rates']))}`;
  assert.ok((await hoverOf('att-rates')).includes(`[Attach PDF…](${link}`), await hoverOf('att-rates'));
  assert.ok(!(await hoverOf('att-drift')).includes('command:scholar.attachPdf'), 'an entry with a PDF offers to attach one');
  fs.rmSync(tex.fsPath, { force: true });
});

test('pdfs: a PDF that names neither DOI nor title: by command, declined, nothing kept; dropped on a tree entry, kept, marked manual', async () => {
  const api = await scholarApi();
  const uri = vscode.Uri.file(path.join(workspaceRoot(), 'pdfs/attach.bib'));
  assert.ok(api.project.bibDoc(uri), 'pdfs/attach.bib is not loaded (run with the previous test)');
  // By command: Scholar asks; the default answer (Enter) keeps nothing.
  const pending = vscode.commands.executeCommand('scholar.attachPdf', 'att-rates', vscode.Uri.file(PDF('unrelated'))) as Thenable<AttachOutcome>;
  const q1 = await answer(api, false);
  assert.match(q1, /unrelated\.pdf names neither the DOI nor the title of att-rates/);
  const declined = await pending;
  assert.equal(declined.status, 'declined');
  assert.ok(!fs.existsSync(path.join(keyDir('att-rates'), 'paper.pdf')), 'a declined PDF was stored');

  // By drag and drop onto the tree entry: the same question; "keep it" stores it as verified "manual".
  const { node } = entryNode(api, uri, 'att-tolerant');
  const dt = new vscode.DataTransfer();
  dt.set('text/uri-list', new vscode.DataTransferItem(vscode.Uri.file(PDF('unrelated')).toString()));
  const cts = new vscode.CancellationTokenSource();
  const drop = api.treeDrop.handleDrop(node, dt, cts.token);
  const q2 = await answer(api, true);
  assert.match(q2, /names neither the DOI nor the title of att-tolerant/);
  await drop;
  assert.equal(api.treeDrop.lastDrop?.status, 'stored');
  assert.equal(api.treeDrop.lastDrop?.status === 'stored' && api.treeDrop.lastDrop.verified, 'manual');
  assert.equal(readMetadata('att-tolerant').pdf.verified, 'manual');
  assert.equal(sha(path.join(keyDir('att-tolerant'), 'paper.pdf')), sha(PDF('unrelated')));
  // A PDF that names the title, dropped: no question at all.
  const dt2 = new vscode.DataTransfer();
  dt2.set('text/uri-list', new vscode.DataTransferItem(`# a comment line, as some sources send\r\n${vscode.Uri.file(PDF('paper-c')).toString()}`));
  await api.treeDrop.handleDrop(entryNode(api, uri, 'att-rates').node, dt2, cts.token);
  assert.equal(api.treeDrop.lastDrop?.status === 'stored' && api.treeDrop.lastDrop.verified, 'title');
  // A fetch afterwards never replaces the user's decision.
  const replay = await startReplay();
  try {
    const summary = (await vscode.commands.executeCommand('scholar.retryEntry', 'att-tolerant')) as JobSummary | undefined;
    assert.ok(summary);
    assert.equal(summary.job.results.get('att-tolerant')?.outcome, 'already_stored');
    assert.equal(readMetadata('att-tolerant').pdf.verified, 'manual');
  } finally {
    await replay.dispose();
  }
});

test('pdfs: Open via Library opens the DOI page through the EZproxy template, under the DOI link base; Attach from Downloads picks the download that names the entry', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    // The proxy host is the replay server, so the browser tab VS Code opens stays on loopback.
    const proxy = `${replay.server.origin}/offline/ezproxy/login?url=$@`;
    const r1 = await withUserSettings({ institutionalProxy: proxy }, async () => (await vscode.commands.executeCommand('scholar.openViaLibrary', 'att-closed')) as OpenViaLibraryResult);
    assert.equal(r1.url, `${replay.server.origin}/offline/ezproxy/login?url=https://doi.org/${CLOSED}`);
    assert.equal(r1.opened, true);
    const r2 = await withUserSettings({ institutionalProxy: `${replay.server.origin}/offline/redirector/example.edu?url={url}`, doiLinkBase: 'https://dx.doi.org/' }, async () => (await vscode.commands.executeCommand('scholar.openViaLibrary', 'att-closed')) as OpenViaLibraryResult);
    assert.equal(r2.url, `${replay.server.origin}/offline/redirector/example.edu?url=${encodeURIComponent(`https://dx.doi.org/${CLOSED}`)}`);
    const none = (await vscode.commands.executeCommand('scholar.openViaLibrary', 'att-closed')) as OpenViaLibraryResult;
    assert.equal(none.opened, false);
    assert.match(String(none.reason), /institutionalProxy is not set/);
    // Then Attach from Downloads: of the recent PDFs there, only the one whose text names the entry.
    const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-suite-downloads-'));
    fs.copyFileSync(PDF('unrelated'), path.join(downloads, 'birds.pdf'));
    fs.copyFileSync(PDF('paper-b'), path.join(downloads, '1-s2.0-S0000000000000000-main.pdf'));
    const dl = (await vscode.commands.executeCommand('scholar.attachFromDownloads', 'att-download', vscode.Uri.file(downloads))) as { candidates: string[]; result?: AttachOutcome };
    assert.deepEqual(dl.candidates.map((f) => path.basename(f)), ['1-s2.0-S0000000000000000-main.pdf']);
    assert.equal(dl.result?.status, 'stored');
    assert.equal(dl.result?.status === 'stored' && dl.result.verified, 'title');
    assert.equal(readMetadata('att-download').pdf.source, 'downloads');
    assert.ok(api.pdfs, 'the API exposes the PDF commands');
  } finally {
    await replay.dispose();
  }
});

test('pdfs: a Zotero-format resolver finds the PDF of a closed-access entry on the replay server, counted as its own source', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    const resolvers = [{ name: 'Library HTML', method: 'GET', url: `${replay.server.origin}/resolver/html/{doi}`, mode: 'html', selector: 'div.result a#pdf-link', attribute: 'href', automatic: false }];
    const summary = await withUserSettings({ 'pdf.resolvers': resolvers }, async () => (await vscode.commands.executeCommand('scholar.retryEntry', 'att-closed')) as JobSummary | undefined);
    assert.ok(summary, 'no summary');
    const r = summary.job.results.get('att-closed');
    assert.equal(r?.outcome, 'stored', JSON.stringify(r));
    const meta = readMetadata('att-closed');
    assert.equal(meta.pdf.source, 'resolver:Library HTML');
    assert.equal(meta.pdf.sourceUrl, `${replay.server.origin}/pdf/${CLOSED}.pdf`);
    assert.equal(meta.pdf.verified, 'doi');
    assert.equal(replay.server.stats().requests.resolver, 1, 'the replay server saw one resolver request');
    const services = api.session.snapshot().services.map((s) => s.service);
    assert.ok(services.some((s) => s.startsWith('resolver Library HTML')), `dashboard services: ${services.join(', ')}`);
  } finally {
    await replay.dispose();
  }
  await removeWorkspaceFile(api, vscode.Uri.file(path.join(workspaceRoot(), 'pdfs/attach.bib')));
});

const IMPORT_BIB = `@article{imp-drift,
  title  = {Measuring Citation Drift in Long-Running Bibliographies},
  year   = {2019},
  doi    = {10.5555/scholar.fixture.0001},
}
@inproceedings{imp-tolerant,
  title  = {Tolerant Parsing of Hand-Written Reference Lists},
  year   = {2021},
}
@article{imp-rates,
  title  = {Rate Limits as Seen From the Server},
  year   = {2020},
  doi    = {10.5555/scholar.fixture.0003},
}
@book{imp-none,
  title = {A Book Nobody Has Scanned},
  year  = {2000},
}
`;

test('pdfs: Import PDFs from Zotero copies matched, verified PDFs, reports matched and unmatched, and leaves Zotero byte-identical', async () => {
  const api = await scholarApi();
  const uri = await writeWorkspaceFile(api, 'pdfs/import.bib', IMPORT_BIB);
  const zdir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-suite-zotero-'));
  const SQL = await loadSqlJs(path.join(repoRoot(), 'dist', 'sql-wasm.wasm'));
  buildZoteroDataDir(zdir, SQL, fs.readFileSync(path.join(fixturesDir(), 'zotero', 'userdata.sql'), 'utf8'), [
    { key: 'AB12CD34', title: 'Measuring citation drift in long-running bibliographies', date: '2019-00-00 2019', doi: '10.5555/scholar.fixture.0001', pdfs: [{ key: 'PDFA0001', from: PDF('paper-a'), name: 'Example - 2019.pdf' }] },
    { key: 'EF56GH78', title: 'Tolerant Parsing of Hand-Written Reference Lists', date: '2021-00-00 2021', pdfs: [{ key: 'PDFB0002', from: PDF('paper-b'), name: 'Person - 2021.pdf' }] },
    { key: 'QR78ST90', title: 'An Item Only Zotero Has', date: '2012-00-00 2012', pdfs: [{ key: 'PDFE0005', from: PDF('unrelated'), name: 'other.pdf' }] },
  ]);
  const before = treeDigest(zdir);
  const report = (await vscode.commands.executeCommand('scholar.importZotero', vscode.Uri.file(zdir))) as ImportReport;
  assert.ok(report, 'no report');
  assert.deepEqual(report.matched.map((m) => [m.key, m.by, m.status]).sort(), [
    ['imp-drift', 'doi', 'stored'],
    ['imp-tolerant', 'title', 'stored'],
  ]);
  assert.equal(report.counts.matched, 2);
  assert.equal(report.counts.unmatched, 1);
  assert.equal(report.unmatched[0]?.label, 'An Item Only Zotero Has');
  assert.deepEqual(report.withoutPdf.filter((k) => k.startsWith('imp-')).sort(), ['imp-none', 'imp-rates']);
  assert.equal(sha(path.join(keyDir('imp-drift'), 'paper.pdf')), sha(PDF('paper-a')));
  assert.equal(readMetadata('imp-tolerant').pdf.source, 'zotero');
  assert.deepEqual(treeDigest(zdir), before, 'the Zotero data directory changed');
  await waitFor(() => /hasPdf/.test(String(entryNode(api, uri, 'imp-drift').item.contextValue)), 10_000, 'the tree to show the imported PDF');
});

test('pdfs: Import PDFs from Folder matches files by their text and reports what matched nothing', async () => {
  const api = await scholarApi();
  const uri = vscode.Uri.file(path.join(workspaceRoot(), 'pdfs/import.bib'));
  assert.ok(api.project.bibDoc(uri), 'pdfs/import.bib is not loaded (run with the previous test)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-suite-folder-'));
  fs.copyFileSync(PDF('paper-c'), path.join(dir, '1-s2.0-S0010-main.pdf'));
  fs.copyFileSync(PDF('paper-a'), path.join(dir, 'again.pdf'));
  fs.copyFileSync(PDF('unrelated'), path.join(dir, 'birds.pdf'));
  const before = treeDigest(dir);
  const dry = (await vscode.commands.executeCommand('scholar.importFolder', vscode.Uri.file(dir), { dryRun: true })) as ImportReport;
  assert.deepEqual(dry.matched.map((m) => [m.key, m.status]).sort(), [['imp-drift', 'exists'], ['imp-rates', 'would_store']]);
  assert.ok(!fs.existsSync(path.join(keyDir('imp-rates'), 'paper.pdf')), 'a dry run stored a PDF');
  const report = (await vscode.commands.executeCommand('scholar.importFolder', vscode.Uri.file(dir))) as ImportReport;
  assert.deepEqual(report.matched.map((m) => [m.key, m.by, m.status]).sort(), [['imp-drift', 'doi', 'exists'], ['imp-rates', 'doi', 'stored']]);
  assert.equal(report.counts.stored, 1);
  assert.equal(report.counts.unmatched, 1);
  assert.equal(report.unmatched[0]?.label, 'birds.pdf');
  assert.equal(readMetadata('imp-rates').pdf.sourceUrl, 'file:1-s2.0-S0010-main.pdf');
  assert.deepEqual(treeDigest(dir), before, 'the source folder changed');
  await removeWorkspaceFile(api, uri);
});

test('pdfs: a fresh storage folder carries its .gitignore; with scholar.storage.gitignore off it does not', async () => {
  const api = await scholarApi();
  // The suite's storage folder was created by Scholar during this run (the workspace starts without one).
  assert.match(fs.readFileSync(path.join(storageRoot(), '.gitignore'), 'utf8'), /^\*$/m);
  const cfg = () => vscode.workspace.getConfiguration('scholar');
  const uri = await writeWorkspaceFile(api, 'pdfs/fresh.bib', '@article{fresh-drift,\n  title = {Measuring Citation Drift in Long-Running Bibliographies},\n  doi = {10.5555/scholar.fixture.0001},\n}\n');
  const tryFolder = async (folder: string, gitignore: boolean | undefined) => {
    await cfg().update('storageFolder', folder, vscode.ConfigurationTarget.Workspace);
    await cfg().update('storage.gitignore', gitignore, vscode.ConfigurationTarget.Workspace);
    await waitFor(() => cfg().get('storageFolder') === folder && cfg().get('storage.gitignore') === (gitignore ?? true), 10_000, 'settings');
    const root = path.join(workspaceRoot(), folder);
    assert.ok(!fs.existsSync(root));
    // Settings changes reopen the library; wait until the new folder is the one in use.
    const folderOf = api.session.folderFor()!;
    await waitFor(async () => (await api.session.config(folderOf)).storageRoot === root, 10_000, 'the new storage folder');
    await waitFor(async () => {
      const open = await api.session.openedLibrary(folderOf);
      return !open || open.root === root;
    }, 10_000, 'the library of the old folder to close');
    const out = (await vscode.commands.executeCommand('scholar.attachPdf', 'fresh-drift', vscode.Uri.file(PDF('paper-a')))) as AttachOutcome;
    assert.equal(out.status, 'stored', JSON.stringify(out));
    assert.ok(fs.existsSync(path.join(root, 'by_key', 'fresh-drift', 'paper.pdf')));
    return root;
  };
  try {
    const fresh = await tryFolder('storage-fresh', undefined);
    assert.match(fs.readFileSync(path.join(fresh, '.gitignore'), 'utf8'), /^\*$/m);
    const versioned = await tryFolder('storage-versioned', false);
    assert.ok(!fs.existsSync(path.join(versioned, '.gitignore')), 'scholar.storage.gitignore: false still wrote one');
  } finally {
    await cfg().update('storageFolder', undefined, vscode.ConfigurationTarget.Workspace);
    await cfg().update('storage.gitignore', undefined, vscode.ConfigurationTarget.Workspace);
    await removeWorkspaceFile(api, uri);
  }
});
