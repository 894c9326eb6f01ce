import { test } from 'node:test';
import assert from 'node:assert/strict';
import { citeContextAt } from '../../src/core/tex/citeContext';

/** The context at the `|` of `src` (the bar is removed). */
function at(src: string) {
  const i = src.indexOf('|');
  return citeContextAt(src.slice(0, i) + src.slice(i + 1), i);
}

test('every natbib and biblatex form, starred and capitalised, with optional arguments', () => {
  const forms = ['\\cite{|', '\\citep{|', '\\citet*{|', '\\parencite[p.~3]{|', '\\Textcite{|', '\\autocite[see][12]{|', '\\footcite{|', '\\citeauthor*{|', '\\citeyear{|', '\\nocite{|', '\\Cite{|', '\\Parencite*[][{p.~3}]{|'];
  for (const f of forms) {
    const c = at(`Text ${f}}`);
    assert.ok(c, f);
    assert.equal(c.prefix, '', f);
  }
  assert.equal(at('\\citet*{|}')?.starred, true);
  assert.equal(at('\\Parencite{|}')?.command, 'Parencite');
});

test('the key being typed, after commas, with the rest of the list left out of the offer', () => {
  const c = at('\\cite{glashow, wein|berg, salam}')!;
  assert.equal(c.prefix, 'wein');
  assert.deepEqual(c.others, ['glashow', 'salam']);
  const src = '\\cite{glashow, weinberg, salam}';
  assert.equal(src.slice(c.start, c.end), 'weinberg');
  assert.equal(at('\\citep[p.~2]{a,|}')!.prefix, '');
  assert.equal(at('\\cite{a,\n  b|')!.prefix, 'b');
});

test('multi-cite lists: every {…} of \\cites', () => {
  const c = at('\\cites[see][1]{glashow}[2]{wein|}');
  assert.equal(c?.command, 'cites');
  assert.equal(c?.prefix, 'wein');
  assert.equal(at('\\parencites(pre)(post)[a]{x}{|}')?.command, 'parencites');
});

test('not a citation: other commands, a closed list, comments, the optional argument', () => {
  assert.equal(at('\\ref{|}'), undefined);
  assert.equal(at('\\cite{a} |'), undefined);
  assert.equal(at('% \\cite{|'), undefined);
  assert.equal(at('\\cite[p.|]{a}'), undefined);
  assert.equal(at('\\cite{a}{|}'), undefined); // only \cites takes several lists
  assert.equal(at('\\textbf{|}'), undefined);
  assert.ok(at('50\\% \\cite{|}'));
});
