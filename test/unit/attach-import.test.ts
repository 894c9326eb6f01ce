// Attach PDF, the storage .gitignore, Import from Zotero / Folder, Attach from Downloads: the core
// on real PDFs made by pdflatex (test/fixtures/pdf) and a Zotero data directory built from
// Zotero's published schema (test/fixtures/zotero/userdata.sql).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { Library } from '../../src/core/jobs/library';
import { attachPdf } from '../../src/core/attach/attach';
import { recentPdfsNaming } from '../../src/core/attach/downloads';
import { inspectPdf, verifyPdfText } from '../../src/core/pdf/inspect';
import { parseBib } from '../../src/core/bib/parse';
import { entryRef, EntryMatcher, type EntryRef } from '../../src/core/import/match';
import { importFromFolder, importFromZotero } from '../../src/core/import/run';
import { readZoteroLibrary } from '../../src/core/import/zotero';
import { loadSqlJs, LibraryIndex } from '../../src/core/index/library';
import { GITIGNORE_TEXT } from '../../src/core/storage/gitignore';
import { parseFulltext } from '../../src/core/storage/fulltext';
import { runCli } from '../../src/cli/main';
import { buildZoteroDataDir, treeDigest } from './zotero-fixture';
import { sink } from './cli-helpers';

const repo = path.resolve(__dirname, '../..');
const PDF = (n: string) => path.join(repo, 'test/fixtures/pdf', `${n}.pdf`);
const SCHEMA = fs.readFileSync(path.join(repo, 'test/fixtures/zotero/userdata.sql'), 'utf8');

const BIB = `@article{drift2019,
  author = {Example, Ada and Sample, Ben},
  title  = {Measuring Citation Drift in Long-Running Bibliographies},
  year   = {2019},
  doi    = {10.5555/scholar.fixture.0001},
}
@inproceedings{tolerant2021,
  author = {Person, Chloe},
  title  = {Tolerant Parsing of Hand-Written Reference Lists},
  year   = {2021},
}
@article{rates2020,
  author = {Writer, Dan},
  title  = {Rate Limits as Seen from the Server},
  year   = {2020},
  doi    = {10.5555/scholar.fixture.0003},
}
@article{skipped2018,
  title   = {Seasonal Patterns of Bird Song in Urban Parks},
  year    = {2018},
  scholar = {skip},
}
@book{nopdf2000,
  title = {A Book Nobody Has Scanned},
  year  = {2000},
}
`;

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-attach-'));
}

function refs(text = BIB, bibPath = '/p/refs.bib'): EntryRef[] {
  const file = parseBib(text);
  return file.entries.map((entry) => entryRef({ key: entry.key, entry, file, bibPath }));
}

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

async function openLib(root: string, gitignore?: boolean): Promise<Library> {
  return Library.open(root, { http: {}, fsync: false, saveIndexDelayMs: 10, gitignore });
}

test('pdflatex output is read: kerned words and ligatures are whole, the DOI and the title verify', async () => {
  const a = await inspectPdf(PDF('paper-a'));
  assert.match(a.text, /measuring citation drift in long running bibliographies/);
  assert.match(a.text, /\bfirst named\b/, 'the fi ligature comes out as "fi"');
  assert.equal(verifyPdfText(a, { doi: '10.5555/scholar.fixture.0001', title: 'Something else entirely here' }), 'doi');
  const b = await inspectPdf(PDF('paper-b'));
  assert.equal(verifyPdfText(b, { title: 'Tolerant Parsing of Hand-Written Reference Lists' }), 'title');
  const u = await inspectPdf(PDF('unrelated'));
  assert.equal(verifyPdfText(u, { doi: '10.5555/scholar.fixture.0001', title: 'Measuring Citation Drift in Long-Running Bibliographies' }), 'mismatch');
});

