import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, statSync, chmodSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { loadBibFile } from '../../src/core/tex/project';
import { unifiedDiff, unifiedDiffOfEdits, writeDoisToFile, planDoiEdits } from '../../src/core/resolve/writeback';
import { parseBib } from '../../src/core/bib/parse';
import { startReplayServer } from '../../src/replay';
import { applyEdits } from '../../src/core/bib/edit';
import { endpointFlags } from './cli-helpers';

const BIB = `@article{a,
  author = {Doe, Jane},
  title  = {First},
  year   = {2020}
}

@article{b,
  author = {Roe, Rich},
  title  = {Second},
  year   = {2021},
  doi    = {10.1/already}
}
`;

test('writes only the new doi line and keeps the file mode', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-wb-'));
  const file = path.join(dir, 'refs.bib');
  writeFileSync(file, BIB);
  chmodSync(file, 0o600);
  const bib = await loadBibFile(file);
  const r = await writeDoisToFile(bib, [{ key: 'a', doi: '10.5555/x.1' }, { key: 'b', doi: '10.5555/other' }]);
  assert.equal(r.written, 1);
  assert.deepEqual(r.skipped, ['b'], 'an entry that has a DOI is not overwritten');
  const after = readFileSync(file, 'utf8');
  assert.equal(after.replace('  year   = {2020},\n  doi    = {10.5555/x.1}\n', '  year   = {2020}\n'), BIB);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('refuses to write a file that changed since it was read', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-wb-'));
  const file = path.join(dir, 'refs.bib');
  writeFileSync(file, BIB);
  const bib = await loadBibFile(file);
  writeFileSync(file, BIB + '\n% edited by a co-author\n');
  await assert.rejects(writeDoisToFile(bib, [{ key: 'a', doi: '10.5555/x.1' }]), (e: { code?: string }) => e.code === 'E_BIB_CHANGED');
  assert.match(readFileSync(file, 'utf8'), /edited by a co-author/);
});

test('the dry-run diff is a unified diff that patch(1) applies', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-wb-'));
  const file = path.join(dir, 'refs.bib');
  writeFileSync(file, BIB);
  const bib = await loadBibFile(file);
  const { edits } = planDoiEdits(bib.file, [{ key: 'a', doi: '10.5555/x.1' }]);
  const after = applyEdits(bib.file.text, edits);
  const diff = unifiedDiff(bib.file.text, after, 'refs.bib');
  assert.match(diff, /^--- a\/refs\.bib\n\+\+\+ b\/refs\.bib\n@@ -\d+,\d+ \+\d+,\d+ @@\n/);
  assert.match(diff, /\n-  year   = \{2020\}\n\+  year   = \{2020\},\n\+  doi    = \{10\.5555\/x\.1\}\n/);
  const hasPatch = spawnSync('patch', ['--version']).status === 0;
  if (!hasPatch) {
    t.diagnostic('patch(1) not installed: checked the diff text only');
    return;
  }
  writeFileSync(path.join(dir, 'd.patch'), diff);
  const r = spawnSync('patch', ['-p1', '-i', 'd.patch'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.equal(readFileSync(file, 'utf8'), after);
});

test('the diff built from the edits equals the generic diff, on real .bib files edited at random places', () => {
  const dir = path.resolve(__dirname, '../../test/fixtures/bib');
  let seed = 7;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.bib'))) {
    const file = parseBib(readFileSync(path.join(dir, f), 'utf8'));
    const noDoi = file.entries.filter((e) => !e.fields.get('doi'));
    const writes = noDoi.filter(() => rand() < 0.2).slice(0, 40).map((e, i) => ({ key: e.key, doi: `10.5555/test.${i}` }));
    const { edits } = planDoiEdits(file, writes);
    if (!edits.length) continue;
    const after = applyEdits(file.text, edits);
    assert.equal(unifiedDiffOfEdits(file.text, edits, f), unifiedDiff(file.text, after, f), f);
  }
});

test('scholar resolve --dry-run on a 20,000-line .bib changed near both ends stays under 300 MB', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-wb-big-'));
  const filler = (i: number) => `@article{fill${i},\n  author  = {Filler, Fay},\n  title   = {Filler entry number ${i}},\n  journal = {Journal of Fillers},\n  year    = {2001},\n  volume  = {${i}},\n  pages   = {1--2},\n  doi     = {10.5555/filler.${i}},\n  note    = {kept as it is}\n}\n`;
  const lines = (s: string) => s.split('\n').length - 1;
  const ends = [
    `@article{top,\n  author  = {Makris, Eleftherios A. and Responte, Donald J.},\n  title   = {Developing functional musculoskeletal tissues through hypoxia and lysyl oxidase-induced collagen cross-linking},\n  journal = {Proceedings of the National Academy of Sciences},\n  year    = {2014}\n}\n`,
  ];
  let body = ends[0];
  let i = 0;
  while (lines(body) < 20_000) body += filler(i++);
  body += ends[0].replace('{top,', '{bottom,');
  const file = path.join(dir, 'big.bib');
  writeFileSync(file, body);
  assert.ok(lines(body) >= 20_000);
  const server = await startReplayServer({ fixturesDir: path.resolve(__dirname, '../../test/fixtures') });
  try {
    const preload = path.join(dir, 'rss.js');
    writeFileSync(preload, "process.on('exit', () => process.stderr.write('MAXRSS_KB ' + process.resourceUsage().maxRSS + '\\n'));\n");
    const endpoints = endpointFlags(server.endpoints);
    const cli = path.resolve(__dirname, '../../dist/cli.js');
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--require', preload, cli, 'resolve', file, '--dry-run', '--no-check-existing', '--storage', path.join(dir, 'storage'), '--quiet', ...endpoints], { cwd: dir });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(r.code, 0, r.stderr);
    // Both ends get their DOI in the diff, in two hunks.
    assert.equal((r.stdout.match(/^\+ {2}doi {5}= \{10\.1073\/pnas\.1414271111\}$/gm) ?? []).length, 2, r.stdout.slice(0, 2000));
    assert.equal((r.stdout.match(/^@@ /gm) ?? []).length, 2);
    const rssMb = Number(/MAXRSS_KB (\d+)/.exec(r.stderr)?.[1]) / 1024;
    t.diagnostic(`peak RSS ${rssMb.toFixed(0)} MB`);
    assert.ok(rssMb > 0 && rssMb < 300, `peak RSS ${rssMb.toFixed(0)} MB`);
  } finally {
    await server.close();
  }
});

test('the diff from edits equals the generic diff at the end of a file, with and without a final newline', () => {
  for (const text of [BIB, BIB.replace(/\n$/, ''), `${BIB}\n`]) {
    const file = parseBib(text);
    const last = file.entries[file.entries.length - 1];
    const edits = [...planDoiEdits(file, [{ key: last.key, doi: '10.5555/end.1' }, { key: file.entries[0].key, doi: '10.5555/start.1' }]).edits, { offset: text.length, length: 0, text: '\n@misc{appended, title = {At the end}}\n' }];
    assert.equal(unifiedDiffOfEdits(text, edits, 'refs.bib'), unifiedDiff(text, applyEdits(text, edits), 'refs.bib'), JSON.stringify(text.slice(-20)));
  }
});
