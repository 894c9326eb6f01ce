/**
 * Path containment, written once. A path derived from input (a citation key, a `file` field, a
 * setting) must stay inside its root both as written and on disk: a symbolic link inside the root
 * may point anywhere, so the check resolves links of the deepest part that exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** `p` is `root` or below it, as written (after normalisation, before following links). */
export function isLexicallyInside(root: string, p: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(p));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** realpath of the deepest existing ancestor of p, with the missing tail appended. */
export function realpathDeepest(p: string): string {
  const tail: string[] = [];
  let cur = path.resolve(p);
  for (;;) {
    try {
      const real = fs.realpathSync.native(cur);
      return tail.length ? path.join(real, ...tail.reverse()) : real;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const parent = path.dirname(cur);
      if (parent === cur) return path.resolve(p);
      tail.push(path.basename(cur));
      cur = parent;
    }
  }
}

/** `p` is `root` or below it both as written and after following symbolic links. */
export function isInside(root: string, p: string): boolean {
  return isLexicallyInside(root, p) && isLexicallyInside(realpathDeepest(root), realpathDeepest(p));
}
