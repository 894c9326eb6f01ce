/**
 * A storage folder lives inside the user's repository. Without a .gitignore its PDFs (often
 * licensed, never the user's to publish) and the index get committed and pushed, so a new
 * storage folder ignores everything in it. Written only when the folder is created: a user who
 * deletes or edits it has decided, and we never put it back.
 */
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { atomicWriteFile } from './atomic';

export const GITIGNORE_TEXT = `# Written by Scholar when this folder was created. It keeps the PDFs and the index out of git
# (they are often licensed, and the index is a cache). To version the library, delete this
# file, or set "scholar.storage.gitignore": false (CLI: --no-gitignore) before the folder exists.
*
`;

/** True when `root` does not exist yet: call before anything creates it. */
export function storageIsNew(root: string): boolean {
  return !existsSync(root);
}

/** Writes `<root>/.gitignore` unless one is there already. Returns whether it wrote. */
export async function writeStorageGitignore(root: string): Promise<boolean> {
  const file = path.join(root, '.gitignore');
  if (existsSync(file)) return false;
  await fsp.mkdir(root, { recursive: true });
  await atomicWriteFile(file, GITIGNORE_TEXT);
  return true;
}
