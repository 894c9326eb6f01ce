import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskTexComments, scanTex } from '../../src/core/tex/scan';
import { decodeBibBytes, findEntry, parseBib } from '../../src/core/bib/parse';
import { readFixture } from './bib-helpers';

test('citation commands, optional arguments, several keys, positions', () => {
  const tex = [
    'Intro \\cite{a} and \\citep[see][p.~3]{b, c ,d}.', // line 1
    '\\Textcite{e} \\parencite*{f} \\autocite[12]{g} \\footcite{h} \\smartcite{i}',
    '\\citet{j}\\citealp{k}\\citeauthor*{l} \\nocite{m,*}',
    '% \\cite{commented} out',
    '50\\% of \\cite{n} % but not \\cite{o}',
    '\\cites(all)(x)[a][b]{p}[c]{q,r} \\Parencites{s}{t}',
    '\\cite',
    '  [pre] {u}',
    '\\begin{comment}\\cite{hidden}\\end{comment} \\cite{v}',
    '\\citestyle{plain} \\citefield{w}{title}',
  ].join('\n');
  const s = scanTex(tex);
  assert.deepEqual(
    s.cites.map((c) => c.key),
    ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w'],
  );
  assert.equal(s.nociteAll, true);
  const c = s.cites.find((x) => x.key === 'c')!;
  assert.deepEqual([c.line, c.column, c.offset, c.command], [1, 41, 40, 'citep']);
  assert.equal(tex.slice(c.offset, c.offset + 1), 'c');
  const u = s.cites.find((x) => x.key === 'u')!;
  assert.deepEqual([u.line, u.column], [8, 10]);
});

test('bibliographies and inputs', () => {
  const s = scanTex(
    [
      '\\bibliography{refs, ../shared/more}',
      '\\addbibresource[location=local]{lib.bib}',
      '\\input{chapters/intro}\\include{appendix.tex}',
      '%\\input{nope}',
      '\\import{parts/}{one}',
    ].join('\n'),
  );
  assert.deepEqual(
    s.bibliographies.map((b) => [b.name, b.kind, b.line, b.column]),
    [
      ['refs', 'bibliography', 1, 15],
      ['../shared/more', 'bibliography', 1, 21],
      ['lib.bib', 'addbibresource', 2, 33],
    ],
  );
  assert.deepEqual(
    s.inputs.map((i) => [i.name, i.kind, i.line]),
    [
      ['chapters/intro', 'input', 3],
      ['appendix.tex', 'include', 3],
      ['parts/one', 'import', 5],
    ],
  );
});

test('comment masking keeps offsets and respects \\% and \\\\%', () => {
  const t = 'a % c\nb \\% d \\\\% e\n';
  const m = maskTexComments(t);
  assert.equal(m.length, t.length);
  assert.equal(m, 'a    \nb \\% d \\\\   \n');
});

test('fixture documents: every cited key is defined in its bibliography', () => {
  const thesis = scanTex(readFixture('thesis-sharkdp-introduction.tex').toString('utf8'));
  const keys = new Set(thesis.cites.map((c) => c.key));
  assert.equal(keys.size, 55);
  const bib = parseBib(decodeBibBytes(readFixture('thesis-sharkdp-all.bib')).text);
  for (const k of keys) assert.ok(findEntry(bib, k), k);

  const intro = scanTex(readFixture('biblatex-examples-01-introduction.tex').toString('utf8'));
  assert.deepEqual(
    intro.bibliographies.map((b) => b.name),
    ['biblatex-examples.bib'],
  );
  const ex = parseBib(decodeBibBytes(readFixture('biblatex-examples.bib')).text);
  const exKeys = new Set(intro.cites.map((c) => c.key));
  assert.ok(exKeys.has('companion') && exKeys.has('knuth:ct'));
  for (const k of exKeys) assert.ok(findEntry(ex, k), k);
  // Commented-out mentions like "% The \cite command" are not citations.
  assert.ok(intro.cites.every((c) => c.key !== 'command'));
});
