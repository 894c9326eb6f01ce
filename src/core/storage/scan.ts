/**
 * Reading the entry folders (by_key/<folder>/metadata.json) back. Storage owns the folder layout,
 * so the scan lives here; the index (a cache rebuilt from these folders) calls it.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { isKeyFolderName, keyToFolderName } from './keys';
import { METADATA_FILE } from './layout';
import { validateMetadata, type Metadata } from './metadata';

/** The entry folder names under by_key/ (none when the folder does not exist yet). */
export async function listKeyFolders(byKey: string): Promise<string[]> {
  let ents;
  try {
    ents = await fsp.readdir(byKey, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return ents.filter((e) => e.isDirectory() && isKeyFolderName(e.name)).map((e) => e.name);
}

/**
 * One folder's validated metadata with its mtime; `{ error }` when it cannot be used, `{}` when it
 * has no metadata yet.
 */
export async function readKeyFolder(byKey: string, folder: string): Promise<{ meta: Metadata; mtimeMs: number } | { error?: string }> {
  const file = path.join(byKey, folder, METADATA_FILE);
  let text: string;
  let mtimeMs: number;
  try {
    const fh = await fsp.open(file, 'r');
    try {
      mtimeMs = (await fh.stat()).mtimeMs;
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    // A folder with only a download in progress has no metadata yet; that is not an error.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { error: (err as Error).message };
  }
  try {
    const meta = validateMetadata(JSON.parse(text), file);
    if (keyToFolderName(meta.key) !== folder) return { error: `key ${JSON.stringify(meta.key)} does not belong in folder ${folder}` };
    return { meta, mtimeMs };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
