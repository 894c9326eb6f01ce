import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBibBytes, encodeBibText, findEntry, parseBib, resolvedFields } from '../../src/core/bib/parse';
import { bibFixtures, FIXTURE_COUNTS, readFixture } from './bib-helpers';

test('every fixture .bib parses with the documented entry count and no errors', () => {
  const files = bibFixtures();
  assert.deepEqual(files, Object.keys(FIXTURE_COUNTS).sort());
  for (const name of files) {
    const { text } = decodeBibBytes(readFixture(name));
    const bib = parseBib(text);
    assert.equal(bib.entries.length, FIXTURE_COUNTS[name], name);
    assert.deepEqual(
      bib.errors.filter((e) => e.severity === 'error'),
      [],
      name,
    );
    for (const e of bib.entries) {
      assert.equal(text[e.span.start], '@', `${name} ${e.key}`);
      assert.equal(text.slice(e.keySpan.start, e.keySpan.end), e.key);
      assert.match(text[e.span.end - 1], /[})]/);
      for (const f of e.fields.values()) {
        assert.equal(text.slice(f.valueSpan.start, f.valueSpan.end), f.raw);
        assert.equal(text.slice(f.nameSpan.start, f.nameSpan.end).toLowerCase(), f.name);
      }
    }
  }
});

test('fixture specifics: @string, month macros, ( ) delimiters, % commented entry, free text', () => {
  const ex = parseBib(decodeBibBytes(readFixture('biblatex-examples.bib')).text);
  assert.equal(ex.strings.size, 8);
  assert.equal(ex.strings.get('cup'), 'Cambridge University Press');
  const bbt = parseBib(decodeBibBytes(readFixture('bbt-issue873-ai-bibliography.bib')).text);
  const biermann = findEntry(bbt, 'Biermann:75')!;
  assert.equal(biermann.type, 'article');
  assert.equal(biermann.fields.get('title')!.value, 'Approaches to automatic programming');
  assert.equal(biermann.fields.get('title')!.delimiter, '"');
  assert.ok(bbt.errors.some((e) => e.code === 'W_BIB_UNDEFINED_MACRO'));
  const apa = parseBib(decodeBibBytes(readFixture('biblatex-apa-test-references.bib')).text);
  // The line-by-line commented copy of 10.1:18 must not count as an entry or a duplicate.
  assert.equal(apa.entries.filter((e) => e.key === '10.1:18').length, 1);
  assert.ok(apa.entries.every((e) => e.type === e.type.toLowerCase()));
  const sharkdp = parseBib(decodeBibBytes(readFixture('thesis-sharkdp-all.bib')).text);
  const withMonth = sharkdp.entries.find((e) => e.fields.get('month')?.delimiter === 'bare')!;
  assert.match(withMonth.fields.get('month')!.value, /^(January|February|March|April|May|June|July|August|September|October|November|December)$/);
  const jab = parseBib(decodeBibBytes(readFixture('jabref-complex.bib')).text);
  assert.deepEqual([...jab.strings], [
    ['firststring', 'my first string'],
    ['secondstring', ''],
  ]);
  assert.equal(jab.preambles.length, 1);
});

test('@string macros, # concatenation, month macros, bare numbers, case folding', () => {
  const bib = parseBib(
    [
      '@STRING{ jn = "Journal of " # {Things} }',
      '@String(pub = {ACM})',
      'free text between entries @ home',
      '@ARTICLE{Key1,',
      '  TITLE = {A {Nested} {B{r}aces} "quote" title},',
      '  Journal = jn # { Letters},',
      '  Year = 2001,',
      '  month = jun,',
      '  publisher = pub,',
      '  note = "say {"}hi{"}" # jan',
      '}',
      '@comment{ignored @article{not,}}',
      '@preamble{ "\\newcommand{\\x}{x}" }',
      '@misc(Key2, title = {Parens (inside)}, year = {2002})',
    ].join('\n'),
  );
  assert.deepEqual(bib.errors, []);
  assert.equal(bib.entries.length, 2);
  const [a, b] = bib.entries;
  assert.equal(a.type, 'article');
  assert.equal(a.key, 'Key1');
  assert.equal(a.line, 4);
  assert.equal(a.column, 1);
  assert.equal(a.fields.get('title')!.value, 'A {Nested} {B{r}aces} "quote" title');
  assert.equal(a.fields.get('journal')!.value, 'Journal of Things Letters');
  assert.equal(a.fields.get('journal')!.delimiter, 'concat');
  assert.equal(a.fields.get('year')!.value, '2001');
  assert.equal(a.fields.get('year')!.delimiter, 'bare');
  assert.equal(a.fields.get('month')!.value, 'June');
  assert.equal(a.fields.get('publisher')!.value, 'ACM');
  assert.equal(a.fields.get('note')!.value, 'say {"}hi{"}January');
  assert.equal(bib.preambles[0], '\\newcommand{\\x}{x}');
  assert.equal(b.type, 'misc');
  assert.equal(b.fields.get('title')!.value, 'Parens (inside)');
  assert.equal(bib.eol, '\n');
});

test('CRLF and BOM: spans stay exact, eol detected', () => {
  const text = '\uFEFF@book{k,\r\n  title = {T},\r\n  year = 1999\r\n}\r\n';
  const bib = parseBib(text);
  assert.equal(bib.eol, '\r\n');
  assert.equal(bib.entries.length, 1);
  const e = bib.entries[0];
  assert.equal(e.span.start, 1);
  assert.equal(e.line, 1);
  assert.equal(e.column, 2);
  assert.equal(e.fields.get('year')!.raw, '1999');
  assert.equal(text.slice(e.fields.get('title')!.span.start, e.fields.get('title')!.span.end), 'title = {T}');
});

