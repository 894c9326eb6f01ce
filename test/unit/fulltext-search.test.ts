// The full-text column's phrase filters and the snippets read from fulltext.txt for the rows a
// search returns: the fast paths (pair filters, byte search in a file's first 16 kB) must give
// what the plain definitions (findTerm/snippetOf on the whole folded text) give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findTerm, foldSameLength, FullTextColumn, snippetOf, type SnippetTerm } from '../../src/core/index/fullText';
import { TextFile } from '../../src/core/index/snippetFile';
import { formatFulltext } from '../../src/core/storage/fulltext';
import { tokenize } from '../../src/core/index/terms';
import { LibraryIndex } from '../../src/core/index/library';
import { fulltextPath } from '../../src/core/storage/layout';
import { emptyMetadata, type Metadata } from '../../src/core/storage/metadata';
import { tempStorage } from './storage-helpers';

const WASM = path.join(__dirname, 'sql-wasm.wasm');

/** An index over `texts` (key → text): entries with a PDF, their fulltext.txt files, the column loaded as at open. */
async function indexWith(root: string, texts: Map<string, string>, meta: (key: string, i: number) => Partial<Metadata> = () => ({})): Promise<LibraryIndex> {
  const index = await LibraryIndex.createEmpty(root, { wasmPath: WASM });
  const sha = 'b'.repeat(64);
  const metas = [...texts.keys()].map((key, i) => ({
    meta: { ...emptyMetadata(key, '2026-01-01T00:00:00Z'), title: `Entry ${i}`, pdf: { sourceUrl: 'file', source: 'entry', sha256: sha, size: 1, retrievedAt: '2026-01-01T00:00:00Z', verified: 'doi' }, ...meta(key, i) } as Metadata,
  }));
  index.upsertMany(metas);
  // metadata.json too, so that rebuildFromFolders finds the entries (a test's storage, written as the writer would).
  for (const { meta } of metas) {
    fs.mkdirSync(path.dirname(fulltextPath(root, meta.key)), { recursive: true });
    fs.writeFileSync(path.join(path.dirname(fulltextPath(root, meta.key)), 'metadata.json'), JSON.stringify(meta));
  }
  for (const [key, text] of texts) {
    const file = fulltextPath(root, key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, formatFulltext({ sha256: sha, pages: 1, truncated: false, text }));
  }
  await index.warmFullText();
  return index;
}

function prng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const VOCAB = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'theta', 'kappa', 'lambda', 'omicron', 'sigma', 'upsilon', 'omega', 'of', 'the', 'in', 'a'];

/** A text of `n` words from VOCAB, some Capitalised, some UPPER, some with diacritics or punctuation, lines of 10 words, pages every 300. */
function textOf(rnd: () => number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    let w = VOCAB[Math.floor(rnd() * VOCAB.length)]!;
    const r = rnd();
    if (r < 0.1) w = w[0]!.toUpperCase() + w.slice(1);
    else if (r < 0.13) w = w.toUpperCase();
    else if (r < 0.15) w = w.replace('e', 'é');
    else if (r < 0.16 && w.length > 2) w = w[0]! + w[1]!.toUpperCase() + w.slice(2);
    out += w;
    if ((i + 1) % 300 === 0) out += '\n\f\n';
    else if ((i + 1) % 10 === 0) out += rnd() < 0.5 ? '-\n' : '\n';
    else out += rnd() < 0.1 ? ', ' : ' ';
  }
  return out;
}

