// Merging a preprint entry and the published entry of one work (src/core/upgrade/merge.ts): the
// removed entry's bytes go and nothing else of its file changes; the kept entry gains only fields it
// lacked; the removed key becomes an `ids` alias or its \cite's are rewritten; the plan carries the
// removed text; the storage folder of the removed key is reported, never touched.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { applyEdits } from '../../src/core/bib/edit';
import { parseBib } from '../../src/core/bib/parse';
import { citeCounts, defaultKeep, planCiteRewrites, planMerge, removedKeyStorage } from '../../src/core/upgrade/merge';
import { entryDir } from '../../src/core/storage/layout';

const PRE = '@misc{okafor2021sparse,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Sparse Widgets for Reproducible Bibliographies},\n  year = {2021},\n  eprint = {2104.01234},\n  archivePrefix = {arXiv},\n  primaryClass = {cs.DL},\n  abstract = {We count widgets.}\n}\n';
const PUB = '@article{okafor2022sparse,\n  author = {Okafor, Ada and Lindqvist, Bo},\n  title = {Sparse widgets for reproducible bibliographies},\n  journal = {Journal of Replay Studies},\n  year = {2022},\n  doi = {10.5555/jrs.2022.7}\n}\n';
const OTHER = '@book{other,\n  title = {Other},\n  year = {1999}\n}\n';

function run(bibText: string, texts: Record<string, string>, keep: string, remove: string, mode: 'alias' | 'rewrite') {
  const file = parseBib(bibText);
  const texs = Object.entries(texts).map(([p, text]) => ({ path: p, text }));
  const plan = planMerge([{ path: 'refs.bib', file }], texs, { keep: { path: 'refs.bib', key: keep }, remove: { path: 'refs.bib', key: remove }, mode });
  const bib = plan.bib.find((b) => b.path === 'refs.bib');
  const after = bib ? applyEdits(bibText, bib.edits) : bibText;
  const texAfter = Object.fromEntries(texs.map((t) => [t.path, applyEdits(t.text, plan.tex.find((x) => x.path === t.path)?.edits ?? [])]));
  return { plan, after, texAfter, parsed: parseBib(after) };
}

test('merge: keeping the published entry removes the preprint entry, copies its eprint fields and abstract, rewrites the cites', () => {
  const bib = `${OTHER}\n${PRE}\n${PUB}`;
  const tex = { 'a.tex': 'See \\cite{okafor2021sparse} and \\citep[p.~3]{other, okafor2021sparse}.\n% \\cite{okafor2021sparse} in a comment\n', 'b.tex': 'Nothing here \\cite{other}.\n' };
  const { plan, after, texAfter, parsed } = run(bib, tex, 'okafor2022sparse', 'okafor2021sparse', 'rewrite');
  assert.deepEqual(parsed.entries.map((e) => e.key), ['other', 'okafor2022sparse']);
  assert.equal(parsed.errors.length, 0);
  const kept = parsed.entries[1];
  assert.equal(kept.fields.get('eprint')?.value, '2104.01234');
  assert.equal(kept.fields.get('archiveprefix')?.value, 'arXiv');
  assert.equal(kept.fields.get('primaryclass')?.value, 'cs.DL');
  assert.equal(kept.fields.get('abstract')?.value, 'We count widgets.');
  // What the published entry cites does not change.
  assert.equal(kept.fields.get('doi')?.value, '10.5555/jrs.2022.7');
  assert.equal(kept.fields.get('year')?.value, '2022');
  assert.ok(!kept.fields.has('ids'));
  assert.deepEqual(plan.copied, ['eprint', 'archiveprefix', 'primaryclass', 'abstract']);
  assert.equal(plan.removedText, PRE.trimEnd());
  // The file is the other entry, one blank line, the kept entry: the preprint's block and one separator gone.
  assert.ok(after.startsWith(`${OTHER}\n@article{okafor2022sparse,\n`), after);
  assert.equal(texAfter['a.tex'], 'See \\cite{okafor2022sparse} and \\citep[p.~3]{other, okafor2022sparse}.\n% \\cite{okafor2021sparse} in a comment\n');
  assert.equal(texAfter['b.tex'], tex['b.tex']);
  assert.equal(plan.citesRewritten, 2);
  assert.deepEqual(plan.tex.map((t) => t.path), ['a.tex']);
});

test('merge: alias mode adds ids = {old key} to the kept entry, rewrites no .tex, and says ids is for biber only', () => {
  const bib = `${PRE}\n${PUB}`;
  const tex = { 'a.tex': '\\cite{okafor2021sparse}\n' };
  const { plan, after, texAfter, parsed } = run(bib, tex, 'okafor2022sparse', 'okafor2021sparse', 'alias');
  assert.equal(parsed.entries.length, 1);
  assert.equal(parsed.entries[0].fields.get('ids')?.value, 'okafor2021sparse');
  assert.equal(texAfter['a.tex'], tex['a.tex']);
  assert.equal(plan.tex.length, 0);
  assert.ok(plan.notes.some((n) => /biber/.test(n) && /BibTeX/.test(n)), plan.notes.join('; '));
  // The kept entry's own lines keep their bytes; only new lines are added.
  for (const line of PUB.split('\n').filter((l) => l && !l.startsWith('}'))) assert.ok(after.includes(line.replace(/\}$/, '}')), line);
});

