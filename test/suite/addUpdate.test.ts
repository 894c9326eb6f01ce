// Add Entry and Update Entries from DOI in a real VS Code against the replay server: entries added
// from a DOI, an arXiv id and a publisher landing page into .bib files of several styles (the
// fixture files), written in each file's dialect and layout, with one undo restoring the file byte
// for byte; duplicates and malformed ids reported; the quick fix on an undefined \cite; Update
// proposing only the wrong or missing fields, shown against a virtual document, applied per field,
// a field kept by the user never proposed again, protected entries untouched, notices re-read.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, waitFor, workspaceRoot } from './util';
import { bibEntry, closeAllEditors, fixturesDir, record, scholarApi, startReplay, storageRoot, writeWorkspaceFile } from './scholar';
import { metadataPath } from '../../src/core/storage/layout';
import { parseBib } from '../../src/core/bib/parse';
import { normalizeForMatch } from '../../src/core/bib/latex';
import type { AddEntrySummary } from '../../src/host/commands/addEntry';
import type { UpdateSummary } from '../../src/host/commands/updateEntries';

/**
 * Creates a .bib through VS Code's own file service, so the editor knows the file before opening it.
 * (Written from outside with repeated writes, as writeWorkspaceFile does, a large file was once seen
 * as deleted at the moment of saving: "Unable to resolve nonexistent file".) Falls back to
 * writeWorkspaceFile when the project model has not seen the file after a few seconds.
 */
async function createBib(api: Awaited<ReturnType<typeof scholarApi>>, rel: string, bytes: Uint8Array): Promise<vscode.Uri> {
  const uri = vscode.Uri.file(path.join(workspaceRoot(), rel));
  await vscode.workspace.fs.writeFile(uri, bytes);
  const text = Buffer.from(bytes).toString('utf8');
  const seen = await waitFor(() => api.project.bibDoc(uri)?.file.text === text, 5_000, rel).then(() => true, () => false);
  return seen ? uri : writeWorkspaceFile(api, rel, text);
}

/**
 * Saves until the disk holds `bytes`. Under load (load average 10–18 on two cores), code-server was
 * seen to leave a document dirty after a save right after an undo; the save is repeated, as a user
 * would. The assertion that follows still checks the bytes.
 */
async function saveUntilOnDisk(doc: vscode.TextDocument, bytes: Buffer): Promise<void> {
  await waitFor(async () => {
    if (doc.isDirty) await doc.save();
    return fs.readFileSync(doc.uri.fsPath).equals(bytes);
  }, 10_000, `${path.basename(doc.uri.fsPath)} on disk to be the restored text`).catch(() => undefined);
}

const DOI = '10.1007/s10468-019-09889-1';
const LANDING_DOI = '10.1001/archderm.100.3.373';
const ARXIV = { id: '2401.09999', doi: '10.5555/replay.preprint.2401.09999', title: 'Heat-bath walks on lattice points of polytopes', authors: [{ family: 'Windisch', given: 'Tobias' }, { family: 'Stanley', given: 'Caprice' }], year: 2024 };

const STYLES = [
  { file: 'biblatex-examples.bib', check: (e: ReturnType<typeof parseBib>['entries'][number]) => assert.ok(e.fields.has('journaltitle') && e.fields.has('date') && !e.fields.has('journal') && !e.fields.has('year'), 'BibLaTeX: journaltitle and date') },
  { file: 'jabref-complex.bib', check: (e: ReturnType<typeof parseBib>['entries'][number]) => assert.ok(e.fields.has('journal') && e.fields.has('year'), 'BibTeX: journal and year') },
  {
    file: 'thesis-sharkdp-all.bib',
    check: (e: ReturnType<typeof parseBib>['entries'][number]) => {
      assert.match(e.fields.get('title')!.raw, /^\{\{.*\}\}$/s, 'Mendeley: titles in double braces');
      const names = [...e.fields.keys()];
      assert.deepEqual(names, [...names].sort(), 'Mendeley: fields in alphabetical order');
    },
  },
  { file: 'bbt-issue873-ai-bibliography.bib', check: (e: ReturnType<typeof parseBib>['entries'][number]) => assert.ok(e.fields.has('journal'), 'BibTeX: journal') },
];

