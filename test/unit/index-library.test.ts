import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { LibraryIndex, parseQuery } from '../../src/core/index/library';
import { storagePaths } from '../../src/core/storage/layout';
import { emptyMetadata, type Metadata } from '../../src/core/storage/metadata';
import { StorageWriter } from '../../src/core/storage/writer';
import { tempStorage } from './storage-helpers';

function entry(key: string, fields: Partial<Metadata>): Metadata {
  return { ...emptyMetadata(key, '2024-01-01T00:00:00.000Z'), ...fields };
}

const PDF = {
  sourceUrl: 'https://x/y.pdf',
  source: 't',
  sha256: 'b'.repeat(64),
  size: 1,
  retrievedAt: '2024-01-01T00:00:00.000Z',
  verified: 'doi' as const,
};

const CORPUS: Metadata[] = [
  entry('vaswani2017', {
    title: 'Attention is all you need',
    authors: [{ family: 'Vaswani', given: 'Ashish' }, { family: 'Shazeer', given: 'Noam' }],
    year: 2017,
    venue: 'NeurIPS',
    doi: '10.5555/3295222.3295349',
    abstract: 'The dominant sequence transduction models are based on recurrent networks.',
    tags: ['ml', 'transformers'],
    pdf: PDF,
    match: { score: 0.99, outcome: 'accepted' },
  }),
  entry('Hochreiter1997', {
    title: 'Long short-term memory',
    authors: [{ family: 'Hochreiter' }, { family: 'Schmidhuber' }],
    year: 1997,
    venue: 'Neural Computation',
    abstract: 'Learning to store information over extended time intervals by recurrent backpropagation.',
    tags: ['ml'],
    match: { score: 0.5, outcome: 'review' },
  }),
  entry('muller2012', {
    title: 'A survey of attention in psychology',
    authors: [{ family: 'Müller', given: 'Jörg' }],
    year: 2012,
    abstract: 'Attention attention attention.',
    notices: [{ type: 'retraction', source: 'crossref' }],
  }),
  entry('smith2010', { title: 'Networks of graphs', authors: [{ family: 'Smith' }], year: 2010, tags: ['Graphs'] }),
  entry('nodate', { title: 'Untitled attention notes' }),
];

async function withIndex(fn: (idx: LibraryIndex, root: string) => Promise<void> | void): Promise<void> {
  const { root, cleanup } = tempStorage();
  const idx = await LibraryIndex.open(root);
  try {
    idx.upsertMany(CORPUS.map((meta) => ({ meta })));
    await fn(idx, root);
  } finally {
    idx.close();
    cleanup();
  }
}

const keys = (hits: { key: string }[]) => hits.map((h) => h.key);

test('sql.js has FTS4 and no FTS5 (measured for docs/decisions.md: search does not use either)', async () => {
  const { root, cleanup } = tempStorage();
  const idx = await LibraryIndex.createEmpty(root);
  try {
    const db = (idx as unknown as { db: { exec(s: string): unknown } }).db;
    assert.throws(() => db.exec('CREATE VIRTUAL TABLE f5 USING fts5(a)'), /no such module: fts5/);
  } finally {
    idx.close();
    cleanup();
  }
});

test('upsert, get, remove and stats', () =>
  withIndex((idx) => {
    assert.equal(idx.get('vaswani2017')?.title, 'Attention is all you need');
    assert.deepEqual(idx.stats(), {
      entries: 5,
      withPdf: 1,
      withDoi: 1,
      byDoiStatus: { accepted: 1, review: 1, unresolved: 3 },
      byPdfStatus: { doi: 1, none: 4 },
      jobs: 0,
    });
    idx.upsert({ ...CORPUS[0]!, title: 'Changed title' });
    assert.equal(idx.stats().entries, 5);
    assert.deepEqual(keys(idx.search('changed')), ['vaswani2017']);
    assert.deepEqual(keys(idx.search('need')), []);
    assert.equal(idx.remove('vaswani2017'), true);
    assert.equal(idx.remove('vaswani2017'), false);
    assert.equal(idx.get('vaswani2017'), undefined);
    assert.deepEqual(keys(idx.search('changed')), []);
  }));

