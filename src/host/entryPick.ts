import * as vscode from 'vscode';
import { fieldText } from '../core/bib/latex';
import type { ProjectModel } from './project';
import type { TreeNode } from './libraryTree';

export type EntryNode = Extract<TreeNode, { kind: 'entry' }>;

/** The entry a command argument names: a tree node, or a citation key of the project. */
export function entryNodeFor(project: ProjectModel, arg: unknown): EntryNode | undefined {
  const n = arg as EntryNode | undefined;
  if (n && typeof n === 'object' && n.kind === 'entry' && typeof n.key === 'string') return n;
  if (typeof arg !== 'string') return undefined;
  const f = project.findEntry(arg);
  return f ? { kind: 'entry', key: arg, bibUri: f.doc.uri, entry: f.entry } : undefined;
}

/** Which entry is meant: the argument, or a pick among the project's entries (those `filter` keeps). */
export async function pickEntry(project: ProjectModel, arg: unknown, title: string, filter?: (key: string) => boolean): Promise<EntryNode | undefined> {
  const n = entryNodeFor(project, arg);
  if (n) return n;
  const items = project
    .bibDocs()
    .flatMap((d) => d.file.entries.map((e) => ({ d, e })))
    .filter(({ e }) => !filter || filter(e.key))
    .map(({ d, e }) => ({ label: e.key, description: fieldText(e, 'title') ?? '', node: { kind: 'entry' as const, key: e.key, bibUri: d.uri, entry: e } }));
  const pick = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
  return pick?.node;
}