test('attach: a PDF naming the DOI is copied through the writer, verified, with its provenance; the original is untouched', async () => {
  const dir = tmp();
  const lib = await openLib(path.join(dir, 'storage'));
  try {
    const src = path.join(dir, 'download.pdf');
    fs.copyFileSync(PDF('paper-a'), src);
    const ref = refs().find((r) => r.key === 'drift2019')!;
    const r = await attachPdf(lib, ref, src, { source: 'user' });
    assert.equal(r.status, 'stored');
    const stored = path.join(dir, 'storage/by_key/drift2019/paper.pdf');
    assert.equal(sha(stored), sha(PDF('paper-a')));
    assert.ok(fs.existsSync(src), 'the user’s file was moved, not copied');
    assert.equal(sha(src), sha(PDF('paper-a')));
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'storage/by_key/drift2019/metadata.json'), 'utf8'));
    assert.equal(meta.pdf.verified, 'doi');
    assert.equal(meta.pdf.source, 'user');
    assert.equal(meta.pdf.sourceUrl, 'file:download.pdf');
    assert.equal(meta.pdf.sha256, sha(PDF('paper-a')));
    assert.equal(meta.provenance.pdf, 'user');
    assert.equal(meta.title, 'Measuring Citation Drift in Long-Running Bibliographies');
    assert.equal(lib.index.get('drift2019')?.pdf?.verified, 'doi');
    // Its text, for full-text search, through the same writer: tied to this PDF by its hash, in the index's column.
    assert.equal(r.status === 'stored' && r.fulltext, 'stored');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'storage/by_key/drift2019')).sort(), ['fulltext.txt', 'metadata.json', 'paper.pdf']);
    const text = parseFulltext(fs.readFileSync(path.join(dir, 'storage/by_key/drift2019/fulltext.txt'), 'utf8'))!;
    assert.equal(text.sha256, sha(PDF('paper-a')));
    assert.match(text.text, /reproducibility/i);
    assert.deepEqual(lib.index.search('text:reproducibility').map((h) => h.key), ['drift2019']);
    // A second attach does not replace it unless asked to.
    const again = await attachPdf(lib, ref, PDF('paper-c'), { source: 'user' });
    assert.deepEqual(again, { status: 'exists', verified: 'doi' });
    assert.equal(sha(stored), sha(PDF('paper-a')));
  } finally {
    await lib.close();
  }
});

test('attach: a PDF naming neither DOI nor title is not kept unless the user says so, and then it is marked manual', async () => {
  const dir = tmp();
  const lib = await openLib(path.join(dir, 'storage'));
  try {
    const ref = refs().find((r) => r.key === 'tolerant2021')!;
    const r = await attachPdf(lib, ref, PDF('unrelated'), { source: 'user' });
    assert.deepEqual(r, { status: 'mismatch', verdict: 'mismatch' });
    assert.ok(!fs.existsSync(path.join(dir, 'storage/by_key/tolerant2021/paper.pdf')));
    assert.equal(lib.index.get('tolerant2021'), undefined, 'a refused file left metadata behind');
    const kept = await attachPdf(lib, ref, PDF('unrelated'), { source: 'user', acceptMismatch: true });
    assert.equal(kept.status, 'stored');
    assert.equal(kept.status === 'stored' && kept.verified, 'manual');
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'storage/by_key/tolerant2021/metadata.json'), 'utf8'));
    assert.equal(meta.pdf.verified, 'manual');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'storage/by_key/tolerant2021')).sort(), ['fulltext.txt', 'metadata.json', 'paper.pdf']);
  } finally {
    await lib.close();
  }
});

test('attach: a file that is not a PDF gets a clear error and storage is unchanged', async () => {
  const dir = tmp();
  const lib = await openLib(path.join(dir, 'storage'));
  try {
    const html = path.join(dir, 'paper.pdf');
    fs.writeFileSync(html, '<!doctype html><html><head><title>Sign in to your library</title></head><body>Access denied</body></html>');
    await assert.rejects(attachPdf(lib, refs()[0]!, html, { source: 'user' }), (e: Error & { code?: string }) => e.code === 'E_NOT_PDF' && /HTML page/.test(e.message));
    await assert.rejects(attachPdf(lib, refs()[0]!, path.join(dir, 'missing.pdf'), { source: 'user' }), (e: Error & { code?: string }) => e.code === 'E_NOT_FOUND');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'storage/by_key')), []);
  } finally {
    await lib.close();
  }
});