test('free text is ranked: title hits above abstract hits; prefixes and diacritics match', () =>
  withIndex((idx) => {
    const hits = idx.search('attention');
    assert.deepEqual(new Set(keys(hits)), new Set(['vaswani2017', 'muller2012', 'nodate']));
    assert.ok(hits[0]!.score > 0);
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score >= hits[i]!.score);
    // "networks": in smith2010's title, in vaswani2017's abstract.
    assert.deepEqual(keys(idx.search('networks')), ['smith2010', 'vaswani2017']);
    assert.deepEqual(new Set(keys(idx.search('recurr'))), new Set(['vaswani2017', 'Hochreiter1997']));
    assert.deepEqual(keys(idx.search('muller')), ['muller2012']);
    assert.deepEqual(keys(idx.search('"short-term memory"')), ['Hochreiter1997']);
    assert.deepEqual(keys(idx.search('"memory short"')), []);
    assert.equal(idx.search('vaswani')[0]!.authors, 'Vaswani; Shazeer');
  }));

test('filters: author, year, ranges, tag, has, status, negation', () =>
  withIndex((idx) => {
    assert.deepEqual(keys(idx.search('author:vasw')), ['vaswani2017']);
    assert.deepEqual(keys(idx.search('author:Müller')), ['muller2012']);
    assert.deepEqual(keys(idx.search('author:schmid')), ['Hochreiter1997']);
    assert.deepEqual(keys(idx.search('year:2017')), ['vaswani2017']);
    assert.deepEqual(keys(idx.search('year:2010..2015')), ['muller2012', 'smith2010']);
    assert.deepEqual(keys(idx.search('year:..2000')), ['Hochreiter1997']);
    assert.deepEqual(keys(idx.search('year:2012..')), ['vaswani2017', 'muller2012']);
    assert.deepEqual(keys(idx.search('tag:ml')), ['vaswani2017', 'Hochreiter1997']);
    assert.deepEqual(keys(idx.search('tag:graphs')), ['smith2010']);
    assert.deepEqual(keys(idx.search('has:pdf')), ['vaswani2017']);
    assert.deepEqual(keys(idx.search('has:doi')), ['vaswani2017']);
    assert.equal(idx.search('-has:pdf').length, 4);
    assert.deepEqual(keys(idx.search('status:review')), ['Hochreiter1997']);
    assert.deepEqual(keys(idx.search('status:retracted')), ['muller2012']);
    assert.deepEqual(keys(idx.search('status:doi')), ['vaswani2017']);
    assert.deepEqual(keys(idx.search('attention year:..2015')), ['muller2012']);
    assert.deepEqual(keys(idx.search('attention -has:pdf tag:ml')), []);
    assert.deepEqual(keys(idx.search('venue:neural')), ['Hochreiter1997']);
    // No free text: newest first, undated last.
    assert.deepEqual(keys(idx.search('')), ['vaswani2017', 'muller2012', 'smith2010', 'Hochreiter1997', 'nodate']);
    assert.deepEqual(keys(idx.search('', { limit: 2, offset: 1 })), ['muller2012', 'smith2010']);
    assert.throws(() => idx.search('year:abc'), { code: 'E_BAD_QUERY' });
  }));

test('hostile query text cannot break the FTS syntax or the SQL', () =>
  withIndex((idx) => {
    for (const q of ['"', 'AND', 'OR NOT', '*', 'a" OR "b', "'; DROP TABLE entries; --", 'NEAR/3', '(', 'title:', 'author:%', 'author:_', '-']) {
      assert.doesNotThrow(() => idx.search(q), q);
    }
    assert.equal(idx.stats().entries, 5);
    assert.deepEqual(keys(idx.search('author:%')), []);
    assert.deepEqual(parseQuery('foo:bar').text, [
      { kind: 'prefix', token: 'foo' },
      { kind: 'prefix', token: 'bar' },
    ]);
  }));