test('a broken entry yields a located error and later entries are recovered', () => {
  const text = [
    '@article{good1, title = {One}}',
    '@article{broken,',
    '  title = {Unclosed,',
    '  year = 2000',
    '}',
    '@article{good2, title = {Two}}',
    '@article{unbalanced, title = {x{y},',
    '',
    '@article{good2b, title = {Two b}}',
    '@article{missingcomma,',
    '  title = {x}',
    '  year = 2000',
    '}',
    '@book{good3,',
    '  title = {Three},',
    '}',
    '@article{good1, title = {dup}}',
    '@article{unterminated,',
    '  title = {x},',
    '',
    '@book{good4, title = "Four"}',
  ].join('\n');
  const bib = parseBib(text);
  assert.deepEqual(
    bib.entries.map((e) => e.key),
    ['good1', 'good2', 'good2b', 'good3', 'good1', 'good4'],
  );
  const errs = bib.errors.map((e) => [e.code, e.line, e.column]);
  assert.deepEqual(errs, [
    ['E_BIB_SYNTAX', 6, 1],
    ['E_BIB_UNTERMINATED', 7, 30],
    ['E_BIB_SYNTAX', 12, 3],
    ['E_BIB_DUP_KEY', 17, 10],
    ['E_BIB_SYNTAX', 21, 1],
  ]);
  assert.match(bib.errors[0].message, /after the value of 'title' \(value starts at 3:11\)/);
  assert.match(bib.errors[2].message, /line 12, column 3/);
});

test('a line-start @ without delimiter is an error; a mid-line one is free text', () => {
  const bib = parseBib('mail me at a@b.org\n@article key,\n@misc{ok, note = {x}}\n');
  assert.deepEqual(
    bib.entries.map((e) => e.key),
    ['ok'],
  );
  assert.deepEqual(
    bib.errors.map((e) => [e.code, e.line]),
    [['E_BIB_SYNTAX', 2]],
  );
});

test('decodeBibBytes: UTF-8, UTF-8 with BOM, Latin-1 fallback; encodeBibText round-trips', () => {
  const utf = decodeBibBytes(Buffer.from('@misc{k, author = {Müller}}', 'utf8'));
  assert.equal(utf.encoding, 'utf8');
  assert.equal(utf.bom, false);
  const bomBytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('@misc{k, title = {Ä}}', 'utf8')]);
  const bom = decodeBibBytes(bomBytes);
  assert.equal(bom.bom, true);
  assert.equal(bom.text.charCodeAt(0), 64);
  assert.deepEqual(Buffer.from(encodeBibText(bom.text, bom.encoding, bom.bom)), bomBytes);

  const latinBytes = Buffer.from('@misc{k, author = {M\xfcller and Fran\xe7ois}, note = {\xa9 \x80}}\n', 'latin1');
  const latin = decodeBibBytes(latinBytes);
  assert.equal(latin.encoding, 'latin1');
  const bib = parseBib(latin.text);
  assert.equal(bib.entries[0].fields.get('author')!.value, 'Müller and François');
  assert.deepEqual(Buffer.from(encodeBibText(latin.text, 'latin1', false)), latinBytes);
});

test('resolvedFields: crossref inheritance with title → booktitle; xdata; child wins; cycles', () => {
  const ex = parseBib(decodeBibBytes(readFixture('biblatex-examples.bib')).text);
  const child = findEntry(ex, 'westfahl:space')!;
  const r = resolvedFields(ex, child);
  assert.equal(r.get('title')!.value, 'The True Frontier');
  assert.equal(r.get('booktitle')!.value, 'Space and Beyond');
  assert.equal(r.get('publisher')!.value, 'Greenwood');
  assert.equal(r.get('editor')!.value, 'Westfahl, Gary');
  assert.equal(r.get('date')!.value, '2000');
  assert.equal(r.has('crossref'), true); // the child's own
  assert.equal(child.fields.has('publisher'), false); // not mutated

  const bib = parseBib(`
@inproceedings{c, title = {Paper}, crossref = {p}, xdata = {x}}
@proceedings{p, title = {Proc}, year = 2020, crossref = {c}, ids = {zz}}
@xdata{x, location = {Here}, year = 1999}
@article{a, crossref = {j}}
@periodical{j, title = {Journal}, volume = 3}
`);
  const rc = resolvedFields(bib, findEntry(bib, 'c')!);
  assert.equal(rc.get('title')!.value, 'Paper');
  assert.equal(rc.get('booktitle')!.value, 'Proc');
  assert.equal(rc.get('location')!.value, 'Here');
  assert.equal(rc.get('year')!.value, '1999'); // xdata comes first, then crossref
  assert.equal(rc.has('ids'), false);
  const ra = resolvedFields(bib, findEntry(bib, 'a')!);
  assert.equal(ra.get('journaltitle')!.value, 'Journal');
  assert.equal(ra.has('title'), false);
  assert.equal(ra.get('volume')!.value, '3');
});

test('parses 10,000 entries without an error', () => {
  const one = decodeBibBytes(readFixture('thesis-sharkdp-all.bib')).text;
  let big = '';
  for (let i = 0; big.split('\n@').length < 10_000; i++) big += one.replace(/^@(\w+)\{([^,]+),/gm, `@$1{$2-${i},`);
  const bib = parseBib(big);
  assert.ok(bib.entries.length >= 10_000);
  assert.equal(bib.errors.filter((e) => e.severity === 'error').length, 0);
  // Its speed is measured by `npm run bench` (test/bench/parse.mjs), not asserted here.
});
