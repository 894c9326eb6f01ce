import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadBibFile } from '../../src/core/tex/project';
import { unifiedDiff, writeDoisToFile, planDoiEdits } from '../../src/core/resolve/writeback';
import { applyEdits } from '../../src/core/bib/edit';

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
