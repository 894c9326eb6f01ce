/**
 * Where things live inside a storage folder. Every path under storage/ is built here from
 * constants and keyToFolderName, and checked by resolveInside.
 *
 *   <storage>/by_key/<folder>/metadata.json    the entry (source of truth)
 *   <storage>/by_key/<folder>/paper.pdf        the verified PDF, renamed in by the writer
 *   <storage>/by_key/<folder>/fulltext.txt     its text (pdf.js), a header line naming the PDF's sha256
 *   <storage>/by_key/<folder>/.tmp-<pid>-<host>-<r>.part   a worker's download in progress
 *   <storage>/jobs/<id>.json                   job state
 *   <storage>/locks/<folder>.lock              claim on a key (download in progress), cross-process
 *   <storage>/locks/meta/<folder>.lock         short lock around a metadata read-modify-write
 *   <storage>/tmp/                             scratch for workers (same file system)
 *   <storage>/library.sqlite                   the search index (a cache, rebuilt from by_key/)
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ScholarError } from '../errors';
import { HOST_TAG } from './atomic';
import { keyToFolderName, resolveInside } from './keys';

export const BY_KEY_DIR = 'by_key';
export const JOBS_DIR = 'jobs';
export const LOCKS_DIR = 'locks';
export const TMP_DIR = 'tmp';
export const INDEX_FILE = 'library.sqlite';
export const METADATA_FILE = 'metadata.json';
export const PDF_FILE = 'paper.pdf';
export const FULLTEXT_FILE = 'fulltext.txt';
export const DOWNLOAD_TEMP_PREFIX = '.tmp-';

export interface StoragePaths {
  root: string;
  byKey: string;
  jobs: string;
  locks: string;
  metaLocks: string;
  tmp: string;
  index: string;
}

export function storagePaths(storageRoot: string): StoragePaths {
  const root = path.resolve(storageRoot);
  return {
    root,
    byKey: path.join(root, BY_KEY_DIR),
    jobs: path.join(root, JOBS_DIR),
    locks: path.join(root, LOCKS_DIR),
    metaLocks: path.join(root, LOCKS_DIR, 'meta'),
    tmp: path.join(root, TMP_DIR),
    index: path.join(root, INDEX_FILE),
  };
}

export async function ensureStorageDirs(storageRoot: string): Promise<StoragePaths> {
  const p = storagePaths(storageRoot);
  for (const d of [p.byKey, p.jobs, p.metaLocks, p.tmp]) await fsp.mkdir(d, { recursive: true });
  return p;
}

/** Absolute folder of an entry; guaranteed inside storage/by_key. */
export function entryDir(storageRoot: string, key: string): string {
  return resolveInside(storagePaths(storageRoot).byKey, keyToFolderName(key));
}

export function metadataPath(storageRoot: string, key: string): string {
  return path.join(entryDir(storageRoot, key), METADATA_FILE);
}

export function pdfPath(storageRoot: string, key: string): string {
  return path.join(entryDir(storageRoot, key), PDF_FILE);
}

export function fulltextPath(storageRoot: string, key: string): string {
  return path.join(entryDir(storageRoot, key), FULLTEXT_FILE);
}

const JOB_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function jobStatePath(storageRoot: string, id: string): string {
  if (!JOB_ID_RE.test(id)) throw new ScholarError('E_BAD_JOB_ID', `job id must match ${JOB_ID_RE}: ${JSON.stringify(id)}`);
  return resolveInside(storagePaths(storageRoot).jobs, `${id}.json`);
}

/**
 * A fresh temp path for a worker's download of `key`, inside the entry's folder so the final
 * rename never crosses file systems. The pid and host tag in the name let startupCleanup tell orphans apart.
 */
export async function downloadTempPath(storageRoot: string, key: string, ext = 'part'): Promise<string> {
  const dir = entryDir(storageRoot, key);
  await fsp.mkdir(dir, { recursive: true });
  return path.join(dir, `${DOWNLOAD_TEMP_PREFIX}${process.pid}-${HOST_TAG}-${randomBytes(6).toString('hex')}.${ext}`);
}

/** True when `p` is a worker temp file the writer may move into place (by_key/<f>/.tmp-* or tmp/*). */
export function isWorkerTempPath(storageRoot: string, p: string): boolean {
  const sp = storagePaths(storageRoot);
  let abs: string;
  try {
    abs = resolveInside(sp.root, path.relative(sp.root, path.resolve(p)));
  } catch {
    return false;
  }
  const rel = path.relative(sp.root, abs).split(path.sep);
  if (rel.length === 2 && rel[0] === TMP_DIR) return true;
  return rel.length === 3 && rel[0] === BY_KEY_DIR && rel[2]!.startsWith(DOWNLOAD_TEMP_PREFIX);
}
