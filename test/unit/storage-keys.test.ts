import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isKeyFolderName, keyToFolderName, resolveInside } from '../../src/core/storage/keys';
import { entryDir, storagePaths } from '../../src/core/storage/layout';
import { tempStorage } from './storage-helpers';

const HOSTILE = [
  '../../etc',
  '..',
  '.',
  '',
  'a/b',
  'a\\b',
  '/etc/passwd',
  'C:\\Windows',
  'c:foo',
  'CON',
  'con',
  'Con.txt',
  'NUL.txt',
  'nul.txt',
  'nul',
  'aux.tar.gz',
  'com1',
  'LPT9',
  'lpt1.x',
  'x.',
  'x..',
  'x ',
  'x. ',
  '.hidden',
  '..hidden',
  'a..b',
  'a*b',
  'a?b',
  'a"b',
  'a<b>c',
  'a|b',
  'a\0b',
  '\0',
  'tab\there',
  'new\nline',
  'x'.repeat(300),
  'é'.repeat(100),
  'Smith2020',
  'smith2020',
  'SMITH2020',
  'sMith2020',
  'DBLP:journals/corr/abs-1234',
  'müller2019',
  'Müller2019',
  '日本語2020',
  '~',
  'a~0123456789abcdef',
  'smith2020~0123456789abcdef',
  ' ',
  '-',
  '+',
  '_',
];

const SAFE_NAME = /^[A-Za-z0-9_+.~-]+$/;
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

test('ordinary lowercase keys are kept as they are', () => {
  for (const k of ['smith2020', 'smith2020a', 'doe-2019', 'knuth_1984', 'a.b', 'x+y', '2020smith']) {
    assert.equal(keyToFolderName(k), k);
  }
});

test('hostile keys map to safe names that stay inside by_key', () => {
  const { root, cleanup } = tempStorage();
  try {
    const byKey = storagePaths(root).byKey;
    fs.mkdirSync(byKey, { recursive: true });
    for (const k of HOSTILE) {
      const name = keyToFolderName(k);
      assert.match(name, SAFE_NAME, `name of ${JSON.stringify(k)}`);
      assert.ok(Buffer.byteLength(name) <= 120, `short name for ${JSON.stringify(k)}`);
      assert.ok(!name.startsWith('.'), `no leading dot: ${name}`);
      assert.ok(!name.endsWith('.') && !name.endsWith(' '), `no trailing dot/space: ${name}`);
      assert.ok(!RESERVED.test(name), `not a reserved device name: ${name}`);
      assert.ok(isKeyFolderName(name), `recognised as a key folder: ${name}`);
      const dir = entryDir(root, k);
      assert.equal(path.dirname(dir), byKey, `${JSON.stringify(k)} stays one level under by_key`);
      fs.mkdirSync(dir, { recursive: true });
    }
    // Nothing was created anywhere but inside by_key, and every key got its own folder.
    assert.deepEqual(fs.readdirSync(root), ['by_key']);
    assert.equal(fs.readdirSync(byKey).length, new Set(HOSTILE).size);
  } finally {
    cleanup();
  }
});

test('names are unique even when compared case-insensitively', () => {
  const keys = new Set(HOSTILE);
  // Random keys from a small alphabet with upper/lower case variants make case collisions likely.
  const alphabet = ['a', 'A', 'b', 'B', '.', '/', ':', '-', '_', 'é', 'É', '\0', ' ', '1'];
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 5000; i++) {
    const len = 1 + Math.floor(rnd() * 6);
    let k = '';
    for (let j = 0; j < len; j++) k += alphabet[Math.floor(rnd() * alphabet.length)];
    keys.add(k);
  }
  const seen = new Map<string, string>();
  for (const k of keys) {
    const folded = keyToFolderName(k).toLowerCase();
    const other = seen.get(folded);
    assert.equal(other, undefined, `${JSON.stringify(k)} and ${JSON.stringify(other)} fold to ${folded}`);
    seen.set(folded, k);
  }
});

test('mapping is stable across calls and releases (fixed expectations)', () => {
  assert.equal(keyToFolderName('Smith2020'), keyToFolderName('Smith2020'));
  assert.match(keyToFolderName('Smith2020'), /^Smith2020~[0-9a-f]{16}$/);
  assert.notEqual(keyToFolderName('Smith2020'), keyToFolderName('smith2020'));
  assert.equal(keyToFolderName('smith2020'), 'smith2020');
  // Pinned: changing the scheme would orphan every existing library.
  assert.equal(keyToFolderName('Smith2020'), 'Smith2020~7f9837a3b2d1db43');
  assert.equal(keyToFolderName('../../etc'), '_etc~74ccf3c5b4c19a81');
  assert.equal(keyToFolderName('CON'), '_CON~a3dbc4b644a9a2c5');
  assert.equal(keyToFolderName('DBLP:journals/corr/abs-1234'), 'DBLP_journals_corr_abs-1234~108bdaf4c5ffa07e');
  assert.match(keyToFolderName('con'), /^_con~[0-9a-f]{16}$/);
  assert.match(keyToFolderName(''), /^_~[0-9a-f]{16}$/);
  assert.match(keyToFolderName('x'.repeat(300)), /^x{60}~[0-9a-f]{16}$/);
});

test('resolveInside refuses lexical escapes', () => {
  const { root, cleanup } = tempStorage();
  try {
    for (const rel of ['..', '../x', 'a/../../x', '/etc/passwd', path.resolve(root, '..', 'x'), 'a\0b']) {
      assert.throws(() => resolveInside(root, rel), { code: 'E_PATH_ESCAPE' }, rel);
    }
    assert.equal(resolveInside(root, 'a/b/../c'), path.join(root, 'a', 'c'));
    assert.equal(resolveInside(root, '..foo'), path.join(root, '..foo'));
    assert.equal(resolveInside(root, ''), path.resolve(root));
  } finally {
    cleanup();
  }
});

test('resolveInside refuses escapes through symlinks, also for paths that do not exist yet', { skip: process.platform === 'win32' }, () => {
  const { root, cleanup } = tempStorage();
  try {
    const outside = path.join(path.dirname(root), 'outside');
    fs.mkdirSync(outside);
    fs.mkdirSync(path.join(root, 'by_key'));
    fs.symlinkSync(outside, path.join(root, 'by_key', 'evil'));
    assert.throws(() => resolveInside(root, 'by_key/evil/metadata.json'), { code: 'E_PATH_ESCAPE' });
    assert.throws(() => resolveInside(root, 'by_key/evil/not/yet/there'), { code: 'E_PATH_ESCAPE' });
    // A link that stays inside is fine.
    fs.mkdirSync(path.join(root, 'real'));
    fs.symlinkSync(path.join(root, 'real'), path.join(root, 'by_key', 'ok'));
    assert.equal(resolveInside(root, 'by_key/ok/x'), path.join(root, 'by_key', 'ok', 'x'));
    // The storage root itself may be reached through a link (e.g. ~/storage -> /data/storage).
    const alias = path.join(path.dirname(root), 'alias');
    fs.symlinkSync(root, alias);
    assert.equal(resolveInside(alias, 'by_key/x'), path.join(alias, 'by_key', 'x'));
  } finally {
    cleanup();
  }
});