test('export keeps the index usable (sql.js drops functions and statements on export)', () =>
  withIndex((idx) => {
    const before = idx.search('attention');
    const bytes = idx.exportBytes();
    assert.ok(bytes.byteLength > 0);
    assert.deepEqual(idx.search('attention'), before);
    idx.upsert(entry('after2020', { title: 'attention after export', year: 2020 }));
    assert.equal(idx.search('attention').length, 4);
  }));

test('the index rebuilt from folders equals the live index; a corrupt or missing file is rebuilt', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const live = await LibraryIndex.open(root);
    assert.equal(live.openedFrom, 'rebuilt');
    const w = await StorageWriter.open(root, { index: live, fsync: false });
    for (const m of CORPUS) {
      const { key, schemaVersion: _s, updatedAt: _u, ...rest } = m;
      await w.writeMetadata(key, rest);
    }
    await w.writeJobState({ id: 'j1', status: 'done' });
    await w.close();
    const fresh = await LibraryIndex.createEmpty(root);
    const report = await fresh.rebuildFromFolders();
    assert.deepEqual(report, { count: 5, errors: [] });
    assert.deepEqual(fresh.keys(), live.keys());
    for (const k of live.keys()) assert.deepEqual(fresh.get(k), live.get(k));
    for (const q of ['', 'attention', 'tag:ml', 'year:2000..2020 -has:pdf']) assert.deepEqual(fresh.search(q), live.search(q), q);
    fresh.close();
    live.close();

    const loaded = await LibraryIndex.open(root);
    assert.equal(loaded.openedFrom, 'file');
    assert.equal(loaded.getJob('j1')?.status, 'done');
    loaded.close();

    const file = storagePaths(root).index;
    for (const garbage of [Buffer.from('not a database at all'), Buffer.alloc(0), fs.readFileSync(file).subarray(0, 4096)]) {
      fs.writeFileSync(file, garbage);
      const re = await LibraryIndex.open(root);
      assert.equal(re.openedFrom, 'rebuilt');
      assert.match(re.rebuildReason ?? '', /invalid/);
      assert.equal(re.stats().entries, 5);
      re.close();
    }
    fs.rmSync(file);
    const missing = await LibraryIndex.open(root);
    assert.equal(missing.openedFrom, 'rebuilt');
    assert.equal(missing.rebuildReason, 'missing');
    missing.close();
  } finally {
    cleanup();
  }
});

test('rebuild reports bad folders without failing, and skips misplaced or foreign ones', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const w = await StorageWriter.open(root, { fsync: false });
    await w.writeMetadata('good', { title: 'ok' });
    await w.close();
    const byKey = storagePaths(root).byKey;
    fs.mkdirSync(`${byKey}/broken`);
    fs.writeFileSync(`${byKey}/broken/metadata.json`, '{');
    fs.mkdirSync(`${byKey}/misplaced`);
    fs.writeFileSync(`${byKey}/misplaced/metadata.json`, JSON.stringify(entry('other', {})));
    fs.mkdirSync(`${byKey}/downloading`);
    fs.mkdirSync(`${byKey}/.hidden`);
    const idx = await LibraryIndex.createEmpty(root);
    const r = await idx.rebuildFromFolders();
    assert.equal(r.count, 1);
    assert.deepEqual(r.errors.map((e) => e.folder).sort(), ['broken', 'misplaced']);
    idx.close();
  } finally {
    cleanup();
  }
});

test('opening a saved index reconciles entries written meanwhile by another process', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const idx = await LibraryIndex.open(root);
    const w = await StorageWriter.open(root, { index: idx, fsync: false });
    await w.writeMetadata('a', { title: 'alpha' });
    await w.writeMetadata('b', { title: 'beta' });
    await w.close();
    idx.close();
    // "Another process": a writer without this index.
    const other = await StorageWriter.open(root, { fsync: false });
    await other.writeMetadata('c', { title: 'gamma' });
    await other.writeMetadata('a', { title: 'alpha two' });
    await other.removeEntry('b');
    await other.close();
    const again = await LibraryIndex.open(root);
    assert.equal(again.openedFrom, 'file');
    assert.deepEqual(again.keys(), ['a', 'c']);
    assert.equal(again.get('a')?.title, 'alpha two');
    again.close();
  } finally {
    cleanup();
  }
});
