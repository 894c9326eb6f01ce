// The in-memory search side of the library index (src/core/index/textSearch.ts): its ranking is
// checked against a direct BM25 computation over the raw entries, and its incremental upkeep
// (log, merges, dead slots, background build with writes in between) against a fresh build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { LibraryIndex } from '../../src/core/index/library';
import { tokenize } from '../../src/core/index/textSearch';
import { storagePaths } from '../../src/core/storage/layout';
import { emptyMetadata, type Metadata } from '../../src/core/storage/metadata';
import { tempStorage } from './storage-helpers';

const WORDS = ['graph', 'graphene', 'grammar', 'neural', 'network', 'networks', 'learning', 'least', 'lattice', 'model', 'modal', 'müller', 'entropy', 'energy', 'quantum', 'quality'];
const FAMILIES = ['Smith', 'Smythe', 'Müller', 'Mueller', 'van der Berg', 'Okafor', 'Nguyen'];

function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

function corpus(n: number, seed: number, keyPrefix = 'k'): Metadata[] {
  const r = rng(seed);
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)]!;
  const words = (k: number) => Array.from({ length: k }, () => pick(WORDS)).join(' ');
  return Array.from({ length: n }, (_, i) => ({
    ...emptyMetadata(`${keyPrefix}${i}`, '2024-01-01T00:00:00.000Z'),
    title: r() < 0.95 ? words(2 + Math.floor(r() * 6)) : undefined,
    authors: Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({ family: pick(FAMILIES) })),
    year: r() < 0.9 ? 1990 + Math.floor(r() * 30) : undefined,
    venue: r() < 0.7 ? `Journal of ${pick(WORDS)}` : undefined,
    abstract: r() < 0.6 ? words(10 + Math.floor(r() * 30)) : undefined,
    tags: r() < 0.3 ? [pick(['ml', 'physics', 'toread'])] : undefined,
  }));
}

/** BM25 written out directly over the entries' text: the oracle for the index's ranking. */
function referenceSearch(metas: Metadata[], terms: { kind: 'prefix' | 'word' | 'phrase'; tokens: string[] }[]): { key: string; score: number }[] {
  const docs = metas.map((m) => ({
    m,
    cols: [m.title, (m.authors ?? []).map((a) => (a.given ? `${a.given} ${a.family}` : a.family)).join('; '), m.abstract, m.venue].map((t) => tokenize(t ?? '')),
  }));
  const N = docs.length;
  const avg = [0, 1, 2, 3].map((c) => docs.reduce((s, d) => s + d.cols[c]!.length, 0) / N || 1);
  const W = [3, 2, 1, 1];
  const tfOf = (toks: string[], t: (typeof terms)[number]) => {
    let n = 0;
    for (let i = 0; i < toks.length; i++) {
      if (t.kind === 'prefix') n += toks[i]!.startsWith(t.tokens[0]!) ? 1 : 0;
      else if (t.tokens.every((w, j) => toks[i + j] === w)) n++;
    }
    return n;
  };
  const scores = new Map<Metadata, number>();
  let matching = docs;
  for (const t of terms) {
    const tf = docs.map((d) => d.cols.map((toks) => tfOf(toks, t)));
    const df = [0, 1, 2, 3].map((c) => tf.filter((x) => x[c]! > 0).length);
    const idf = df.map((d) => Math.max(1e-6, Math.log((N - d + 0.5) / (d + 0.5))));
    const next: typeof docs = [];
    docs.forEach((d, i) => {
      if (!matching.includes(d) || tf[i]!.every((x) => x === 0)) return;
      let s = 0;
      for (let c = 0; c < 4; c++) {
        const f = tf[i]![c]!;
        if (f) s += W[c]! * idf[c]! * ((f * (1.2 + 1)) / (f + 1.2 * (1 - 0.75 + (0.75 * d.cols[c]!.length) / avg[c]!)));
      }
      scores.set(d.m, (scores.get(d.m) ?? 0) + s);
      next.push(d);
    });
    matching = next;
  }
  return matching
    .map((d) => ({ key: d.m.key, score: scores.get(d.m)!, year: d.m.year ?? -Infinity }))
    .sort((a, b) => b.score - a.score || b.year - a.year || (a.key < b.key ? -1 : 1))
    .map(({ key, score }) => ({ key, score }));
}

