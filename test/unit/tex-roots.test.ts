import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { bibCandidates, bibInputs, documentScopes, texHeader, type TexNode } from '../../src/core/tex/roots';
import { scanTex } from '../../src/core/tex/scan';

const R = path.resolve('/ws');
const nodes = (files: Record<string, string>) => new Map<string, TexNode>(Object.entries(files).map(([f, t]) => [path.join(R, f), { scan: scanTex(t), header: texHeader(t) }]));
const names = (m: Map<string, { declarations: { name: string }[] }>, f: string) => m.get(path.join(R, f))!.declarations.map((d) => d.name);

test('texHeader: magic root comment, document class, subfiles main', () => {
  assert.deepEqual(texHeader('% !TEX root = ../main.tex\n\\section{A}'), { magicRoot: '../main.tex' });
  assert.deepEqual(texHeader('%!TeX root=main.tex\n'), { magicRoot: 'main.tex' });
  assert.deepEqual(texHeader('\\documentclass[11pt]{article}'), { documentClass: 'article' });
  assert.deepEqual(texHeader('\\documentclass[../main.tex]{subfiles}'), { documentClass: 'subfiles', subfilesMain: '../main.tex' });
  assert.deepEqual(texHeader('% \\documentclass{article}'), {});
});

test('two papers in one workspace each see their own bibliography; chapters see their root\u2019s', () => {
  const m = documentScopes(
    nodes({
      'a/main.tex': '\\documentclass{article}\\addbibresource{refs-a.bib}\\input{chapters/one}',
      'a/chapters/one.tex': '\\cite{x}',
      'b/paper.tex': '\\documentclass{article}\\bibliography{refs-b,/abs/other}\\include{sec}',
      'b/sec.tex': '\\cite{y}',
      'c/part.tex': '% !TEX root = ../a/main.tex\n\\cite{z}',
      'd/sub.tex': '\\documentclass[../b/paper.tex]{subfiles}\n\\cite{w}',
      'loose.tex': '\\cite{q}',
    }),
  );
  assert.deepEqual(names(m, 'a/main.tex'), ['refs-a.bib']);
  assert.deepEqual(names(m, 'a/chapters/one.tex'), ['refs-a.bib']);
  assert.deepEqual(names(m, 'b/sec.tex'), ['refs-b', '/abs/other']);
  assert.deepEqual(names(m, 'c/part.tex'), ['refs-a.bib']);
  assert.deepEqual(names(m, 'd/sub.tex'), ['refs-b', '/abs/other']);
  assert.deepEqual(names(m, 'loose.tex'), []);
  // Relative names are resolved from the root's folder, also for a chapter in a subfolder.
  assert.equal(m.get(path.join(R, 'a/chapters/one.tex'))!.declarations[0]!.rootDir, path.join(R, 'a'));
});

test('a root named by % !TEX root that is not known is reported, not guessed', () => {
  const m = documentScopes(nodes({ 'x.tex': '% !TEX root = /elsewhere/main.tex\n\\cite{a}' }));
  assert.equal(m.get(path.join(R, 'x.tex'))!.unknownRoot, path.resolve('/elsewhere/main.tex'));
});

test('a chapter included by two roots sees both bibliographies; include cycles end', () => {
  const m = documentScopes(
    nodes({
      'p1.tex': '\\documentclass{book}\\bibliography{one}\\input{shared}',
      'p2.tex': '\\documentclass{book}\\bibliography{two}\\input{shared}',
      'shared.tex': '\\input{loop}',
      'loop.tex': '\\input{shared}',
    }),
  );
  assert.deepEqual(names(m, 'loop.tex').sort(), ['one', 'two']);
});

test('bibCandidates: .bib added when missing, root folder first, then BIBINPUTS; absolute as is; remote none', () => {
  const d = { rootDir: path.join(R, 'a') };
  assert.deepEqual(bibCandidates({ ...d, name: 'refs' }, [path.resolve('/texmf/bib')]), [path.join(R, 'a/refs.bib'), path.join(R, 'a/refs'), path.resolve('/texmf/bib/refs.bib'), path.resolve('/texmf/bib/refs')]);
  assert.deepEqual(bibCandidates({ ...d, name: path.resolve('/z/lib.bib') }, []), [path.resolve('/z/lib.bib')]);
  assert.deepEqual(bibCandidates({ ...d, name: 'https://example.org/x.bib' }, []), []);
  assert.deepEqual(bibCandidates({ ...d, name: '~/zotero.bib' }, [], path.resolve('/home/u')), [path.resolve('/home/u/zotero.bib')]);
  assert.deepEqual(bibInputs('/a//:/b::', ':'), ['/a', '/b']);
});
