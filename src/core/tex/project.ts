/**
 * The project model: which .tex and .bib files make up a LaTeX project folder, which keys are
 * cited where, and which bibliographies each .tex file sees.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ScholarError } from '../errors';
import { decodeBibBytes, parseBib, type BibFile } from '../bib/parse';
import { scanTex, type TexScan } from './scan';

export interface CiteLocation {
  file: string;
  line: number;
  column: number;
}

export interface Project {
  root: string;
  /** Absolute paths, sorted: .bib files found in the folder plus those declared by .tex files. */
  bibFiles: string[];
  /** Absolute paths, sorted: .tex files found in the folder plus those reached by `\input`. */
  texFiles: string[];
  citedKeys: Map<string, CiteLocation[]>;
  nociteAll: boolean;
  /** For each .tex file, the .bib files in scope: its own declarations and those of the files that include it. */
  bibByTex: Map<string, string[]>;
  /** Declared bibliographies and inputs that could not be found. */
  missing: Array<{ file: string; name: string; kind: string; line: number; column: number }>;
}

export interface DiscoverOptions {
  /** Called with the path relative to `root` ('/' separators); true skips the file or folder. */
  exclude?: (relPath: string) => boolean;
  /** Scholar's storage folder (absolute or relative to `root`); never walked. */
  storageFolder?: string;
  signal?: AbortSignal;
}

const SKIP_DIRS = new Set(['node_modules', '.git']);

export interface LoadedBib {
  path: string;
  encoding: 'utf8' | 'latin1';
  bom: boolean;
  file: BibFile;
}

export async function loadBibFile(filePath: string, signal?: AbortSignal): Promise<LoadedBib> {
  let buf: Buffer;
  try {
    buf = await readFile(filePath, { signal });
  } catch (err) {
    if ((err as { name?: string }).name === 'AbortError') throw err;
    throw new ScholarError('E_BIB_READ', `cannot read ${filePath}: ${(err as Error).message}`, { path: filePath }, { cause: err });
  }
  const { text, encoding, bom } = decodeBibBytes(buf);
  return { path: filePath, encoding, bom, file: parseBib(text) };
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function firstExisting(candidates: string[]): Promise<string | undefined> {
  for (const c of candidates) if (await isFile(c)) return c;
  return undefined;
}

function within(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export async function discoverProject(root: string, opts: DiscoverOptions = {}): Promise<Project> {
  const { signal, exclude } = opts;
  const absRoot = path.resolve(root);
  try {
    if (!(await stat(absRoot)).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new ScholarError('E_PROJECT_ROOT', `project folder not found: ${absRoot}`, { root: absRoot }, { cause: err });
  }
  const storage = opts.storageFolder ? path.resolve(absRoot, opts.storageFolder) : undefined;

  const bibs = new Set<string>();
  const texs = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    signal?.throwIfAborted();
    let items;
    try {
      items = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folder: skip, like the editor's file search does
    }
    for (const it of items) {
      const abs = path.join(dir, it.name);
      const rel = path.relative(absRoot, abs).split(path.sep).join('/');
      if (exclude?.(rel)) continue;
      if (it.isDirectory()) {
        if (SKIP_DIRS.has(it.name) || (storage && abs === storage)) continue;
        await walk(abs);
      } else if (it.isFile()) {
        const lower = it.name.toLowerCase();
        if (lower.endsWith('.bib')) bibs.add(abs);
        else if (lower.endsWith('.tex')) texs.add(abs);
      }
    }
  };
  await walk(absRoot);

  const scans = new Map<string, TexScan>();
  const children = new Map<string, string[]>();
  const ownBibs = new Map<string, string[]>();
  const missing: Project['missing'] = [];
  const citedKeys = new Map<string, CiteLocation[]>();
  let nociteAll = false;

  const queue = [...texs].sort();
  while (queue.length) {
    signal?.throwIfAborted();
    const tex = queue.shift()!;
    if (scans.has(tex)) continue;
    let scan: TexScan;
    try {
      scan = scanTex(decodeBibBytes(await readFile(tex, { signal })).text);
    } catch (err) {
      if ((err as { name?: string }).name === 'AbortError') throw err;
      continue;
    }
    scans.set(tex, scan);
    texs.add(tex);
    nociteAll ||= scan.nociteAll;
    for (const c of scan.cites) {
      let list = citedKeys.get(c.key);
      if (!list) citedKeys.set(c.key, (list = []));
      list.push({ file: tex, line: c.line, column: c.column });
    }
    const dir = path.dirname(tex);
    const kids: string[] = [];
    for (const inp of scan.inputs) {
      // TeX tries `name.tex` before `name`; paths are tried relative to the including file, then the root.
      const names = inp.name.toLowerCase().endsWith('.tex') ? [inp.name] : [inp.name + '.tex', inp.name];
      const cands = [dir, absRoot].flatMap((d) => names.map((n) => path.resolve(d, n))).filter((c) => within(absRoot, c));
      const target = await firstExisting([...new Set(cands)]);
      if (!target) {
        missing.push({ file: tex, name: inp.name, kind: inp.kind, line: inp.line, column: inp.column });
        continue;
      }
      kids.push(target);
      if (!scans.has(target)) queue.push(target);
    }
    children.set(tex, kids);
    const own: string[] = [];
    for (const b of scan.bibliographies) {
      const base = path.resolve(dir, b.name);
      const cands = b.name.toLowerCase().endsWith('.bib') ? [base, path.resolve(absRoot, b.name)] : [base + '.bib', base, path.resolve(absRoot, b.name + '.bib')];
      const found = await firstExisting(cands);
      if (!found) {
        missing.push({ file: tex, name: b.name, kind: b.kind, line: b.line, column: b.column });
        continue;
      }
      own.push(found);
      bibs.add(found);
    }
    ownBibs.set(tex, own);
  }

  // A file sees its own bibliographies and those of every file that (transitively) includes it.
  const bibByTex = new Map<string, string[]>();
  for (const tex of scans.keys()) bibByTex.set(tex, [...(ownBibs.get(tex) ?? [])]);
  const push = (tex: string, inherited: string[], seen: Set<string>): void => {
    for (const kid of children.get(tex) ?? []) {
      if (seen.has(kid)) continue;
      const list = bibByTex.get(kid)!;
      for (const b of inherited) if (!list.includes(b)) list.push(b);
      seen.add(kid);
      push(kid, bibByTex.get(kid)!, seen);
    }
  };
  for (const tex of scans.keys()) push(tex, bibByTex.get(tex)!, new Set([tex]));

  return {
    root: absRoot,
    bibFiles: [...bibs].sort(),
    texFiles: [...scans.keys()].sort(),
    citedKeys,
    nociteAll,
    bibByTex,
    missing,
  };
}