async function withIndex(metas: Metadata[], fn: (idx: LibraryIndex, root: string) => Promise<void>): Promise<void> {
  const { root, cleanup } = tempStorage();
  const idx = await LibraryIndex.createEmpty(root);
  try {
    idx.upsertMany(metas.map((meta) => ({ meta })));
    await fn(idx, root);
  } finally {
    idx.close();
    cleanup();
  }
}

/** The index as a fresh process would see it: saved to its file and opened again. */
async function reopened(idx: LibraryIndex, root: string): Promise<LibraryIndex> {
  fs.writeFileSync(storagePaths(root).index, idx.exportBytes());
  const fresh = await LibraryIndex.open(root, { reconcile: false });
  assert.equal(fresh.openedFrom, 'file');
  assert.equal(fresh.searchReady, false);
  return fresh;
}

const QUERIES = ['', 'gra', 'graph', 'net lea', 'mod', '"neural network"', '"graph"', 'müller', 'mueller', 'van', 'smi year:2000..2010', 'author:smi', 'author:van', '-author:smith', 'tag:ml -has:pdf', 'venue:qua', '-venue:qua', '-year:2000..', 'en qu', 'entropy energy "quantum quality"', 'status:unresolved net'];

test('ranking equals BM25 computed directly over the entries (prefixes, words, phrases, AND)', () =>
  withIndex(corpus(400, 7), async (idx) => {
    const metas = corpus(400, 7);
    const cases: [string, Parameters<typeof referenceSearch>[1]][] = [
      ['gra', [{ kind: 'prefix', tokens: ['gra'] }]],
      ['network', [{ kind: 'prefix', tokens: ['network'] }]],
      ['"network"', [{ kind: 'word', tokens: ['network'] }]],
      ['le mo', [{ kind: 'prefix', tokens: ['le'] }, { kind: 'prefix', tokens: ['mo'] }]],
      ['"neural network" q', [{ kind: 'phrase', tokens: ['neural', 'network'] }, { kind: 'prefix', tokens: ['q'] }]],
      ['Müller', [{ kind: 'prefix', tokens: ['muller'] }]],
      ['smythe', [{ kind: 'prefix', tokens: ['smythe'] }]],
    ];
    for (const [q, terms] of cases) {
      const want = referenceSearch(metas, terms);
      const got = idx.search(q, { limit: 10_000 });
      assert.ok(want.length > 0, `the corpus has hits for ${q}`);
      assert.deepEqual(got.map((h) => h.key), want.map((w) => w.key), q);
      got.forEach((h, i) => assert.ok(Math.abs(h.score - want[i]!.score) < 1e-9, `${q}: score of ${h.key}`));
    }
  }));

test('filters select exactly the entries they name; negation includes entries without the field', () =>
  withIndex(corpus(300, 11), async (idx) => {
    const metas = corpus(300, 11);
    const keysOf = (q: string) => new Set(idx.search(q, { limit: 10_000 }).map((h) => h.key));
    const expect = (q: string, pred: (m: Metadata) => boolean) =>
      assert.deepEqual(keysOf(q), new Set(metas.filter(pred).map((m) => m.key)), q);
    const fam = (m: Metadata) => (m.authors ?? []).map((a) => a.family.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase());
    expect('author:smi', (m) => fam(m).some((f) => f.startsWith('smi')));
    expect('author:"van der"', (m) => fam(m).some((f) => f.startsWith('van der')));
    expect('-author:muller', (m) => !fam(m).some((f) => f.startsWith('muller')));
    expect('year:2000..2009', (m) => m.year !== undefined && m.year >= 2000 && m.year <= 2009);
    expect('-year:2000..', (m) => m.year === undefined || m.year < 2000);
    expect('tag:ml', (m) => (m.tags ?? []).includes('ml'));
    expect('-has:abstract', (m) => !m.abstract);
    expect('venue:gra', (m) => tokenize(m.venue ?? '').some((t) => t.startsWith('gra')));
    expect('-venue:gra', (m) => !tokenize(m.venue ?? '').some((t) => t.startsWith('gra')));
    expect('key:k17', (m) => m.key === 'k17');
    // Newest first, undated last, then title, then key; pages are slices of one order.
    const all = idx.search('', { limit: 10_000 });
    const order = [...metas].sort((a, b) => (b.year ?? -Infinity) - (a.year ?? -Infinity) || ((a.title ?? '') < (b.title ?? '') ? -1 : (a.title ?? '') > (b.title ?? '') ? 1 : a.key < b.key ? -1 : 1));
    assert.deepEqual(all.map((h) => h.key), order.map((m) => m.key));
    assert.deepEqual(idx.search('', { limit: 7, offset: 20 }).map((h) => h.key), order.slice(20, 27).map((m) => m.key));
  }));

