/**
 * The one place where a citation key becomes a folder name, and the one guard that keeps
 * derived paths inside the storage root.
 *
 * Folder-name scheme (stable: depends on the key alone, never on what is already on disk):
 *
 * 1. A key is kept unchanged ("plain") when ALL of these hold:
 *    - it matches /^[a-z0-9_+-][a-z0-9_.+-]*$/ (lowercase ASCII letters, digits, `_ + - .`,
 *      not starting with a dot);
 *    - it contains no `..` and does not end with `.`;
 *    - its stem (text before the first `.`) is not a Windows reserved device name
 *      (con, prn, aux, nul, com0-9, lpt0-9);
 *    - it is at most 120 bytes.
 * 2. Every other key becomes `<prefix>~<hash>` where
 *    - hash = the first 16 lowercase hex digits of sha256(UTF-8 of the exact key);
 *    - prefix = the key with every character outside [A-Za-z0-9_+-] replaced by `_`
 *      (dots included, so the stem can never be `nul.` + something), runs of `_` collapsed,
 *      cut to 60 bytes, `_` when empty, and `_`-prefixed when it is itself a reserved name.
 *
 * Why this is unique, also on case-insensitive file systems (macOS, Windows): plain names are
 * all-lowercase and contain no `~`, so two different plain keys never fold to the same name and
 * a plain name never equals a hashed one. Hashed names carry a lowercase hex digest of the exact
 * key, so `Smith2020` and `SMITH2020` get different digests even though their prefixes fold
 * together. `:` is not allowed (alternate data streams on NTFS), nor uppercase (case folding):
 * `Smith2020` therefore maps to `Smith2020~<hash>` — still readable, and stable.
 * The exact key is always recorded in the folder's metadata.json; readers trust that, not the name.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { ScholarError } from '../errors';
import { isInside, isLexicallyInside } from '../paths';

export const MAX_PLAIN_KEY_BYTES = 120;
const PREFIX_MAX_BYTES = 60;
const HASH_HEX_CHARS = 16;

const PLAIN_RE = /^[a-z0-9_+-][a-z0-9_.+-]*$/;
const RESERVED_RE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

function isPlainKey(key: string): boolean {
  if (!PLAIN_RE.test(key)) return false;
  if (key.includes('..') || key.endsWith('.')) return false;
  const stem = key.split('.', 1)[0]!;
  if (RESERVED_RE.test(stem)) return false;
  return Buffer.byteLength(key, 'utf8') <= MAX_PLAIN_KEY_BYTES;
}

/** Hex digest used by the hashed form; exported for tests and diagnostics. */
export function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex').slice(0, HASH_HEX_CHARS);
}

/** Maps a citation key to the name of its folder under `by_key/` (see the scheme above). */
export function keyToFolderName(key: string): string {
  if (typeof key !== 'string') throw new ScholarError('E_BAD_KEY', 'citation key must be a string');
  if (isPlainKey(key)) return key;
  // ASCII-only after replacement, so bytes === characters and slicing cannot split a code point.
  let prefix = key.replace(/[^A-Za-z0-9_+-]+/g, '_').replace(/_+/g, '_').slice(0, PREFIX_MAX_BYTES);
  if (prefix === '') prefix = '_';
  if (RESERVED_RE.test(prefix)) prefix = `_${prefix}`;
  return `${prefix}~${keyHash(key)}`;
}

/** True for names produced by keyToFolderName (used by scanners to skip temp/lock files). */
export function isKeyFolderName(name: string): boolean {
  return isPlainKey(name) || /^[A-Za-z0-9_+-]{1,61}~[0-9a-f]{16}$/.test(name);
}

/**
 * Resolves `rel` against `root` and refuses (E_PATH_ESCAPE) anything that lands outside root,
 * both lexically (after normalisation) and physically (after resolving symlinks of the deepest
 * existing ancestor, so a symlinked folder inside storage cannot point out of it).
 * Returns the lexical absolute path (the caller's view), not the realpath.
 */
export function resolveInside(root: string, rel: string): string {
  if (typeof rel !== 'string' || rel.includes('\0')) {
    throw new ScholarError('E_PATH_ESCAPE', 'path contains a NUL byte', { rel: String(rel) });
  }
  const absRoot = path.resolve(root);
  const target = path.resolve(absRoot, rel);
  if (!isLexicallyInside(absRoot, target)) {
    throw new ScholarError('E_PATH_ESCAPE', `path escapes the storage folder: ${rel}`, { root: absRoot, rel });
  }
  if (!isInside(absRoot, target)) {
    throw new ScholarError('E_PATH_ESCAPE', `path escapes the storage folder through a link: ${rel}`, {
      root: absRoot,
      rel,
    });
  }
  return target;
}
