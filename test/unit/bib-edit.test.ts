import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdits, hasOptOut, planFieldUpsert, type TextEdit } from '../../src/core/bib/edit';
import { decodeBibBytes, encodeBibText, findEntry, parseBib, type BibFile } from '../../src/core/bib/parse';
import { bibFixtures, readFixture } from './bib-helpers';

function addField(text: string, key: string, name: string, value: string): string {
  const bib = parseBib(text);
  return applyEdits(text, [planFieldUpsert(bib, findEntry(bib, key)!, name, value)]);
}

const ADDED_LINE = /^[ \t]*doi[ \t]*=[ \t]*[{"]10\.1234\/x\.[^\n]*[}"],?\r?$/i;

test('round-trip property over every fixture (LF and CRLF): add doi to each entry lacking one', () => {
  for (const [name, crlf] of bibFixtures().flatMap((n) => [[n, false] as const, [n, true] as const])) {
    const decoded = decodeBibBytes(readFixture(name));
    const { encoding, bom } = decoded;
    const text = crlf ? decoded.text.replace(/\r?\n/g, '\r\n') : decoded.text;
    const bytes = Buffer.from(encodeBibText(text, encoding, bom));
    const bib = parseBib(text);
    const edits: TextEdit[] = [];
    const added = new Set<string>();
    for (const e of bib.entries) {
      if (e.fields.has('doi')) continue;
      edits.push(planFieldUpsert(bib, e, 'doi', `10.1234/x.${e.key}`));
      added.add(e.key);
    }
    assert.ok(added.size > 0, name);
    const out = applyEdits(text, edits);
    if (crlf) assert.equal(/[^\r]\n/.test(out), false, `${name}: only CRLF line breaks`);

    // (a) same entries, same fields and values, plus the doi.
    const re = parseBib(out);
    assert.equal(re.entries.length, bib.entries.length, name);
    assert.deepEqual(
      re.errors.filter((x) => x.severity === 'error'),
      [],
      name,
    );
    for (let i = 0; i < bib.entries.length; i++) {
      const a = bib.entries[i];
      const b = re.entries[i];
      assert.equal(b.key, a.key);
      assert.equal(b.type, a.type);
      const want = new Map([...a.fields].map(([k, f]) => [k, f.value]));
      if (added.has(a.key)) want.set('doi', `10.1234/x.${a.key}`);
      assert.deepEqual(new Map([...b.fields].map(([k, f]) => [k, f.value])), want, `${name} ${a.key}`);
    }

    // (b) dropping exactly the added lines and the commas added before them gives the original bytes.
    const outLines = out.split('\n');
    const origLines = text.split('\n');
    const kept: string[] = [];
    const beforeAdded = new Set<number>();
    let removed = 0;
    for (const line of outLines) {
      if (ADDED_LINE.test(line)) {
        removed++;
        beforeAdded.add(kept.length - 1);
      } else kept.push(line);
    }
    assert.equal(removed, added.size, `${name}: every doi went on a line of its own`);
    assert.equal(kept.length, origLines.length, name);
    for (let i = 0; i < kept.length; i++) {
      if (kept[i] === origLines[i]) continue;
      assert.ok(beforeAdded.has(i), `${name}: line ${i + 1} changed but is not before an added line`);
      const c = kept[i].lastIndexOf(',');
      kept[i] = kept[i].slice(0, c) + kept[i].slice(c + 1);
      assert.equal(kept[i], origLines[i], `${name}: line ${i + 1}`);
    }
    // And the file encodes back to its own bytes once the additions are gone.
    assert.deepEqual(Buffer.from(encodeBibText(kept.join('\n'), encoding, bom)), bytes);
  }
});

test('new field follows the entry style: aligned spaces, trailing comma', () => {
  const text = '@Article{k,\n  author     = {A},\n  title      = {T},\n  year       = {2005},\n}\n';
  assert.equal(addField(text, 'k', 'doi', '10.1/x'), '@Article{k,\n  author     = {A},\n  title      = {T},\n  year       = {2005},\n  doi        = {10.1/x},\n}\n');
});

test('tabs after =, quotes style, no trailing comma, ( ) delimiters', () => {
  const text = '@article(bobrow:77,\n\tauthor =\t{D. Bobrow},\n\tyear =\t\t{1977},\n\ttitle =\t\t"An overview",\n\tnote =\t\t"x"\n)\n';
  assert.equal(
    addField(text, 'bobrow:77', 'doi', '10.1/x'),
    '@article(bobrow:77,\n\tauthor =\t{D. Bobrow},\n\tyear =\t\t{1977},\n\ttitle =\t\t"An overview",\n\tnote =\t\t"x",\n\tdoi =\t\t{10.1/x}\n)\n',
  );
  const quoted = '@misc{q,\n  title = "A",\n  note = "B"\n}\n';
  assert.equal(addField(quoted, 'q', 'doi', '10.1/x'), '@misc{q,\n  title = "A",\n  note = "B",\n  doi = "10.1/x"\n}\n');
});

test('uppercase names and value-column alignment (APA style)', () => {
  const text = '@ARTICLE{a,\n  AUTHOR         = {X},\n  TITLE          = {Y},\n}\n';
  assert.equal(addField(text, 'a', 'doi', '10.1/x'), '@ARTICLE{a,\n  AUTHOR         = {X},\n  TITLE          = {Y},\n  DOI            = {10.1/x},\n}\n');
});

test('CRLF, trailing blanks, last field sharing the closing line, comment after comma', () => {
  const crlf = '@book{c,\r\n  title = {T},\r\n  year = 2000\r\n}\r\n';
  assert.equal(addField(crlf, 'c', 'doi', '10.1/x'), '@book{c,\r\n  title = {T},\r\n  year = 2000,\r\n  doi = {10.1/x}\r\n}\r\n');
  const blanks = '@book{c,\n  title = {T},\n  year = 2000  \n}\n';
  assert.equal(addField(blanks, 'c', 'doi', '10.1/x'), '@book{c,\n  title = {T},\n  year = 2000,  \n  doi = {10.1/x}\n}\n');
  const sameLine = '@book{c,\n  title = {T},\n  year = 2000}\n';
  assert.equal(addField(sameLine, 'c', 'doi', '10.1/x'), '@book{c,\n  title = {T},\n  doi = {10.1/x},\n  year = 2000}\n');
  const comment = '@book{c,\n  title = {T}, % main title\n}\n';
  assert.equal(addField(comment, 'c', 'doi', '10.1/x'), '@book{c,\n  title = {T}, % main title\n  doi = {10.1/x},\n}\n');
});

test('one-line entries and entries without fields', () => {
  assert.equal(addField('@misc{k, title = {T}, year = 2000}\n', 'k', 'doi', '10.1/x'), '@misc{k, title = {T}, year = 2000, doi = {10.1/x}}\n');
  assert.equal(addField('@misc{k, title = {T},}\n', 'k', 'doi', '10.1/x'), '@misc{k, title = {T}, doi = {10.1/x},}\n');
  const file = '@misc{a,\n    title = {T},\n}\n@misc{k,\n}\n@misc{m}\n';
  assert.equal(addField(file, 'k', 'doi', '10.1/x'), '@misc{a,\n    title = {T},\n}\n@misc{k,\n    doi = {10.1/x},\n}\n@misc{m}\n');
  assert.equal(addField(file, 'm', 'doi', '10.1/x'), '@misc{a,\n    title = {T},\n}\n@misc{k,\n}\n@misc{m,\n    doi = {10.1/x},\n}\n');
  const fresh = '@misc{m}\n';
  const out = addField(fresh, 'm', 'doi', '10.1/x');
  assert.equal(out, '@misc{m,\n  doi = {10.1/x}\n}\n');
  assert.equal(parseBib(out).entries[0].fields.get('doi')!.value, '10.1/x');
});

test('changing an existing field replaces only its value', () => {
  const text = '@article{k,\n  doi = {10.1/OLD},\n  note = "n",\n  year = 1999,\n  month = jan # "~1"\n}\n';
  const bib: BibFile = parseBib(text);
  const e = bib.entries[0];
  const edit = planFieldUpsert(bib, e, 'DOI', '10.1/new');
  assert.deepEqual(edit, { offset: text.indexOf('{10.1/OLD}'), length: '{10.1/OLD}'.length, text: '{10.1/new}' });
  assert.equal(applyEdits(text, [planFieldUpsert(bib, e, 'note', 'm')]), text.replace('"n"', '"m"'));
  assert.equal(applyEdits(text, [planFieldUpsert(bib, e, 'year', '2000')]), text.replace('1999', '2000'));
  assert.equal(applyEdits(text, [planFieldUpsert(bib, e, 'note', 'say "hi"')]), text.replace('"n"', '{say "hi"}'));
  assert.equal(applyEdits(text, [planFieldUpsert(bib, e, 'month', 'feb')]), text.replace('jan # "~1"', '{feb}'));
  assert.throws(() => planFieldUpsert(bib, e, 'note', 'a}b{'), { code: 'E_EDIT_UNBALANCED' });
});

test('applyEdits applies in offset order and rejects overlaps', () => {
  assert.equal(
    applyEdits('abcdef', [
      { offset: 4, length: 1, text: 'E' },
      { offset: 0, length: 0, text: '>' },
    ]),
    '>abcdEf',
  );
  assert.throws(() =>
    applyEdits('abc', [
      { offset: 0, length: 2, text: '' },
      { offset: 1, length: 1, text: '' },
    ]),
  );
});

test('hasOptOut', () => {
  const bib = parseBib(
    '@misc{a, scholar = { Skip }}\n@misc{b, keywords = {ml, scholar-skip}}\n@misc{c, keywords = {scholar-skipper}}\n@misc{d, title = {x}}\n',
  );
  assert.deepEqual(
    bib.entries.map(hasOptOut),
    [true, true, false, false],
  );
});