test('merge: keeping the preprint key copies no published identity into it (that is what Cite the published version is for)', () => {
  const bib = `${PRE}\n${PUB}`;
  const { parsed, plan } = run(bib, {}, 'okafor2021sparse', 'okafor2022sparse', 'rewrite');
  const kept = parsed.entries[0];
  assert.equal(parsed.entries.length, 1);
  assert.ok(!kept.fields.has('doi') && !kept.fields.has('journal'));
  assert.equal(kept.type, 'misc');
  assert.deepEqual(plan.copied, []);
  assert.equal(plan.bib[0].edits.length, 1, 'only the removal');
});

test('merge: an arXiv id given only in the url becomes eprint (eprinttype in a BibLaTeX entry); CRLF files stay CRLF; undoing the edits restores every byte', () => {
  const pre = '@online{pre,\r\n  author = {Okafor, Ada},\r\n  title = {Sparse Widgets},\r\n  date = {2021},\r\n  url = {https://arxiv.org/abs/2104.01234v2},\r\n}\r\n';
  const pub = '@article{pub,\r\n  author = {Okafor, Ada},\r\n  title = {Sparse Widgets},\r\n  journaltitle = {J},\r\n  date = {2022},\r\n}\r\n';
  const bib = `${pre}\r\n${pub}`;
  const { plan, after, parsed } = run(bib, {}, 'pub', 'pre', 'rewrite');
  assert.equal(parsed.entries[0].fields.get('eprint')?.value, '2104.01234');
  assert.equal(parsed.entries[0].fields.get('eprinttype')?.value, 'arxiv', 'BibLaTeX entry: eprinttype');
  assert.ok(!/[^\r]\n/.test(after), 'no bare LF');
  // Inverse edits rebuilt from the plan restore the original (what an editor's undo does).
  const edits = plan.bib[0].edits;
  const sorted = [...edits].sort((a, b) => a.offset - b.offset);
  let shift = 0;
  const inverse = sorted.map((e) => {
    const inv = { offset: e.offset + shift, length: e.text.length, text: bib.slice(e.offset, e.offset + e.length) };
    shift += e.text.length - e.length;
    return inv;
  });
  assert.equal(applyEdits(after, inverse), bib);
});

test('merge: a key list already naming the kept key loses the old key instead of naming the kept key twice', () => {
  assert.equal(applyEdits('\\cite{a, b}', planCiteRewrites('\\cite{a, b}', 'a', 'b')), '\\cite{b}');
  assert.equal(applyEdits('\\cite{b,a}', planCiteRewrites('\\cite{b,a}', 'a', 'b')), '\\cite{b}');
  assert.equal(applyEdits('\\cite{x,a,b}', planCiteRewrites('\\cite{x,a,b}', 'a', 'b')), '\\cite{x,b}');
  assert.equal(applyEdits('\\textcite{ab,a}', planCiteRewrites('\\textcite{ab,a}', 'a', 'c')), '\\textcite{ab,c}');
});

test('merge: the default key is the one cited more often; a tie keeps the published entry; bad requests are refused', () => {
  const texs = [{ path: 'a.tex', text: '\\cite{p}\\cite{p}\\cite{q}% \\cite{q}\\cite{q}\n' }];
  const counts = citeCounts(texs, ['p', 'q']);
  assert.deepEqual([...counts], [['p', 2], ['q', 1]]);
  assert.equal(defaultKeep({ key: 'p' }, { key: 'q' }, counts).key, 'p');
  assert.equal(defaultKeep({ key: 'p' }, { key: 'q' }, new Map()).key, 'q');
  const file = parseBib(`${PRE}\n${PUB}`);
  assert.throws(() => planMerge([{ path: 'r', file }], [], { keep: { path: 'r', key: 'okafor2021sparse' }, remove: { path: 'r', key: 'OKAFOR2021sparse' }, mode: 'rewrite' }), { code: 'E_MERGE_SAME_KEY' });
  assert.throws(() => planMerge([{ path: 'r', file }], [], { keep: { path: 'r', key: 'okafor2021sparse' }, remove: { path: 'r', key: 'missing' }, mode: 'rewrite' }), { code: 'E_MERGE_NO_ENTRY' });
});

test('merge: entries in two .bib files; a crossref to the removed key is reported', () => {
  const a = parseBib(`${PRE}`);
  const b = parseBib(`${PUB}\n@inbook{ch, crossref = {okafor2021sparse}, title = {Ch}}\n`);
  const plan = planMerge([{ path: 'a.bib', file: a }, { path: 'b.bib', file: b }], [], { keep: { path: 'b.bib', key: 'okafor2022sparse' }, remove: { path: 'a.bib', key: 'okafor2021sparse' }, mode: 'rewrite' });
  assert.equal(applyEdits(a.text, plan.bib.find((x) => x.path === 'a.bib')!.edits), '');
  assert.ok(parseBib(applyEdits(b.text, plan.bib.find((x) => x.path === 'b.bib')!.edits)).entries[0].fields.has('eprint'));
  assert.ok(plan.notes.some((n) => n.includes("'ch'") && n.includes('crossref')), plan.notes.join('; '));
});

test('merge: the removed key\'s storage folder is reported (with its PDF) and left untouched', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-'));
  try {
    assert.equal(await removedKeyStorage(root, 'pre', 'pub'), undefined);
    const dir = entryDir(root, 'pre');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'metadata.json'), '{}');
    assert.match((await removedKeyStorage(root, 'pre', 'pub'))!, /holds no PDF/);
    fs.writeFileSync(path.join(dir, 'paper.pdf'), '%PDF-1.4');
    const msg = (await removedKeyStorage(root, 'pre', 'pub'))!;
    assert.match(msg, /not deleted/);
    assert.match(msg, /by_key\/pre\/paper\.pdf/);
    assert.ok(fs.existsSync(path.join(dir, 'paper.pdf')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