test('add: a DOI, an arXiv id and a landing-page URL are added to .bib files of four styles as one undoable edit each', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  replay.server.addWorks([{ ...ARXIV, arxivId: ARXIV.id, type: 'posted-content' }]);
  const made: string[] = [];
  try {
    for (const style of STYLES) {
      const original = fs.readFileSync(path.join(fixturesDir(), 'bib', style.file));
      const rel = `add/${style.file}`;
      made.push(rel);
      const uri = await createBib(api, rel, original);
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      const before = parseBib(doc.getText()).entries.length;
      const ids = `${DOI}\narXiv:${ARXIV.id}\n${replay.server.origin}/landing/${LANDING_DOI}`;
      const s = (await vscode.commands.executeCommand('scholar.addEntry', { ids, target: uri })) as AddEntrySummary | undefined;
      assert.ok(s, 'scholar.addEntry returned nothing (see the Scholar log)');
      assert.deepEqual(s.results.map((r) => r.outcome), ['added', 'added', 'added'], JSON.stringify(s.results));
      const text = doc.getText();
      // Only an insertion at the end: every byte before it is the file's.
      assert.ok(text.startsWith(original.toString('utf8').replace(/\n+$/, '')), `${style.file}: the text before the new entries changed`);
      const after = parseBib(text);
      assert.equal(after.entries.length, before + 3);
      assert.equal(after.errors.filter((e) => e.severity === 'error').length, parseBib(original.toString('utf8')).errors.filter((e) => e.severity === 'error').length, 'no new parse error');
      const byKey = new Map(after.entries.map((e) => [e.key, e]));
      const [a, b, c] = s.results.map((r) => byKey.get(r.key!)!);
      assert.equal(normalizeForMatch(a.fields.get('title')!.value), normalizeForMatch(record(DOI).title[0]));
      assert.equal(a.fields.get('doi')!.value.toLowerCase(), DOI);
      assert.match(s.results[0].key!, /^chirvasitu2019Integrals/, 'key pattern [auth:lower][year][shorttitle]');
      style.check(a);
      assert.equal(normalizeForMatch(b.fields.get('title')!.value), normalizeForMatch(ARXIV.title));
      assert.equal(b.fields.get('eprint')!.value, ARXIV.id);
      assert.equal(c.fields.get('doi')!.value.toLowerCase(), LANDING_DOI);
      assert.equal(doc.isDirty, false, 'a clean document is saved after the edit');

      // Again: every id is now a duplicate (shown with its key); a malformed one is reported.
      const again = (await vscode.commands.executeCommand('scholar.addEntry', { ids: `${ids}\nnot-a-doi`, target: uri })) as AddEntrySummary;
      assert.deepEqual(again.results.map((r) => r.outcome), ['duplicate', 'duplicate', 'duplicate', 'invalid']);
      assert.deepEqual(again.results.slice(0, 3).map((r) => r.existingKey), s.results.map((r) => r.key));
      assert.equal(doc.getText(), text, 'nothing written for duplicates');

      // One undo takes the three entries away; the file is then byte for byte what it was.
      await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('undo');
      await waitFor(() => doc.getText() === original.toString('utf8'), 5_000, `undo to restore ${style.file}`);
      await saveUntilOnDisk(doc, original);
      assert.ok(fs.readFileSync(uri.fsPath).equals(original), `${style.file}: not byte-identical after undo`);
      await closeAllEditors();
    }
    // metadata.json of an added entry: where each value came from.
    const meta = JSON.parse(fs.readFileSync(metadataPath(storageRoot(), 'weiner1969Neurofibromatosis'), 'utf8'));
    assert.equal(meta.doi, LANDING_DOI);
    assert.equal(meta.provenance.title, 'crossref');
  } finally {
    await closeAllEditors();
    for (const rel of made) fs.rmSync(path.join(workspaceRoot(), rel), { force: true });
    await replay.dispose();
  }
}, { timeoutMs: 180_000 });