test('phrases: the pair filters never drop a paper that holds the phrase, and drop most that do not', () => {
  const rnd = prng(7);
  const col = new FullTextColumn();
  const texts: string[] = [];
  for (let d = 0; d < 300; d++) {
    const t = textOf(rnd, 50 + Math.floor(rnd() * 400));
    texts.push(t);
    col.set(`k${d}`, t);
  }
  col.seal();
  let admittedWithout = 0;
  let without = 0;
  for (let q = 0; q < 200; q++) {
    const len = 2 + Math.floor(rnd() * 2);
    const tokens = Array.from({ length: len }, () => VOCAB[Math.floor(rnd() * VOCAB.length)]!);
    const hits = col.phraseHits(tokens);
    const admitted = new Set<string>();
    for (let i = 0; i < (hits?.n ?? 0); i++) admitted.add(col.keyOf(hits!.docs[i]!));
    texts.forEach((t, d) => {
      const holds = findTerm(foldSameLength(t), tokens, false) !== undefined;
      if (holds) assert.ok(admitted.has(`k${d}`), `k${d} holds "${tokens.join(' ')}" but was dropped`);
      // Three words whose two pairs are both in a text pass the pair filters without being a false positive of theirs.
      else if (len === 2) {
        without++;
        if (admitted.has(`k${d}`)) admittedWithout++;
      }
    });
  }
  // Diacritics fold away in the tokenizer, so "zéta gamma" is a phrase of "zeta gamma": also counted as holding it by findTerm.
  assert.ok(without > 500);
  assert.ok(admittedWithout / without < 0.1, `false positives ${admittedWithout}/${without}`);
});

test('a word too long to index breaks a phrase: no pair across it', () => {
  const col = new FullTextColumn();
  col.set('a', `alpha ${'x'.repeat(60)} beta gamma`);
  col.seal();
  assert.equal(col.phraseHits(['alpha', 'beta']), undefined);
  assert.equal(col.phraseHits(['beta', 'gamma'])?.n, 1);
});

test('holdsAny: a posting lookup per paper, in sealed segments and in the open log', () => {
  const col = new FullTextColumn();
  for (let d = 0; d < 70; d++) col.set(`k${d}`, d % 2 ? 'odd words here' : 'even words there');
  // 64 sealed, 6 in the log.
  const ids = (w: string) => col.wordIds(w, false);
  for (let d = 0; d < 70; d++) {
    assert.equal(col.holdsAny(`k${d}`, ids('odd')), d % 2 === 1, `k${d}`);
    assert.equal(col.holdsAny(`k${d}`, ids('words')), true);
  }
  assert.equal(col.holdsAny('k1', col.wordIds('wor', true)), true, 'prefix ids');
  assert.equal(col.holdsAny('k1', col.wordIds('the', true)), false, '"there" is in the even ones only');
  assert.equal(col.holdsAny('missing', ids('odd')), false);
  col.beginQuery();
  col.hits(ids('odd'));
  assert.equal(col.placeOf('k1'), 0);
  assert.equal(col.placeOf('k2'), -1, 'not a paper of this query’s words');
  col.beginQuery();
  assert.equal(col.placeOf('k1'), -1, 'a new query forgets the last one’s');
});

