import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldText, latexToUnicode, normalizeForMatch, parseAuthors } from '../../src/core/bib/latex';
import { decodeBibBytes, findEntry, parseBib } from '../../src/core/bib/parse';
import { readFixture } from './bib-helpers';

test('latexToUnicode: accents in all spellings', () => {
  const cases: Array<[string, string]> = [
    ['{\\"o}', 'ö'],
    ['\\"{o}', 'ö'],
    ['\\"o', 'ö'],
    ["\\'e", 'é'],
    ["\\'{\\i}", 'í'],
    ['\\^o', 'ô'],
    ['\\~n', 'ñ'],
    ['\\`a', 'à'],
    ['\\c{c}', 'ç'],
    ['{\\c{C}}', 'Ç'],
    ['\\c c', 'ç'],
    ['\\v{s}', 'š'],
    ['\\u{g}', 'ğ'],
    ['\\H{o}', 'ő'],
    ['\\k{a}', 'ą'],
    ['\\={a}', 'ā'],
    ['\\.{z}', 'ż'],
    ['\\r{a}', 'å'],
    ['Bostr\\"{o}m', 'Boström'],
    ['{\\"O}zge', 'Özge'],
  ];
  for (const [tex, want] of cases) assert.equal(latexToUnicode(tex), want, tex);
});

test('latexToUnicode: letters, escapes, dashes, ties, commands, math', () => {
  assert.equal(latexToUnicode('Stra\\ss e'), 'Straße');
  assert.equal(latexToUnicode("{\\o}ystein {\\aa}s {\\ae}ther {\\l}{\\'o}d\\'{z} \\i"), 'øystein ås æther łódź ı');
  assert.equal(latexToUnicode('A \\& B, 50\\%, \\$5, a\\_b'), 'A & B, 50%, $5, a_b');
  assert.equal(latexToUnicode('pp. 1--10 --- yes'), 'pp. 1–10 — yes');
  assert.equal(latexToUnicode('J.~Amer. Math. Soc.'), 'J. Amer. Math. Soc.');
  assert.equal(latexToUnicode('The \\emph{great} \\textit{Procolophon} {DNA}'), 'The great Procolophon DNA');
  assert.equal(latexToUnicode('A $\\beta$-function and $x_1$'), 'A $\\beta$-function and $x_1$');
  assert.equal(latexToUnicode('\\LaTeX{} rocks'), 'LaTeX rocks');
  assert.equal(latexToUnicode('plain text'), 'plain text');
  assert.equal(latexToUnicode('``quoted\'\''), '“quoted”');
});

test('normalizeForMatch', () => {
  assert.equal(normalizeForMatch('{The} Über-Größe of {\\O}resund: a {\\"U}bersicht!'), 'the uber grosse of oresund a ubersicht');
  assert.equal(normalizeForMatch('  Deep\n   Learning\t(2nd ed.) '), 'deep learning 2nd ed');
  assert.equal(normalizeForMatch('ﬁnite'), 'finite');
});

test('fieldText gives plain unicode text with collapsed whitespace', () => {
  const bib = parseBib(decodeBibBytes(readFixture('biblatex-examples.bib')).text);
  const e = findEntry(bib, 'westfahl:space')!;
  assert.equal(fieldText(e, 'subtitle'), 'Confronting and Avoiding the Realities of Space in American Science Fiction Films');
  assert.equal(fieldText(e, 'TITLE'), 'The True Frontier');
  assert.equal(fieldText(e, 'doi'), undefined);
});

test('parseAuthors: forms, von, jr, corporate, others, braces', () => {
  const r = parseAuthors('Knuth, Donald E. and Ludwig van Beethoven and {World Health Organization} and de la Fontaine, Jean and Ford, Jr., Henry and Gustav Bostr\\"{o}m and others');
  assert.equal(r.others, true);
  const p = r.persons.map((x) => [x.first, x.von, x.last, x.jr, x.corporate]);
  assert.deepEqual(p, [
    ['Donald E.', '', 'Knuth', '', false],
    ['Ludwig', 'van', 'Beethoven', '', false],
    ['', '', 'World Health Organization', '', true],
    ['Jean', 'de la', 'Fontaine', '', false],
    ['Henry', '', 'Ford', 'Jr.', false],
    ['Gustav', '', 'Boström', '', false],
  ]);
  const b = parseAuthors('{Barnes and Noble} and Smith AND Jones and Plato');
  assert.deepEqual(
    b.persons.map((x) => x.last),
    ['Barnes and Noble', 'Smith', 'Jones', 'Plato'],
  );
  assert.equal(b.others, false);
  const multi = parseAuthors('Randall Davis and Bruce Buchanan and \n\t\t\t Edward Shortliffe');
  assert.deepEqual(
    multi.persons.map((x) => x.last),
    ['Davis', 'Buchanan', 'Shortliffe'],
  );
  assert.deepEqual(parseAuthors(''), { persons: [], others: false });
});