test('a storage folder Scholar creates carries a .gitignore that ignores everything; an existing folder, or gitignore: false, gets none', async () => {
  const dir = tmp();
  await (await openLib(path.join(dir, 'fresh'))).close();
  assert.equal(fs.readFileSync(path.join(dir, 'fresh/.gitignore'), 'utf8'), GITIGNORE_TEXT);
  assert.match(GITIGNORE_TEXT, /^\*$/m);
  fs.mkdirSync(path.join(dir, 'existing'));
  await (await openLib(path.join(dir, 'existing'))).close();
  assert.ok(!fs.existsSync(path.join(dir, 'existing/.gitignore')), 'a folder the user already had got a .gitignore');
  await (await openLib(path.join(dir, 'versioned'), false)).close();
  assert.ok(fs.existsSync(path.join(dir, 'versioned/by_key')));
  assert.ok(!fs.existsSync(path.join(dir, 'versioned/.gitignore')));
  // Deleted by the user: never put back.
  fs.rmSync(path.join(dir, 'fresh/.gitignore'));
  await (await openLib(path.join(dir, 'fresh'))).close();
  assert.ok(!fs.existsSync(path.join(dir, 'fresh/.gitignore')));
});

test('matching: by DOI first, then exact title with a compatible year; same title twice matches neither', () => {
  const m = new EntryMatcher(refs());
  assert.deepEqual(pick(m.byMetadata({ doi: 'https://doi.org/10.5555/SCHOLAR.FIXTURE.0003', title: 'whatever' })), ['rates2020', 'doi']);
  assert.deepEqual(pick(m.byMetadata({ title: 'Tolerant parsing of hand-written reference lists', year: 2021 })), ['tolerant2021', 'title']);
  assert.equal(m.byMetadata({ title: 'Tolerant parsing of hand-written reference lists', year: 2015 }), undefined, 'a different year is another work');
  assert.equal(m.byMetadata({ title: 'Measuring Citation Drift in Long-Running Bibliographies', doi: '10.9999/other' }), undefined, 'a different DOI is another work');
  const twice = new EntryMatcher(refs(BIB + '@misc{dup, title = {Tolerant Parsing of Hand-Written Reference Lists}, year = {2021}}\n'));
  assert.deepEqual(twice.byMetadata({ title: 'Tolerant Parsing of Hand-Written Reference Lists', year: 2021 }), { ambiguous: ['tolerant2021', 'dup'] });
});

test('matching a bare PDF by its text: a DOI counts as a whole token, and a title printed as a phrase beats a shorter title whose words also occur', async () => {
  // DOIs that are prefixes of the one printed on the page (10.5555/scholar.fixture.000, …0001 is printed).
  const text = (await inspectPdf(PDF('paper-a'))).text;
  assert.equal(verifyPdfText({ size: 1, pages: 1, text, textFrom: 'pdfjs' }, { doi: '10.5555/scholar.fixture.000' }), 'mismatch');
  const bib = `@article{short, doi = {10.5555/scholar.fixture.000}, title = {x}}\n@article{full, doi = {10.5555/scholar.fixture.0001}, title = {y}}\n`;
  assert.deepEqual(pick(new EntryMatcher(refs(bib)).byText(text)), ['full', 'doi']);
  const titles = `@article{sub, title = {Measuring Citation Drift}}\n@article{whole, title = {Measuring Citation Drift in Long-Running Bibliographies}}\n`;
  assert.deepEqual(pick(new EntryMatcher(refs(titles)).byText(text)), ['whole', 'title']);
});

function pick(r: ReturnType<EntryMatcher['byMetadata']>): [string, string] | undefined {
  return r && 'ref' in r ? [r.ref.key, r.by] : undefined;
}

