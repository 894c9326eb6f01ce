// Full text of stored PDFs: pdf.js in a worker, the identity check on that text, fulltext.txt by
// the single writer, the full-text column of the search. The PDFs are real: pdfTeX and LuaTeX
// output committed in test/fixtures/pdf (see its README for the tools and versions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { inspectPdf, verifyPdfText, type PdfVerdict } from '../../src/core/pdf/inspect';
import { PdfTextPool, sharedPdfTextPool } from '../../src/core/pdf/text';
import { joinTextItems } from '../../src/core/pdf/textItems';
import { StorageWriter } from '../../src/core/storage/writer';
import { LibraryIndex } from '../../src/core/index/library';
import { extractFulltext, extractMissingFulltext, keysMissingFulltext } from '../../src/core/fulltext/extract';
import { parseFulltext } from '../../src/core/storage/fulltext';
import { fulltextPath, pdfPath, storagePaths } from '../../src/core/storage/layout';
import { startupCleanup } from '../../src/core/storage/locks';
import { findTerm, foldSameLength, snippetOf } from '../../src/core/index/fullText';
import { listFilesDeep, tempStorage } from './storage-helpers';

const repo = path.resolve(__dirname, '../..');
const PDF = (n: string) => path.join(repo, 'test/fixtures/pdf', `${n}.pdf`);
const WASM = path.join(__dirname, 'sql-wasm.wasm');

/** What each real fixture is (test/fixtures/pdf/README.md), as a .bib entry would name it. */
const FIXTURES: { file: string; key: string; title: string; doi?: string; words: string[] }[] = [
  { file: 'paper-a', key: 'example2019measuring', title: 'Measuring Citation Drift in Long-Running Bibliographies', doi: '10.5555/scholar.fixture.0001', words: ['reproducibility'] },
  { file: 'paper-b', key: 'sample2020tolerant', title: 'Tolerant Parsing of Hand-Written Reference Lists', words: ['tolerant'] },
  { file: 'paper-c', key: 'server2021rate', title: 'Rate Limits as Seen From the Server', doi: '10.5555/scholar.fixture.0003', words: ['server'] },
  // LuaTeX, Latin Modern OpenType embedded as CID fonts (Identity-H + ToUnicode), two columns.
  { file: 'lua-twocol', key: 'tyler2021toward', title: 'Toward Efficient Offline Reference Matching', doi: '10.5555/scholar.fixture.0011', words: ['quixotic', 'marmalade', 'flywheel', 'fluffy', 'inverted', 'affinity'] },
  // LuaTeX with T1 Type 1 fonts (lmodern.sty): ligatures through the font's encoding.
  { file: 'lua-type1', key: 'waffleton2018stiff', title: 'Stiff Flows in Affine Office Networks', doi: '10.5555/scholar.fixture.0013', words: ['efficiency', 'shuffled', 'waffle', 'fire'] },
  // pdfTeX, T1 Times (Type 1), two columns, no DOI: only the title can verify it.
  { file: 'pdftex-twocol', key: 'toffoli2020wavefront', title: 'Wavefront Theory of Typed Yield Curves', words: ['incomprehensibilities', 'counterfactual', 'arbitrage', 'wavefront'] },
];

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