test('add: the quick fix on an undefined \\cite adds the entry under the cited key, or replaces a DOI typed as a key by the new key', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    const bib = await writeWorkspaceFile(api, 'addfix/refs.bib', '@article{other2020,\n  author = {Other, Ann},\n  title  = {Something else entirely},\n  year   = {2020},\n}\n');
    const tex = await writeWorkspaceFile(api, 'addfix/paper.tex', `See \\cite{weiner1969} and \\cite{${DOI}}.\n`);
    const doc = await vscode.workspace.openTextDocument(tex);
    const diags = await waitFor(() => {
      const d = vscode.languages.getDiagnostics(tex).filter((x) => x.code === 'W_UNDEFINED_CITATION');
      return d.length === 2 ? d : undefined;
    }, 15_000, 'two undefined-citation warnings');
    const actionsAt = async (d: vscode.Diagnostic) => (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', tex, d.range)) ?? [];
    const byKey = (k: string) => diags.find((d) => doc.getText(d.range) === k)!;
    // A plain key: the fix asks for the identifier and gives the new entry the cited key.
    const fix1 = (await actionsAt(byKey('weiner1969'))).find((a) => /^Add entry 'weiner1969' from DOI/.test(a.title));
    assert.ok(fix1?.command, 'no "Add entry from DOI" quick fix on weiner1969');
    const s1 = (await vscode.commands.executeCommand(fix1.command.command, { ...(fix1.command.arguments![0] as object), ids: LANDING_DOI, target: bib })) as AddEntrySummary;
    assert.deepEqual(s1.results.map((r) => [r.outcome, r.key]), [['added', 'weiner1969']]);
    // A DOI typed as a key: the fix adds it and cites the new key instead.
    const fix2 = (await actionsAt(byKey(DOI))).find((a) => a.title.startsWith(`Add ${DOI}`));
    assert.ok(fix2?.command, 'no "Add <DOI> and cite its new key" quick fix');
    const s2 = (await vscode.commands.executeCommand(fix2.command.command, { ...(fix2.command.arguments![0] as object), target: bib })) as AddEntrySummary;
    assert.equal(s2.results[0].outcome, 'added');
    await waitFor(() => doc.getText() === `See \\cite{weiner1969} and \\cite{${s2.results[0].key}}.\n`, 5_000, 'the DOI in \\cite replaced by the new key');
    await waitFor(() => vscode.languages.getDiagnostics(tex).filter((x) => x.code === 'W_UNDEFINED_CITATION').length === 0, 15_000, 'no undefined citation left');
  } finally {
    await closeAllEditors();
    fs.rmSync(path.join(workspaceRoot(), 'addfix'), { recursive: true, force: true });
    await replay.dispose();
  }
}, { timeoutMs: 120_000 });

// Corpus works written with their DOI and seeded errors.
const UP = {
  wrongVolume: '10.1007/s10827-016-0622-8',
  wrongYear: '10.1007/s12080-013-0192-6',
  protected: '10.1007/s00382-019-04712-5',
  notice: '10.1371/journal.pbio.0050002',
};

