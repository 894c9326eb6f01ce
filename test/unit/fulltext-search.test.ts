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