async function zoteroFixture(dir: string): Promise<string> {
  const SQL = await loadSqlJs(LibraryIndex.defaultWasmPath());
  const zdir = path.join(dir, 'Zotero');
  buildZoteroDataDir(zdir, SQL, SCHEMA, [
    // by DOI (the title differs in case and punctuation from the .bib's)
    { key: 'AB12CD34', title: 'Measuring citation drift in long-running bibliographies.', date: '2019-00-00 2019', doi: '10.5555/scholar.fixture.0001', pdfs: [{ key: 'PDFA0001', from: PDF('paper-a'), name: 'Example - 2019 - Measuring citation drift.pdf' }] },
    // by title and year (no DOI anywhere)
    { key: 'EF56GH78', title: 'Tolerant Parsing of Hand-Written Reference Lists', date: '2021-06-00 June 2021', pdfs: [{ key: 'PDFB0002', from: PDF('paper-b'), name: 'Person - 2021.pdf' }] },
    // DOI in Extra, as Zotero keeps it for item types without a DOI field; the file is a linked one
    { key: 'IJ90KL12', type: 'report', title: 'Rate limits as seen from the server', date: '2020-00-00 2020', extra: 'tex.ids: rates\nDOI: 10.5555/scholar.fixture.0003', pdfs: [{ key: 'PDFC0003', from: PDF('paper-c'), name: 'rates.pdf', linked: true }] },
    // matches the opted-out entry: reported, never copied
    { key: 'MN34OP56', title: 'Seasonal Patterns of Bird Song in Urban Parks', date: '2018-00-00 2018', pdfs: [{ key: 'PDFD0004', from: PDF('unrelated'), name: 'birds.pdf' }] },
    // in no .bib of the project
    { key: 'QR78ST90', title: 'An Item Only Zotero Has', date: '2012-00-00 2012', pdfs: [{ key: 'PDFE0005', from: PDF('unrelated'), name: 'other.pdf' }] },
    // matches an entry by title and year but its PDF is another paper: rejected, not copied
    { key: 'UV12WX34', title: 'A Book Nobody Has Scanned', date: '2000-00-00 2000', pdfs: [{ key: 'PDFF0006', from: PDF('unrelated'), name: 'wrong.pdf' }] },
    // in the trash: ignored
    { key: 'YZ56AB78', title: 'Tolerant Parsing of Hand-Written Reference Lists', date: '2021-00-00 2021', trashed: true, pdfs: [{ key: 'PDFG0007', from: PDF('unrelated'), name: 'trashed.pdf' }] },
  ]);
  return zdir;
}

test('Zotero: items, DOIs (field and Extra), years and PDF attachments are read from a copy of zotero.sqlite', async () => {
  const dir = tmp();
  const zdir = await zoteroFixture(dir);
  const before = treeDigest(zdir);
  const z = await readZoteroLibrary(zdir);
  const byKey = new Map(z.items.map((i) => [i.key, i]));
  assert.equal(byKey.get('AB12CD34')?.doi, '10.5555/scholar.fixture.0001');
  assert.equal(byKey.get('IJ90KL12')?.doi, '10.5555/scholar.fixture.0003');
  assert.equal(byKey.get('EF56GH78')?.year, 2021);
  assert.equal(byKey.get('AB12CD34')?.attachments[0]?.file, path.join(zdir, 'storage/PDFA0001/Example - 2019 - Measuring citation drift.pdf'));
  assert.equal(byKey.get('IJ90KL12')?.attachments[0]?.file, path.join(zdir, 'linked/rates.pdf'));
  assert.ok(!byKey.has('YZ56AB78'), 'a trashed item was read');
  assert.ok(!byKey.has('PDFA0001'), 'an attachment was read as an item');
  assert.deepEqual(treeDigest(zdir), before, 'the Zotero data directory changed');
  await assert.rejects(readZoteroLibrary(dir), (e: Error & { code?: string }) => e.code === 'E_NOT_ZOTERO');
});

test('Import from Zotero copies the verified PDFs of matched entries, reports the rest, and leaves Zotero byte-identical', async () => {
  const dir = tmp();
  const zdir = await zoteroFixture(dir);
  const before = treeDigest(zdir);
  const storage = path.join(dir, 'storage');
  const entries = refs();

  const dry = await importFromZotero(await readZoteroLibrary(zdir), entries, { dryRun: true, storageRoot: storage });
  assert.equal(dry.counts.stored, 3);
  assert.ok(!fs.existsSync(storage), 'a dry run created the storage folder');

  const lib = await openLib(storage);
  try {
    const r = await importFromZotero(await readZoteroLibrary(zdir), entries, { lib, storageRoot: storage });
    const byKey = Object.fromEntries(r.matched.map((m) => [m.key, m]));
    assert.deepEqual(
      Object.fromEntries(Object.entries(byKey).map(([k, m]) => [k, [m.by, m.status, m.verified ?? m.reason]])),
      {
        drift2019: ['doi', 'stored', 'doi'],
        tolerant2021: ['title', 'stored', 'title'],
        rates2020: ['doi', 'stored', 'doi'],
        nopdf2000: ['title', 'rejected', 'the PDF names neither the DOI nor the title of the entry'],
      },
    );
    assert.deepEqual(r.counts, { files: 6, matched: 4, stored: 3, exists: 0, rejected: 1, unmatched: 2 });
    assert.deepEqual(r.unmatched.map((u) => [u.label, /opts out/.test(u.reason) ? 'opt-out' : /no entry/.test(u.reason) ? 'none' : u.reason]).sort(), [
      ['An Item Only Zotero Has', 'none'],
      ['Seasonal Patterns of Bird Song in Urban Parks', 'opt-out'],
    ]);
    assert.deepEqual(r.withoutPdf, ['nopdf2000']);
    assert.equal(sha(path.join(storage, 'by_key/drift2019/paper.pdf')), sha(PDF('paper-a')));
    assert.equal(sha(path.join(storage, 'by_key/rates2020/paper.pdf')), sha(PDF('paper-c')));
    assert.ok(!fs.existsSync(path.join(storage, 'by_key/skipped2018')), 'an opted-out entry was touched');
    const meta = JSON.parse(fs.readFileSync(path.join(storage, 'by_key/tolerant2021/metadata.json'), 'utf8'));
    assert.equal(meta.pdf.source, 'zotero');
    assert.equal(meta.pdf.sourceUrl, 'zotero:PDFB0002/Person - 2021.pdf');
    // Run again: nothing is copied twice.
    const again = await importFromZotero(await readZoteroLibrary(zdir), entries, { lib, storageRoot: storage });
    assert.equal(again.counts.stored, 0);
    assert.equal(again.counts.exists, 3);
  } finally {
    await lib.close();
  }
  assert.deepEqual(treeDigest(zdir), before, 'the Zotero data directory changed');
});

