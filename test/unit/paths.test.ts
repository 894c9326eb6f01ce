import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isInside, isLexicallyInside } from '../../src/core/paths';
import { resolveInside } from '../../src/core/storage/keys';

function tempTree(): { base: string; storage: string; outside: string; cleanup: () => void } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-'));
  const storage = path.join(base, 'ws', 'storage');
  const outside = path.join(base, 'elsewhere');
  fs.mkdirSync(path.join(storage, 'by_key'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.pdf'), '%PDF-1.4 not yours');
  return { base, storage, outside, cleanup: () => fs.rmSync(base, { recursive: true, force: true }) };
}

test('lexical containment: the root and below are inside, siblings with a shared prefix and parents are not', () => {
  assert.equal(isLexicallyInside('/a/storage', '/a/storage'), true);
  assert.equal(isLexicallyInside('/a/storage', '/a/storage/by_key/x'), true);
  assert.equal(isLexicallyInside('/a/storage', '/a/storage/..name'), true);
  assert.equal(isLexicallyInside('/a/storage', '/a/storage-2/x'), false);
  assert.equal(isLexicallyInside('/a/storage', '/a/storage/../x'), false);
  assert.equal(isLexicallyInside('/a/storage', '/a'), false);
});

test('a symbolic link inside storage that points out of it is refused', (t) => {
  const { storage, outside, cleanup } = tempTree();
  t.after(cleanup);
  const link = path.join(storage, 'by_key', 'evil');
  fs.symlinkSync(outside, link, 'dir');
  const target = path.join(link, 'secret.pdf');
  // As written the path is inside; on disk it is not.
  assert.equal(isLexicallyInside(storage, target), true);
  assert.equal(isInside(storage, target), false);
  // Also for a file that does not exist yet below the link (a download about to be written there).
  assert.equal(isInside(storage, path.join(link, 'new', 'paper.pdf')), false);
  assert.throws(() => resolveInside(storage, 'by_key/evil/secret.pdf'), (e: { code?: string; message?: string }) => e.code === 'E_PATH_ESCAPE' && /through a link/.test(e.message ?? ''));
});

test('a symbolic link that stays inside storage is accepted, and a storage root reached through a link is fine', (t) => {
  const { base, storage, cleanup } = tempTree();
  t.after(cleanup);
  fs.mkdirSync(path.join(storage, 'by_key', 'real'));
  fs.symlinkSync(path.join(storage, 'by_key', 'real'), path.join(storage, 'by_key', 'alias'), 'dir');
  assert.equal(isInside(storage, path.join(storage, 'by_key', 'alias', 'paper.pdf')), true);
  const linkedRoot = path.join(base, 'storage-link');
  fs.symlinkSync(storage, linkedRoot, 'dir');
  assert.equal(isInside(linkedRoot, path.join(linkedRoot, 'by_key', 'real')), true);
  assert.equal(resolveInside(linkedRoot, 'by_key/real/paper.pdf'), path.join(linkedRoot, 'by_key', 'real', 'paper.pdf'));
});
