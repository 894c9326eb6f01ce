import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discoverProject, loadBibFile } from '../../src/core/tex/project';
import { readFixture } from './bib-helpers';

function tmpProject(files: Record<string, string | Buffer>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-'));
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return root;
}

test('discoverProject walks the folder, follows \\input, resolves bibliographies', async (t) => {
  const root = tmpProject({
    'main.tex': '\\documentclass{article}\n\\begin{document}\n\\input{chapters/one}\n\\include{chapters/two.tex}\n\\bibliography{refs,bib/extra}\n\\end{document}\n',
    'chapters/one.tex': 'One \\cite{a,b}.\n% \\cite{hidden}\n',
    'chapters/two.tex': 'Two \\parencite[5]{b}\\nocite{*}\n\\input{missing}\n',
    'refs.bib': '@misc{a, title = {A}}\n',
    'bib/extra.bib': '@misc{b, title = {B}}\n',
    'other/standalone.tex': '\\addbibresource{../refs.bib}\n\\textcite{c}\n',
    'node_modules/pkg/x.bib': '@misc{nm}\n',
    '.git/y.bib': '@misc{g}\n',
    'storage/by_key/a/z.bib': '@misc{s}\n',
    'drafts/old.tex': '\\cite{old}\n',
    'drafts/old.bib': '@misc{old}\n',
  });
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const p = await discoverProject(root, { storageFolder: 'storage', exclude: (rel) => rel.startsWith('drafts') });
  const rel = (xs: string[]) => xs.map((x) => path.relative(root, x).split(path.sep).join('/'));
  assert.deepEqual(rel(p.bibFiles), ['bib/extra.bib', 'refs.bib']);
  assert.deepEqual(rel(p.texFiles), ['chapters/one.tex', 'chapters/two.tex', 'main.tex', 'other/standalone.tex']);
  assert.deepEqual([...p.citedKeys.keys()].sort(), ['a', 'b', 'c']);
  assert.deepEqual(p.citedKeys.get('b')!.map((l) => [path.basename(l.file), l.line, l.column]), [
    ['one.tex', 1, 13],
    ['two.tex', 1, 19],
  ]);
  assert.equal(p.nociteAll, true);
  const bibsOf = (f: string) => rel(p.bibByTex.get(path.join(root, f))!);
  assert.deepEqual(bibsOf('main.tex'), ['refs.bib', 'bib/extra.bib']);
  assert.deepEqual(bibsOf('chapters/one.tex'), ['refs.bib', 'bib/extra.bib']);
  assert.deepEqual(bibsOf('other/standalone.tex'), ['refs.bib']);
  assert.deepEqual(
    p.missing.map((m) => [m.name, m.kind, m.line]),
    [['missing', 'input', 2]],
  );
});

test('discoverProject: abort and a missing root', async () => {
  const root = tmpProject({ 'a.tex': '\\cite{x}' });
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(discoverProject(root, { signal: ac.signal }), (e: Error) => e.name === 'AbortError');
  await assert.rejects(discoverProject(path.join(root, 'nope')), { code: 'E_PROJECT_ROOT' });
  fs.rmSync(root, { recursive: true, force: true });
});

test('loadBibFile decodes UTF-8 (with BOM) and Latin-1', async (t) => {
  const root = tmpProject({
    'utf.bib': readFixture('biblatex-examples.bib'),
    'latin.bib': Buffer.from('@book{k,\r\n  author = {G\xf6del, Kurt},\r\n}\r\n', 'latin1'),
    'bom.bib': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('@misc{k, title = {Ü}}')]),
  });
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const utf = await loadBibFile(path.join(root, 'utf.bib'));
  assert.equal(utf.encoding, 'utf8');
  assert.equal(utf.file.entries.length, 92);
  const latin = await loadBibFile(path.join(root, 'latin.bib'));
  assert.equal(latin.encoding, 'latin1');
  assert.equal(latin.file.eol, '\r\n');
  assert.equal(latin.file.entries[0].fields.get('author')!.value, 'Gödel, Kurt');
  const bom = await loadBibFile(path.join(root, 'bom.bib'));
  assert.equal(bom.bom, true);
  assert.equal(bom.file.entries[0].fields.get('title')!.value, 'Ü');
  await assert.rejects(loadBibFile(path.join(root, 'none.bib')), { code: 'E_BIB_READ' });
});