test('Import from Folder matches files by the DOI or title in their text, whatever their names', async () => {
  const dir = tmp();
  const src = path.join(dir, 'papers');
  fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
  fs.copyFileSync(PDF('paper-a'), path.join(src, '1-s2.0-S0010-main.pdf'));
  fs.copyFileSync(PDF('paper-b'), path.join(src, 'sub', 'download (3).pdf'));
  fs.copyFileSync(PDF('unrelated'), path.join(src, 'birds.pdf'));
  fs.writeFileSync(path.join(src, 'broken.pdf'), '%PDF-1.5\nnot really');
  const before = treeDigest(src);
  const storage = path.join(dir, 'storage');
  const lib = await openLib(storage);
  try {
    const r = await importFromFolder(src, refs(), { lib, storageRoot: storage });
    assert.deepEqual(r.matched.map((m) => [m.key, m.by, m.status]).sort(), [
      ['drift2019', 'doi', 'stored'],
      ['tolerant2021', 'title', 'stored'],
    ]);
    assert.equal(r.counts.unmatched, 2);
    assert.deepEqual(r.unmatched.map((u) => u.label).sort(), ['birds.pdf', 'broken.pdf']);
    assert.match(r.unmatched.find((u) => u.label === 'broken.pdf')!.reason, /E_PDF_TRUNCATED|E_NOT_PDF/);
    assert.match(r.unmatched.find((u) => u.label === 'birds.pdf')!.reason, /opts out/, 'the bird paper is the opted-out entry’s');
    assert.equal(JSON.parse(fs.readFileSync(path.join(storage, 'by_key/tolerant2021/metadata.json'), 'utf8')).pdf.sourceUrl, `file:${path.join('sub', 'download (3).pdf')}`);
    // The imported PDFs' texts are extracted at the end of the import, by the same writer.
    for (const [key, pdf] of [['drift2019', 'paper-a'], ['tolerant2021', 'paper-b']] as const) {
      assert.equal(parseFulltext(fs.readFileSync(path.join(storage, `by_key/${key}/fulltext.txt`), 'utf8'))?.sha256, sha(PDF(pdf)), key);
    }
    assert.deepEqual(lib.index.search('text:tolerant').map((h) => h.key), ['tolerant2021']);
  } finally {
    await lib.close();
  }
  assert.deepEqual(treeDigest(src), before, 'the source folder changed');
});

