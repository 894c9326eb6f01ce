import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ATOMIC_TEMP_RE, HOST_TAG, atomicMoveInto, atomicTempPath, atomicWriteFile } from '../../src/core/storage/atomic';
import { tempStorage } from './storage-helpers';

test('atomicWriteFile creates and replaces, leaving no temp behind', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const f = path.join(root, 'a.json');
    await atomicWriteFile(f, 'one');
    await atomicWriteFile(f, new Uint8Array([116, 119, 111]));
    assert.equal(fs.readFileSync(f, 'utf8'), 'two');
    assert.deepEqual(fs.readdirSync(root), ['a.json']);
  } finally {
    cleanup();
  }
});

test('atomicWriteFile into a missing folder fails with a code and leaves nothing', async () => {
  const { root, cleanup } = tempStorage();
  try {
    await assert.rejects(atomicWriteFile(path.join(root, 'nope', 'a.json'), 'x'), { code: 'E_STORAGE_WRITE' });
    assert.deepEqual(fs.readdirSync(root), []);
  } finally {
    cleanup();
  }
});

test('temp names are hidden, carry the pid and host tag, and are recognised by cleanup', () => {
  const t = path.basename(atomicTempPath('/x/metadata.json'));
  assert.ok(t.startsWith('.metadata.json.'));
  const m = ATOMIC_TEMP_RE.exec(t);
  assert.ok(m);
  assert.equal(Number(m[1]), process.pid);
  assert.equal(m[2], HOST_TAG);
  assert.match(HOST_TAG, /^[0-9a-f]{8}$/);
  // Names written before host tags existed still match, without one.
  const old = ATOMIC_TEMP_RE.exec('.metadata.json.4242.abcdef012345.tmp');
  assert.equal(old?.[1], '4242');
  assert.equal(old?.[2], undefined);
});

test('atomicMoveInto replaces the target with the finished temp file', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const tmp = path.join(root, '.tmp-1-aa.part');
    const dst = path.join(root, 'paper.pdf');
    fs.writeFileSync(dst, 'old');
    fs.writeFileSync(tmp, 'new');
    await atomicMoveInto(tmp, dst);
    assert.equal(fs.readFileSync(dst, 'utf8'), 'new');
    assert.equal(fs.existsSync(tmp), false);
    await assert.rejects(atomicMoveInto(tmp, dst), { code: 'E_STORAGE_WRITE' });
  } finally {
    cleanup();
  }
});