test('after many replacements, removals and merges the live search equals a fresh build', () =>
  withIndex(corpus(1500, 3), async (idx, root) => {
    // Replace every entry (dead slots pile up, and the next search compacts them), remove some,
    // add new ones, with searches in between so merges happen at several points.
    const replaced = corpus(1500, 4);
    for (let i = 0; i < replaced.length; i++) {
      idx.upsert(replaced[i]!);
      if (i % 400 === 0) idx.search('gra');
    }
    for (let i = 0; i < 1500; i += 7) idx.remove(`k${i}`);
    idx.upsertMany(corpus(200, 5, 'new').map((meta) => ({ meta })));
    const fresh = await reopened(idx, root);
    try {
      for (const q of QUERIES) assert.deepEqual(idx.search(q, { limit: 200 }), fresh.search(q, { limit: 200 }), q);
    } finally {
      fresh.close();
    }
  }));

test('a background build takes in the writes made while it runs', () =>
  withIndex(corpus(1200, 21), async (idx, root) => {
    const opened = await reopened(idx, root);
    try {
      const warm = opened.warmSearch({ sliceSize: 50 });
      // Writes between slices: replacements of entries already read and not yet read, removals, new entries.
      const changes = corpus(1200, 22);
      for (let i = 0; i < 60; i++) {
        opened.upsert(changes[(i * 97) % 1200]!);
        opened.remove(`k${(i * 131 + 5) % 1200}`);
        opened.upsert(corpus(1, 100 + i, `late${i}-`)[0]!);
        await new Promise((r) => setImmediate(r));
      }
      await warm;
      assert.equal(opened.searchReady, true);
      const fresh = await reopened(opened, root);
      try {
        for (const q of QUERIES) assert.deepEqual(opened.search(q, { limit: 200 }), fresh.search(q, { limit: 200 }), q);
      } finally {
        fresh.close();
      }
    } finally {
      opened.close();
    }
  }));

test('a search during the background build finishes it at once; a failed transaction drops and rebuilds it', () =>
  withIndex(corpus(300, 31), async (idx, root) => {
    const opened = await reopened(idx, root);
    try {
      const warm = opened.warmSearch({ sliceSize: 20 });
      await new Promise((r) => setImmediate(r));
      assert.equal(opened.searchReady, false);
      const hits = opened.search('gra', { limit: 1000 });
      assert.equal(opened.searchReady, true);
      await warm;
      assert.deepEqual(hits, idx.search('gra', { limit: 1000 }));
      // A batch that fails half-way is rolled back in the database; the search side must not keep its first half.
      const bad = [{ meta: { ...corpus(1, 1, 'rolled')[0]!, title: 'zzyzx unique' } }, { meta: null as unknown as Metadata }];
      assert.throws(() => opened.upsertMany(bad));
      assert.deepEqual(opened.search('zzyzx'), []);
      assert.deepEqual(opened.search('gra', { limit: 1000 }), hits);
    } finally {
      opened.close();
    }
  }));
