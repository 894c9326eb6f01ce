/**
 * The per-document bibliography: which root a .tex file belongs to (`% !TEX root`, a
 * `\documentclass`, the `\input`/`\include`/`\subfile` trees) and which bibliography files that
 * root declares. Paths are resolved the way LaTeX and BibTeX/biber do: relative to the root's
 * folder, absolute as written, then along BIBINPUTS. Pure: the caller says which files exist.
 */
import * as path from 'node:path';
import { maskTexComments, type TexScan } from './scan';

export interface TexHeader {
  /** `% !TEX root = ../main.tex` as written. */
  magicRoot?: string;
  documentClass?: string;
  /** The option of `\documentclass[main.tex]{subfiles}`: the main file. */
  subfilesMain?: string;
}

const MAGIC_ROOT = /^[ \t]*%[ \t]*!\s*tex\s+root\s*=\s*(.+?)\s*$/im;
const DOCUMENTCLASS = /\\documentclass\s*(?:\[([^\]]*)\])?\s*\{([^}]*)\}/;

export function texHeader(text: string): TexHeader {
  const out: TexHeader = {};
  const magic = MAGIC_ROOT.exec(text);
  if (magic) out.magicRoot = magic[1];
  const dc = DOCUMENTCLASS.exec(maskTexComments(text));
  if (dc) {
    out.documentClass = dc[2]!.trim();
    if (out.documentClass === 'subfiles' && dc[1]?.trim()) out.subfilesMain = dc[1].trim();
  }
  return out;
}

export interface TexNode {
  scan: TexScan;
  header: TexHeader;
}

export interface BibDeclaration {
  name: string;
  kind: string;
  /** The file that declares it, and where. */
  file: string;
  line: number;
  column: number;
  /** The root's folder: relative names are resolved from there. */
  rootDir: string;
}

export interface DocumentScope {
  /** The roots the file belongs to (itself when it is one, or when nothing includes it). */
  roots: string[];
  /** A root named by `% !TEX root` or `subfiles` that is not among the known files. */
  unknownRoot?: string;
  declarations: BibDeclaration[];
}

function texNames(name: string): string[] {
  return /\.tex$/i.test(name) ? [name] : [name + '.tex', name];
}

/**
 * For each file of `nodes` (absolute paths), its roots and the bibliography declarations of
 * every file in those roots' trees.
 */
export function documentScopes(nodes: ReadonlyMap<string, TexNode>): Map<string, DocumentScope> {
  const explicit = new Map<string, string>();
  for (const [file, n] of nodes) {
    const named = n.header.magicRoot ?? n.header.subfilesMain;
    if (!named) continue;
    const dir = path.dirname(file);
    const target = texNames(named).map((x) => path.resolve(dir, x)).find((x) => nodes.has(x)) ?? path.resolve(dir, texNames(named)[0]!);
    if (target !== file) explicit.set(file, target);
  }
  const isRoot = (f: string) => !explicit.has(f) && !!nodes.get(f)?.header.documentClass;

  // Members of a root's tree; \input names are relative to the root's folder (LaTeX runs there)
  // or, for \subfile and \import, to the including file's.
  const trees = new Map<string, string[]>();
  const treeOf = (root: string): string[] => {
    let t = trees.get(root);
    if (t) return t;
    const seen = new Set([root]);
    const queue = [root];
    const rootDir = path.dirname(root);
    while (queue.length) {
      const f = queue.shift()!;
      for (const inp of nodes.get(f)?.scan.inputs ?? []) {
        const dirs = [path.dirname(f), rootDir];
        const hit = dirs.flatMap((d) => texNames(inp.name).map((n) => path.resolve(d, n))).find((c) => nodes.has(c));
        if (hit && !seen.has(hit)) {
          seen.add(hit);
          queue.push(hit);
        }
      }
    }
    t = [...seen];
    trees.set(root, t);
    return t;
  };
  const roots = [...nodes.keys()].filter(isRoot).sort();
  const containing = new Map<string, string[]>();
  for (const r of roots) for (const f of treeOf(r)) containing.set(f, [...(containing.get(f) ?? []), r]);

  const declsOf = (root: string): BibDeclaration[] =>
    treeOf(root).flatMap((f) => (nodes.get(f)?.scan.bibliographies ?? []).map((b) => ({ name: b.name, kind: b.kind, file: f, line: b.line, column: b.column, rootDir: path.dirname(root) })));

  const out = new Map<string, DocumentScope>();
  for (const file of nodes.keys()) {
    let target = file;
    const hops = new Set<string>();
    // `% !TEX root` chains (a chapter naming a part naming the main file) end at the first file that names none.
    while (explicit.has(target) && !hops.has(target)) {
      hops.add(target);
      target = explicit.get(target)!;
    }
    if (!nodes.has(target)) {
      out.set(file, { roots: [], unknownRoot: target, declarations: [] });
      continue;
    }
    const rs = isRoot(target) ? [target] : (containing.get(target) ?? [target]);
    out.set(file, { roots: rs, declarations: rs.flatMap(declsOf) });
  }
  return out;
}

/** `BIBINPUTS` as a list of folders (empty elements, kpathsea's "default path", are left to kpsewhich). */
export function bibInputs(value: string | undefined, delimiter = path.delimiter): string[] {
  if (!value) return [];
  return value
    .split(delimiter)
    .map((s) => s.replace(/\/\/+$/, '').replace(/^!!/, ''))
    .filter(Boolean);
}

/** Where a declared bibliography may be, in the order BibTeX and biber look; [] for a remote resource. */
export function bibCandidates(decl: Pick<BibDeclaration, 'name' | 'rootDir'>, dirs: readonly string[], home?: string): string[] {
  let name = decl.name;
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(name)) return [];
  if (home && (name === '~' || name.startsWith('~/'))) name = path.join(home, name.slice(1));
  const names = /\.bib$/i.test(name) ? [name] : [name + '.bib', name];
  if (path.isAbsolute(name)) return names;
  return [decl.rootDir, ...dirs].flatMap((d) => names.map((n) => path.resolve(d, n)));
}