if (process.env.SCHOLAR_TEST_CHILD === 'fulltext-extract') {
  // Child mode (the crash test): extract the missing texts of a storage folder until killed.
  void (async () => {
    const root = process.argv[2]!;
    const index = await LibraryIndex.open(root, { wasmPath: WASM });
    const writer = await StorageWriter.open(root, { index });
    await extractMissingFulltext({ root, writer });
    await writer.close();
    process.exit(0);
  })();
} else {
  test('pdf.js reads the real fixtures as their pages show them: kerned words whole, ligatures as letters, hyphenated line ends joined, columns in order', async () => {
    const pool = new PdfTextPool();
    try {
      for (const f of FIXTURES) {
        const t = await pool.extract(PDF(f.file));
        assert.equal(t.pages, 1, f.file);
        assert.equal(t.sha256, sha(PDF(f.file)));
        const w = words(t.text);
        for (const word of [...f.title.toLowerCase().split(/[^a-z]+/).filter((x) => x.length > 3), ...f.words]) assert.ok(w.has(word), `${f.file}: "${word}" in ${JSON.stringify(t.text.slice(0, 300))}`);
        assert.doesNotMatch(t.text, /[\ufb00-\ufb06]/, `${f.file}: no ligature code points left`);
      }
      // Two columns: the left column (Introduction) comes before the right one (Results, Discussion).
      const two = (await pool.extract(PDF('lua-twocol'))).text;
      assert.ok(two.indexOf('Introduction') < two.indexOf('Results') && two.indexOf('Results') < two.indexOf('Discussion'));
      const pdftex = (await pool.extract(PDF('pdftex-twocol'))).text;
      assert.ok(pdftex.indexOf('Background') < pdftex.indexOf('Evidence'));
    } finally {
      await pool.close();
    }
  });

  test('joining text items: end-of-line hyphens between lower-case letters go, soft hyphens and ligature code points are resolved', () => {
    assert.equal(joinTextItems([{ str: 'an in-', hasEOL: true }, { str: 'verted \ufb01le', hasEOL: false }]), 'an inverted file');
    assert.equal(joinTextItems([{ str: 'AVAIL-', hasEOL: true }, { str: 'ABLE' }]), 'AVAIL-\nABLE');
    assert.equal(joinTextItems([{ str: 'co\u00adoperate' }]), 'cooperate');
  });

  test('no right PDF among the real fixtures is rejected as a mismatch; a wrong one still is', async () => {
    const verdicts = new Map<string, PdfVerdict>();
    const facts = new Map<string, Awaited<ReturnType<typeof inspectPdf>>>();
    for (const f of FIXTURES) facts.set(f.file, await inspectPdf(PDF(f.file)));
    for (const f of FIXTURES) {
      const fx = facts.get(f.file)!;
      assert.equal(fx.textFrom, 'pdfjs');
      const v = verifyPdfText(fx, { doi: f.doi, title: f.title });
      verdicts.set(f.file, v);
      assert.equal(v, f.doi ? 'doi' : 'title', `${f.file} against its own entry`);
      // The title alone verifies too (an entry without a DOI).
      assert.equal(verifyPdfText(fx, { title: f.title }), 'title', `${f.file} by title`);
    }
    // Every fixture against every other entry, and the unrelated paper against all of them.
    const unrelated = await inspectPdf(PDF('unrelated'));
    for (const f of FIXTURES) {
      assert.equal(verifyPdfText(unrelated, { doi: f.doi, title: f.title }), 'mismatch', `unrelated.pdf for ${f.key}`);
      for (const g of FIXTURES) if (g !== f) assert.equal(verifyPdfText(facts.get(g.file)!, { doi: f.doi, title: f.title }), 'mismatch', `${g.file} for ${f.key}`);
    }
  });

  test('the fallback reader (pdf.js could not read the file) can confirm a PDF but never condemns one', () => {
    const text = 'th eory of typed yield curves and other words to make this long enough';
    assert.equal(verifyPdfText({ size: 1, pages: 1, text, textFrom: 'raw' }, { title: 'Seasonal Patterns of Bird Song' }), 'unverified');
    assert.equal(verifyPdfText({ size: 1, pages: 1, text, textFrom: 'pdfjs' }, { title: 'Seasonal Patterns of Bird Song' }), 'mismatch');
    // A long word split by a missed kern is still found.
    assert.equal(verifyPdfText({ size: 1, pages: 1, text: 'wave front th eory of ty ped yield curves and more words here to be long', textFrom: 'raw' }, { title: 'Wavefront Theory of Typed Yield Curves' }), 'title');
  });

  test('a file pdf.js cannot parse is a clear E_PDF_TEXT; an aborted extraction replaces the worker and the next one works', async () => {
    const pool = new PdfTextPool();
    try {
      await assert.rejects(pool.extract(path.join(repo, 'README.md')), (e: { code?: string }) => e.code === 'E_PDF_TEXT');
      const ac = new AbortController();
      const p = pool.extract(PDF('lua-twocol'), { signal: ac.signal });
      ac.abort();
      await assert.rejects(p, (e: Error) => e.name === 'AbortError');
      const t = await pool.extract(PDF('lua-type1'));
      assert.match(t.text, /Stiff Flows/);
    } finally {
      await pool.close();
    }
  });

  async function storageWith(root: string, fixtures: typeof FIXTURES, index?: LibraryIndex): Promise<StorageWriter<LibraryIndex>> {
    const writer = await StorageWriter.open(root, { index, fsync: false });
    for (const f of fixtures) {
      const tmp = path.join(storagePaths(root).tmp, `${f.key}.pdf`);
      fs.copyFileSync(PDF(f.file), tmp);
      await writer.writeMetadata(f.key, { title: f.title, ...(f.doi ? { doi: f.doi } : {}) });
      await writer.commitPdf(f.key, tmp, { sourceUrl: 'file', source: 'entry', sha256: sha(PDF(f.file)), size: fs.statSync(PDF(f.file)).size, retrievedAt: new Date().toISOString(), verified: f.doi ? 'doi' : 'title' });
    }
    return writer;
  }

  test('texts are written beside the PDFs by the writer, searched with text: and bare words (lower weight), with snippets, and rebuilt from the folders', async () => {
    const s = tempStorage();
    try {
      const index = await LibraryIndex.createEmpty(s.root, { wasmPath: WASM });
      const writer = await storageWith(s.root, FIXTURES, index);
      assert.deepEqual((await keysMissingFulltext(s.root)).sort(), FIXTURES.map((f) => f.key).sort());
      const report = await extractMissingFulltext({ root: s.root, writer });
      assert.equal(report.stored, FIXTURES.length);
      assert.deepEqual(await keysMissingFulltext(s.root), []);
      const rec = parseFulltext(fs.readFileSync(fulltextPath(s.root, 'tyler2021toward'), 'utf8'))!;
      assert.equal(rec.sha256, sha(PDF('lua-twocol')));
      assert.match(rec.text, /quixotic, zephyr and marmalade/);

      const keys = (q: string) => index.search(q).map((h) => h.key);
      assert.deepEqual(keys('text:quixotic'), ['tyler2021toward']);
      assert.deepEqual(keys('text:"zephyr and marmalade"'), ['tyler2021toward']);
      assert.deepEqual(keys('text:"marmalade and zephyr"'), []);
      assert.deepEqual(keys('text:incompre'), ['toffoli2020wavefront'], 'text: words are prefixes');
      assert.deepEqual(keys('text:"inverted"'), ['tyler2021toward'], 'a word hyphenated at a line end is found whole');
      assert.deepEqual(keys('text:counterfactual year:..2019'), [], 'filters still apply');
      // A word only in metadata is not a text: hit.
      assert.deepEqual(keys('text:tyler'), ['tyler2021toward']);
      assert.deepEqual(keys('text:measuring'), ['example2019measuring']);
      // Bare words: full text at a lower weight than a title.
      assert.deepEqual(keys('marmalade'), ['tyler2021toward']);
      const offline = index.search('offline');
      assert.equal(offline[0]!.key, 'tyler2021toward', 'title hit first');
      const office = index.search('office').map((h) => h.key);
      assert.ok(office.includes('waffleton2018stiff') && office.includes('tyler2021toward'));
      assert.equal(office[0], 'waffleton2018stiff', '"Office" in a title outranks "office" in a text');

      const hit = index.search('text:"zephyr and marmalade"')[0]!;
      assert.equal(hit.snippet?.hit, 'zephyr and marmalade');
      assert.match(hit.snippet!.before, /quixotic, $/);
      assert.ok(hit.snippet!.before.length + hit.snippet!.after.length < 200);
      assert.equal(index.search('text:wavefr')[0]!.snippet?.hit.toLowerCase(), 'wavefront');

      // Rebuilt from the folders: a fresh index (no library.sqlite) finds the same.
      await writer.close();
      index.close();
      fs.rmSync(storagePaths(s.root).index, { force: true });
      const again = await LibraryIndex.open(s.root, { wasmPath: WASM });
      try {
        assert.equal(again.openedFrom, 'rebuilt');
        assert.ok(again.fullTextReady);
        assert.deepEqual(again.search('text:quixotic').map((h) => h.key), ['tyler2021toward']);
        fs.writeFileSync(storagePaths(s.root).index, again.exportBytes());
      } finally {
        again.close();
      }
      // Loaded from library.sqlite, the texts come from the folders once warmed.
      const loaded = await LibraryIndex.open(s.root, { wasmPath: WASM });
      try {
        assert.equal(loaded.openedFrom, 'file');
        await loaded.warmFullText();
        assert.deepEqual(loaded.search('text:arbitrage').map((h) => h.key), ['toffoli2020wavefront']);
      } finally {
        loaded.close();
      }
    } finally {
      s.cleanup();
    }
  });

  test('a replaced PDF makes its old text stale: dropped when the new PDF moves in, never loaded beside it, and refused if it arrives late', async () => {
    const s = tempStorage();
    try {
      const index = await LibraryIndex.createEmpty(s.root, { wasmPath: WASM });
      const writer = await storageWith(s.root, [FIXTURES[3]!], index);
      const key = FIXTURES[3]!.key;
      assert.equal(await extractFulltext({ root: s.root, writer }, key), 'stored');
      assert.deepEqual(index.search('text:quixotic').map((h) => h.key), [key]);
      // The text of the old PDF, extracted a moment before another PDF replaces it.
      const old = await sharedPdfTextPool().extract(pdfPath(s.root, key));
      const tmp = path.join(storagePaths(s.root).tmp, 'other.pdf');
      fs.copyFileSync(PDF('lua-type1'), tmp);
      await writer.commitPdf(key, tmp, { sourceUrl: 'file', source: 'entry', sha256: sha(PDF('lua-type1')), size: fs.statSync(PDF('lua-type1')).size, retrievedAt: new Date().toISOString(), verified: 'manual' });
      assert.equal(fs.existsSync(fulltextPath(s.root, key)), false, 'the old text went with the old PDF');
      assert.deepEqual(index.search('text:quixotic').map((h) => h.key), []);
      await assert.rejects(writer.writeFulltext(key, { sha256: old.sha256, pages: old.pages, truncated: false, text: old.text }), (e: { code?: string }) => e.code === 'E_FULLTEXT_STALE');
      assert.equal(fs.existsSync(fulltextPath(s.root, key)), false);
      // A stale file put back by hand is not loaded.
      fs.writeFileSync(fulltextPath(s.root, key), `scholar-fulltext 1 sha256=${old.sha256} pages=1 truncated=0\n${old.text}`);
      await writer.close();
      index.close();
      const reopened = await LibraryIndex.open(s.root, { wasmPath: WASM });
      try {
        await reopened.warmFullText();
        assert.deepEqual(reopened.search('text:quixotic').map((h) => h.key), []);
        assert.deepEqual(await keysMissingFulltext(s.root), [key]);
      } finally {
        reopened.close();
      }
    } finally {
      s.cleanup();
    }
  });

  test('a process killed mid-extraction leaves storage consistent: every text present is whole and matches its PDF, and a second run completes', async () => {
    const s = tempStorage();
    try {
      const many = Array.from({ length: 48 }, (_, i) => ({ ...FIXTURES[i % FIXTURES.length]!, key: `k${String(i).padStart(3, '0')}` }));
      const writer = await storageWith(s.root, many);
      await writer.close();
      const child = spawn(process.execPath, [__filename, s.root], { env: { ...process.env, SCHOLAR_TEST_CHILD: 'fulltext-extract', NODE_TEST_CONTEXT: '' }, stdio: 'ignore' });
      const exited = new Promise<void>((r) => child.on('close', () => r()));
      // Kill it once a few texts are written, while more are in flight.
      const written = () => many.filter((m) => fs.existsSync(fulltextPath(s.root, m.key))).length;
      for (let i = 0; i < 2000 && written() < 5; i++) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      await exited;
      const before = written();
      assert.ok(before >= 5 && before < many.length, `killed mid-way (${before} of ${many.length} written)`);
      for (const m of many) {
        const f = fulltextPath(s.root, m.key);
        if (!fs.existsSync(f)) continue;
        const rec = parseFulltext(fs.readFileSync(f, 'utf8'));
        assert.ok(rec, `${m.key}: a whole record`);
        assert.equal(rec!.sha256, sha(PDF(m.file)));
        assert.ok(rec!.text.includes(m.title.split(' ')[0]!), `${m.key}: its own text`);
      }
      // Leftovers are only the writer's temp files, which startup cleanup removes.
      await startupCleanup(s.root);
      const odd = listFilesDeep(path.join(s.root, 'by_key')).filter((f) => !/\/(metadata\.json|paper\.pdf|fulltext\.txt)$/.test(f));
      assert.deepEqual(odd, []);
      assert.equal((await keysMissingFulltext(s.root)).length, many.length - before);
      const index = await LibraryIndex.open(s.root, { wasmPath: WASM });
      const w2 = await StorageWriter.open(s.root, { index, fsync: false });
      const report = await extractMissingFulltext({ root: s.root, writer: w2 });
      assert.equal(report.stored, many.length - before);
      assert.deepEqual(await keysMissingFulltext(s.root), []);
      await w2.close();
      await index.warmFullText();
      assert.equal(index.search('text:quixotic', { limit: 1000 }).length, many.filter((m) => m.file === 'lua-twocol').length);
      index.close();
    } finally {
      s.cleanup();
    }
  });

  test('snippets: around the first hit, whole words, on one line, the same positions in text with diacritics', () => {
    const text = 'Line one.\nThe Café de Flore served crêpes. ' + 'filler '.repeat(60) + 'the end';
    const s = snippetOf(text, [{ tokens: ['crepes'], prefix: false }])!;
    assert.equal(s.hit, 'crêpes');
    assert.match(s.before, /Café de Flore served $/);
    assert.doesNotMatch(s.before + s.hit + s.after, /\n/);
    assert.ok(s.after.endsWith('…'));
    assert.equal(snippetOf(text, [{ tokens: ['flo'], prefix: false }]), undefined, 'a whole word, unless a prefix is asked for');
    assert.equal(snippetOf(text, [{ tokens: ['flo'], prefix: true }])!.hit, 'Flore');
  });

  test('finding a phrase in a text: word boundaries, any separators between the words, the last word a prefix only when asked', () => {
    const f = foldSameLength('The in-verted index; Zephyr and\nmarmalade. zephyrs and marmalades');
    assert.deepEqual(findTerm(f, ['zephyr', 'and', 'marmalade'], false), { at: 21, len: 20 });
    assert.equal(findTerm(f, ['verted'], false)?.at, 7);
    assert.equal(findTerm(f, ['vert'], false), undefined);
    assert.equal(findTerm(f, ['zephyrs', 'and', 'marmalade'], false), undefined);
    assert.deepEqual(findTerm(f, ['zephyrs', 'and', 'marmalade'], true), { at: 43, len: 22 });
    assert.equal(findTerm(f, ['and', 'zephyr'], false), undefined);
  });

  test.after(async () => {
    await sharedPdfTextPool().close();
  });
}