test('Attach from Downloads lists only recent PDFs whose text names the entry, newest first', async () => {
  const dir = tmp();
  const now = Date.now();
  const put = (name: string, from: string, ageMs: number) => {
    const f = path.join(dir, name);
    fs.copyFileSync(from, f);
    fs.utimesSync(f, new Date(now - ageMs), new Date(now - ageMs));
  };
  put('main.pdf', PDF('paper-a'), 60_000);
  put('main (1).pdf', PDF('paper-a'), 5_000);
  put('old.pdf', PDF('paper-a'), 30 * 24 * 3600_000);
  put('birds.pdf', PDF('unrelated'), 1_000);
  fs.writeFileSync(path.join(dir, 'half.pdf.crdownload'), 'x');
  const found = await recentPdfsNaming(dir, { doi: '10.5555/scholar.fixture.0001', title: 'Measuring Citation Drift in Long-Running Bibliographies' }, { now });
  assert.deepEqual(found.map((f) => [path.basename(f.file), f.verdict]), [
    ['main (1).pdf', 'doi'],
    ['main.pdf', 'doi'],
  ]);
  assert.deepEqual(await recentPdfsNaming(path.join(dir, 'nope'), { title: 'x' }), []);
});


async function cli(cwd: string, ...args: string[]) {
  const out = sink();
  const err = sink();
  const code = await runCli(args, { stdout: out.stream, stderr: err.stream, cwd, env: {}, signal: new AbortController().signal });
  return { code, stdout: out.text(), stderr: err.text() };
}

test('CLI: scholar attach verifies, refuses a mismatch without --force, keeps it as manual with --force; --no-gitignore', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'refs.bib'), BIB);
  const ok = await cli(dir, 'attach', 'drift2019', PDF('paper-a'), '--json');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).verified, 'doi');
  assert.ok(fs.existsSync(path.join(dir, 'storage/.gitignore')));
  const no = await cli(dir, 'attach', 'tolerant2021', PDF('unrelated'));
  assert.equal(no.code, 1);
  assert.match(no.stderr, /names neither the DOI nor the title of tolerant2021.*--force/);
  assert.ok(!fs.existsSync(path.join(dir, 'storage/by_key/tolerant2021/paper.pdf')));
  const forced = await cli(dir, 'attach', 'tolerant2021', PDF('unrelated'), '--force', '--json');
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(forced.stdout).verified, 'manual');
  const skip = await cli(dir, 'attach', 'skipped2018', PDF('unrelated'), '--force');
  assert.equal(skip.code, 2);
  assert.match(skip.stderr, /opts out/);
  const missing = await cli(dir, 'attach', 'nosuchkey', PDF('paper-a'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no entry nosuchkey/);
  const other = await cli(dir, 'attach', 'drift2019', PDF('paper-a'), '--storage', 'lib2', '--no-gitignore');
  assert.equal(other.code, 0, other.stderr);
  assert.ok(fs.existsSync(path.join(dir, 'lib2/by_key/drift2019/paper.pdf')));
  assert.ok(!fs.existsSync(path.join(dir, 'lib2/.gitignore')));
});

test('CLI: scholar import zotero|folder with --dry-run and --json report matched and unmatched', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'refs.bib'), BIB);
  const zdir = await zoteroFixture(dir);
  const before = treeDigest(zdir);
  const dry = await cli(dir, 'import', 'zotero', zdir, '--dry-run', '--json');
  assert.equal(dry.code, 1, dry.stderr); // one matched item's PDF is another paper
  const d = JSON.parse(dry.stdout);
  assert.equal(d.dryRun, true);
  assert.equal(d.counts.stored, 3);
  assert.ok(d.matched.every((m: { status: string }) => m.status === 'would_store' || m.status === 'rejected'));
  assert.ok(!fs.existsSync(path.join(dir, 'storage')), 'a dry run created storage');
  const real = await cli(dir, 'import', 'zotero', 'Zotero');
  assert.equal(real.code, 1, real.stderr);
  assert.match(real.stderr, /import zotero: 3 stored, 0 already had a PDF, 1 rejected, 2 unmatched; 1 entries without a PDF/);
  assert.match(real.stdout, /^stored\tdrift2019\tdoi\t/m);
  assert.deepEqual(treeDigest(zdir), before);
  fs.mkdirSync(path.join(dir, 'inbox'));
  fs.copyFileSync(PDF('paper-c'), path.join(dir, 'inbox', 'x.pdf'));
  const folder = await cli(dir, 'import', 'folder', 'inbox', '--json');
  assert.equal(folder.code, 0, folder.stderr);
  const f = JSON.parse(folder.stdout);
  assert.deepEqual(f.matched.map((m: { key: string; status: string }) => [m.key, m.status]), [['rates2020', 'exists']]);
  const usage = await cli(dir, 'import', 'mendeley', 'x');
  assert.equal(usage.code, 2);
});