test('snippets and phrase checks read from the file agree with the whole-text definitions (cases, diacritics, past the first 16 kB, across lines)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-snippet-'));
  try {
    const rnd = prng(11);
    let compared = 0;
    for (let d = 0; d < 60; d++) {
      // Short texts and texts well past the first chunk read.
      const text = textOf(rnd, d % 3 === 0 ? 8000 : 30 + Math.floor(rnd() * 300));
      const file = path.join(dir, `t${d}.txt`);
      fs.writeFileSync(file, formatFulltext({ sha256: 'a'.repeat(64), pages: 1, truncated: false, text }));
      const folded = foldSameLength(text);
      const words = [...new Set(tokenize(text))];
      for (let q = 0; q < 12; q++) {
        const terms: SnippetTerm[] = [];
        const kind = q % 4;
        if (kind === 0) terms.push({ tokens: [words[Math.floor(rnd() * words.length)]!], prefix: false });
        else if (kind === 1) terms.push({ tokens: [VOCAB[Math.floor(rnd() * VOCAB.length)]!.slice(0, 3)], prefix: true });
        else if (kind === 2) terms.push({ tokens: [VOCAB[Math.floor(rnd() * VOCAB.length)]!, VOCAB[Math.floor(rnd() * VOCAB.length)]!], prefix: false });
        else terms.push({ tokens: ['omega'], prefix: false }, { tokens: ['zeta'], prefix: false });
        // Two open at once: the first keeps its bytes when the second reuses the read buffer.
        const f = TextFile.read(file)!;
        const g = TextFile.read(file)!;
        for (const t of terms) assert.equal(f.has(t), findTerm(folded, t.tokens, t.prefix) !== undefined, `has ${JSON.stringify(t)} in t${d}`);
        f.close();
        const fast = g.snippet(terms);
        g.close();
        const whole = snippetOf(text, terms);
        assert.equal(fast === undefined, whole === undefined, `snippet ${JSON.stringify(terms)} in t${d}`);
        if (!fast || !whole) continue;
        compared++;
        // The hit is a real occurrence (the fast path may pick a later one when an earlier one is in another case mix).
        const hitTokens = tokenize(fast.hit);
        assert.ok(terms.some((t) => findTerm(foldSameLength(fast.hit), t.tokens, t.prefix)?.at === 0), `${fast.hit} is a hit of ${JSON.stringify(terms)}`);
        assert.ok(hitTokens.length >= 1);
        assert.ok(!/\s{2}|\n/.test(fast.before + fast.hit + fast.after), 'one line');
        assert.ok(fast.before.length + fast.after.length < 220);
        // The words around are the text's: the snippet, without its ellipses, is a piece of the flattened text.
        const flat = text.replace(/\s+/g, ' ');
        const piece = (fast.before + fast.hit + fast.after).replace(/^…/, '').replace(/…$/, '');
        assert.ok(flat.includes(piece), `snippet is a piece of t${d}: ${piece}`);
        if (whole.hit === fast.hit && whole.before === fast.before) assert.deepEqual(fast, whole);
      }
    }
    assert.ok(compared > 300);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('snippets read around the place the column gives for the first word are those of the whole text, also far into a long text and with non-ASCII before it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-snippet-'));
  try {
    const rnd = prng(5);
    const col = new FullTextColumn();
    const texts: string[] = [];
    for (let d = 0; d < 20; d++) {
      // Long texts; every other one with accented words (its byte places differ from its character places).
      let text = textOf(rnd, 9000 + Math.floor(rnd() * 3000));
      if (d % 2) text = text.replace(/kappa/g, 'kàppa');
      text += ' quixotic zephyr marmalade at the end.';
      texts.push(text);
      col.set(`k${d}`, text);
      fs.writeFileSync(path.join(dir, `k${d}.txt`), formatFulltext({ sha256: 'a'.repeat(64), pages: 1, truncated: false, text }));
    }
    col.seal();
    let far = 0;
    for (let d = 0; d < 20; d++) {
      for (const w of ['quixotic', 'marmalade', 'omega', 'upsilon', 'kappa']) {
        const ids = col.wordIds(w, false);
        const place = col.firstPlace(`k${d}`, ids);
        assert.ok(place >= 0, `k${d} ${w}`);
        // What a search's ranking records, without a lookup, is the same place.
        col.beginQuery();
        col.hits(ids);
        assert.equal(col.placeOf(`k${d}`), place);
        if (place > 64) far++;
        const terms = [{ tokens: [w], prefix: false }];
        const f = TextFile.read(path.join(dir, `k${d}.txt`), place, col.textLength(`k${d}`))!;
        const fast = f.snippet(terms);
        f.close();
        const whole = snippetOf(texts[d]!, terms)!;
        // The same first occurrence (the fast path may pick a later one only when an earlier one is in another case mix).
        const flat = texts[d]!.replace(/\s+/g, ' ');
        const piece = (fast!.before + fast!.hit + fast!.after).replace(/^…/, '').replace(/…$/, '');
        assert.ok(flat.includes(piece), `k${d} ${w}: ${piece}`);
        assert.equal(foldSameLength(fast!.hit), foldSameLength(whole.hit));
        if (!/[A-Z]{2}|[a-z][A-Z]/.test(texts[d]!.slice(0, texts[d]!.toLowerCase().indexOf(w) + w.length))) assert.deepEqual(fast, whole, `k${d} ${w}`);
      }
    }
    assert.ok(far >= 20, 'words far into the texts were asked for');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is not a stored text gives no snippet and holds nothing', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-snippet-'));
  try {
    const file = path.join(dir, 'x.txt');
    fs.writeFileSync(file, 'alpha beta gamma');
    assert.equal(TextFile.read(file), undefined);
    assert.equal(TextFile.read(path.join(dir, 'missing.txt')), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('hits over many segments (two-level search of their words) finds exactly the papers holding any of the ids, for word and prefix id lists', () => {
  const rnd = prng(3);
  const V = Array.from({ length: 5000 }, (_, i) => 'w' + i.toString(36));
  const col = new FullTextColumn();
  const docs: Set<string>[] = [];
  for (let d = 0; d < 700; d++) {
    const ws: string[] = [];
    for (let i = 0; i < 300; i++) ws.push(V[Math.floor(rnd() ** 2 * V.length)]!);
    docs.push(new Set(ws));
    col.set(`k${d}`, ws.join(' '));
  }
  for (let q = 0; q < 300; q++) {
    const pre = 'w' + Math.floor(rnd() * 36).toString(36) + (q % 3 ? Math.floor(rnd() * 36).toString(36) : '');
    const ids = col.wordIds(pre, q % 3 !== 2);
    const h = col.hits(ids);
    const got = new Set(Array.from(h.docs.subarray(0, h.n), (d) => col.keyOf(d)));
    const want = new Set<string>();
    docs.forEach((ws, d) => {
      for (const w of ws) if (q % 3 !== 2 ? w.startsWith(pre) : w === pre) return void want.add(`k${d}`);
    });
    assert.deepEqual([...got].sort(), [...want].sort(), pre);
  }
});

test('merging segments (compact) changes no answer: hits, places, phrases and holdsAny equal those of an unmerged column, with writes during a merge and a clear in the middle of one', () => {
  const rnd = prng(23);
  const V = Array.from({ length: 400 }, (_, i) => 'w' + i.toString(36));
  const merged = new FullTextColumn();
  const plain = new FullTextColumn();
  const texts = new Map<string, string>();
  const set = (key: string) => {
    const ws: string[] = [];
    for (let i = 0, n = 20 + Math.floor(rnd() * 200); i < n; i++) ws.push(V[Math.floor(rnd() ** 2 * V.length)]!);
    const t = ws.join(rnd() < 0.5 ? ' ' : ', ');
    texts.set(key, t);
    merged.set(key, t);
    plain.set(key, t);
  };
  const compare = (label: string) => {
    for (let q = 0; q < 60; q++) {
      const pre = 'w' + Math.floor(rnd() * 36).toString(36);
      const ids = q % 2 ? merged.wordIds(pre, true) : merged.wordIds(V[Math.floor(rnd() * V.length)]!, false);
      assert.deepEqual(ids, q % 2 ? plain.wordIds(pre, true) : ids, 'the same dictionary');
      const a = merged.hits(ids);
      const b = plain.hits(ids);
      const asMap = (h: typeof a, col: FullTextColumn) => new Map(Array.from(h.docs.subarray(0, h.n), (d, i) => [col.keyOf(d), h.scores[i]!]));
      assert.deepEqual(asMap(a, merged), asMap(b, plain), `${label}: hits ${pre}`);
      for (const key of [...texts.keys()].slice(0, 40)) assert.equal(merged.firstPlace(key, ids), plain.firstPlace(key, ids), `${label}: place of ${key}`);
      const phrase = [V[Math.floor(rnd() ** 2 * 40)]!, V[Math.floor(rnd() ** 2 * 40)]!];
      const pa = merged.phraseHits(phrase);
      const pb = plain.phraseHits(phrase);
      assert.deepEqual(pa && asMap(pa, merged), pb && asMap(pb, plain), `${label}: phrase ${phrase.join(' ')}`);
    }
  };
  for (let d = 0; d < 600; d++) set(`k${d}`);
  assert.ok(merged.segmentCount > 8);
  // A merge in steps, with texts replaced, removed and added between them.
  const steps = merged.compact(true);
  let n = 0;
  for (let r = steps.next(); !r.done; r = steps.next()) {
    if (++n % 2) continue;
    const k = `k${Math.floor(rnd() * 600)}`;
    if (rnd() < 0.5) set(k);
    else {
      merged.remove(k);
      plain.remove(k);
      texts.delete(k);
    }
    set(`new${n}`);
  }
  merged.seal();
  plain.seal();
  assert.ok(merged.segmentCount < plain.segmentCount, 'merged');
  compare('after a merge with writes during it');
  // Small segments behind a large one: merged among themselves once enough have piled up.
  for (let d = 0; d < 64 * 9; d++) set(`late${d}`);
  assert.equal(merged.compactionDue(), true);
  for (const _ of merged.compact()) void _;
  assert.equal(merged.compactionDue(), false);
  compare('after a tail merge');
  // Cleared during a merge: the merge must not bring its segment back.
  for (let d = 0; d < 64 * 9; d++) set(`more${d}`);
  const gen = merged.compact(true);
  gen.next();
  merged.clear();
  plain.clear();
  texts.clear();
  for (const _ of gen) void _;
  assert.equal(merged.size, 0);
  assert.equal(merged.segmentCount, 0);
  for (let d = 0; d < 100; d++) set(`again${d}`);
  merged.seal();
  plain.seal();
  compare('after a clear during a merge');
});

test('two words read around the place the column gives: the same snippet as the whole text’s (the second word is not looked for in the rest of the file)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-snippet-'));
  try {
    const rnd = prng(31);
    const col = new FullTextColumn();
    const texts: string[] = [];
    // Lower case only: the byte search then finds every occurrence the whole-text definition does.
    const lower = (n: number) => Array.from({ length: n }, () => VOCAB[Math.floor(rnd() * VOCAB.length)]!).join(' ');
    for (let d = 0; d < 30; d++) {
      const text = `${lower(2000 + Math.floor(rnd() * 8000))} quixotic ${lower(500)} zephyr ${lower(3000)} quixotic zephyr`;
      texts.push(text);
      col.set(`k${d}`, text);
      fs.writeFileSync(path.join(dir, `k${d}.txt`), formatFulltext({ sha256: 'a'.repeat(64), pages: 1, truncated: false, text }));
    }
    col.seal();
    for (const _ of col.compact(true)) void _;
    for (let d = 0; d < 30; d++) {
      for (const pair of [['quixotic', 'zephyr'], ['zephyr', 'quixotic'], ['zephyr', 'omega'], ['nowhere', 'zephyr']]) {
        const terms = pair.map((w) => ({ tokens: [w], prefix: false }));
        col.beginQuery();
        for (const w of pair) col.hits(col.wordIds(w, false));
        const place = col.placeOf(`k${d}`);
        assert.ok(place >= 0);
        const f = TextFile.read(path.join(dir, `k${d}.txt`), place, col.textLength(`k${d}`))!;
        const fast = f.snippet(terms);
        f.close();
        assert.deepEqual(fast, snippetOf(texts[d]!, terms), `k${d} ${pair.join(' ')}`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('text:"phrase" pages are exactly the definition’s: every row holding the phrase, none other, pages at every offset and limit slices of one list (three-word phrases: many rows hold both pairs but not the phrase)', async () => {
  const s = tempStorage();
  try {
    const rnd = prng(41);
    const texts = new Map<string, string>();
    for (let d = 0; d < 160; d++) texts.set(`k${String(d).padStart(3, '0')}`, textOf(rnd, 40 + Math.floor(rnd() * 600)));
    const index = await indexWith(s.root, texts);
    let reasked = 0;
    for (let q = 0; q < 40; q++) {
      const len = 2 + (q % 2);
      const tokens = Array.from({ length: len }, () => VOCAB[Math.floor(rnd() * 6)]!);
      const holding = [...texts].filter(([, t]) => findTerm(foldSameLength(t), tokens, false) !== undefined).map(([k]) => k);
      const all = index.search(`text:"${tokens.join(' ')}"`, { limit: 10_000 }).map((h) => h.key);
      assert.deepEqual([...all].sort(), holding.sort(), `"${tokens.join(' ')}"`);
      if (holding.length && holding.length < 40) reasked++;
      for (const [offset, limit] of [[0, 1], [0, 5], [3, 4], [7, 10], [0, holding.length], [0, Math.max(1, holding.length - 1)], [Math.max(0, holding.length - 2), 5]] as const) {
        const page = index.search(`text:"${tokens.join(' ')}"`, { offset, limit }).map((h) => h.key);
        assert.deepEqual(page, all.slice(offset, offset + limit), `"${tokens.join(' ')}" offset ${offset} limit ${limit}`);
      }
      // Every row shown has a snippet with the phrase in it.
      for (const h of index.search(`text:"${tokens.join(' ')}"`, { limit: 5 })) assert.deepEqual(tokenize(h.snippet!.hit), tokens);
    }
    assert.ok(reasked >= 5, 'phrases held by few of the rows holding their words were asked');
    index.close();
  } finally {
    s.cleanup();
  }
});

test('rows of a search: fields as stored, and the right entry for a text after the text is replaced, the entry updated, and the index rebuilt', async () => {
  const s = tempStorage();
  try {
    const texts = new Map([
      ['alpha', 'the quixotic zephyr'],
      ['beta', 'nothing to see'],
    ]);
    const index = await indexWith(s.root, texts, (key) =>
      key === 'alpha' ? { title: 'Alpha Title', authors: [{ family: 'Smith', given: 'J' }, { family: 'Jones' }], year: 2001, venue: 'Some Venue', type: 'Article', doi: '10.1/ABC' } : {},
    );
    const [hit] = index.search('text:quixotic');
    assert.equal(hit?.key, 'alpha');
    assert.deepEqual(
      { title: hit!.title, authors: hit!.authors, year: hit!.year, venue: hit!.venue, type: hit!.type, doi: hit!.doi, hasPdf: hit!.hasPdf, folder: hit!.folder },
      { title: 'Alpha Title', authors: 'Smith; Jones', year: 2001, venue: 'Some Venue', type: 'Article', doi: '10.1/abc', hasPdf: true, folder: 'alpha' },
    );
    const keys = (q: string) => index.search(q).map((h) => h.key);
    // The text moves to another entry.
    index.setFullText('alpha', 'plain words');
    index.setFullText('beta', 'a quixotic one');
    assert.deepEqual(keys('text:quixotic'), ['beta']);
    // The entry is written again (a new slot in the search side), its text stays.
    index.upsertMany([{ meta: { ...emptyMetadata('beta', '2026-01-02T00:00:00Z'), title: 'Beta again', pdf: { sourceUrl: 'file', source: 'entry', sha256: 'b'.repeat(64), size: 1, retrievedAt: '2026-01-01T00:00:00Z', verified: 'doi' } } }]);
    assert.deepEqual(keys('text:quixotic'), ['beta']);
    assert.equal(index.search('text:quixotic')[0]!.title, 'Beta again');
    // Rebuilt from the folders: the column is cleared and read again (paper numbers given anew).
    fs.writeFileSync(fulltextPath(s.root, 'alpha'), formatFulltext({ sha256: 'b'.repeat(64), pages: 1, truncated: false, text: 'quixotic again' }));
    fs.writeFileSync(fulltextPath(s.root, 'beta'), formatFulltext({ sha256: 'b'.repeat(64), pages: 1, truncated: false, text: 'not here' }));
    const report = await index.rebuildFromFolders();
    assert.equal(report.errors.length, 0, JSON.stringify(report.errors));
    assert.deepEqual(keys('text:quixotic'), ['alpha']);
    assert.equal(index.search('text:quixotic')[0]!.title, 'Alpha Title');
    index.close();
  } finally {
    s.cleanup();
  }
});