test('update: only the wrong and missing fields are proposed against a virtual document, accepted per field, a kept field is remembered, protected entries and everything else stay byte for byte', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    const rv = record(UP.wrongVolume);
    const ry = record(UP.wrongYear);
    const rp = record(UP.protected);
    const e1 = bibEntry('upd-volume', rv, { doi: true })
      .replace(`= {${rv.volume}},`, `= {${Number(rv.volume) + 7}},`)
      .replace(/\n\s*pages\s*=.*\n/, '\n');
    const e2 = bibEntry('upd-year', ry, { doi: true }).replace(/(year\s*= \{)(\d{4})/, (_m, a, y) => `${a}${Number(y) - 5}`).replace(`= {${ry.volume}},`, `= {${Number(ry.volume) + 1}},`);
    const e3 = bibEntry('upd-protected', rp, { doi: true, extra: { scholar: 'skip' } }).replace(`= {${rp.volume}},`, `= {999},`);
    const e4 = bibEntry('upd-notice', record(UP.notice), { doi: true });
    const original = `% seeded errors\n\n${e1}\n${e2}\n${e3}\n${e4}`;
    const uri = await createBib(api, 'update/update.bib', Buffer.from(original));
    const tex = await writeWorkspaceFile(api, 'update/update.tex', 'See \\cite{upd-notice}.\n');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);

    // The code lens offers the command on each entry with a DOI, protected ones excepted.
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
    const lensKeys = lenses.filter((l) => l.command?.command === 'scholar.updateEntries').map((l) => (l.command!.arguments![0] as { keys: string[] }).keys[0]);
    assert.deepEqual(lensKeys.sort(), ['upd-notice', 'upd-volume', 'upd-year']);

    // Accept upd-volume entirely, and only the year of upd-year (its volume is kept).
    const s = (await vscode.commands.executeCommand('scholar.updateEntries', { uri, accept: ['upd-volume', 'upd-year.year'] })) as UpdateSummary;
    assert.ok(s, 'scholar.updateEntries returned nothing');
    const got = s.proposals.map((p) => `${p.key}.${p.field}=${p.new}`).sort();
    const year = (r: Record<string, any>) => r.issued['date-parts'][0][0]; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(got, [`upd-volume.pages=${String(rv.page).replace('-', '--')}`, `upd-volume.volume=${rv.volume}`, `upd-year.volume=${ry.volume}`, `upd-year.year=${year(ry)}`].sort(), JSON.stringify(s.proposals));
    assert.equal(s.entries.find((e) => e.key === 'upd-protected')?.outcome, 'skipped');
    assert.equal(s.entries.find((e) => e.key === 'upd-notice')?.outcome, 'unchanged');
    // The review's right side: the .bib with every proposal applied.
    const proposed = await vscode.workspace.openTextDocument(vscode.Uri.parse(s.proposedUri!));
    const proposedLines = proposed.getText().split('\n');
    const origLines = new Set(original.split('\n'));
    assert.deepEqual(proposedLines.filter((l) => !origLines.has(l)).map((l) => l.trim().split(/\s*=/)[0]).sort(), ['pages', 'volume', 'volume', 'year'], 'the proposed text differs only in the proposed fields\u2019 lines');

    // Applied: exactly the accepted fields' lines differ; the protected entry is untouched.
    assert.deepEqual(s.applied.map((p) => `${p.key}.${p.field}`).sort(), ['upd-volume.pages', 'upd-volume.volume', 'upd-year.year']);
    const after = doc.getText();
    const changed = after.split('\n').filter((l) => !origLines.has(l));
    assert.deepEqual(changed.map((l) => l.trim().split(/\s*=/)[0]).sort(), ['pages', 'volume', 'year']);
    assert.equal(original.split('\n').filter((l) => !new Set(after.split('\n')).has(l)).length, 2, 'two old lines replaced (volume, year); pages added');
    assert.ok(after.includes(e3), 'the protected entry changed');
    assert.ok(after.includes(`= {${Number(ry.volume) + 1}},`), 'the kept volume changed');

    // Provenance: the accepted values came from Crossref, the kept one from the user.
    const metaYear = JSON.parse(fs.readFileSync(metadataPath(storageRoot(), 'upd-year'), 'utf8'));
    assert.equal(metaYear.provenance['bib.year'], 'crossref');
    assert.equal(metaYear.provenance['bib.volume'], 'user');
    // The notice of upd-notice was read with its record and shows at the citation.
    const diag = await waitFor(() => vscode.languages.getDiagnostics(tex).find((d) => d.code === 'I_CORRECTED'), 15_000, 'an I_CORRECTED diagnostic on \\cite{upd-notice}');
    assert.match(diag.message, /correction notice/);

    // Again: nothing left to propose (the kept volume is remembered).
    const again = (await vscode.commands.executeCommand('scholar.updateEntries', { uri, accept: 'all' })) as UpdateSummary;
    assert.deepEqual(again.proposals, [], JSON.stringify(again.proposals));

    // One undo restores the file byte for byte.
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('undo');
    await waitFor(() => doc.getText() === original, 5_000, 'undo to restore the original text');
    await saveUntilOnDisk(doc, Buffer.from(original));
    assert.equal(fs.readFileSync(uri.fsPath, 'utf8'), original);
  } finally {
    await closeAllEditors();
    fs.rmSync(path.join(workspaceRoot(), 'update'), { recursive: true, force: true });
    await replay.dispose();
  }
}, { timeoutMs: 120_000 });
