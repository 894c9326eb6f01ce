// Helpers shared by the extension-host tests that drive Scholar end to end: the extension's API
// (read-only observation of its state), the offline replay server wired in through USER settings,
// corpus records turned into .bib entries, and the files Scholar writes under storage/.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScholarApi } from '../../src/host/extension';
import type { TreeNode } from '../../src/host/libraryTree';
import { startReplayServer, type ReplayOptions, type ReplayServer } from '../../src/replay/server';
import { waitFor, workspaceRoot } from './util';

export const EXTENSION_ID = 'scholar-dev.scholar';
export const SERVICES = ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi'] as const;

export async function scholarApi(): Promise<ScholarApi> {
  const ext = vscode.extensions.getExtension<ScholarApi | undefined>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  await waitFor(() => ext.isActive, 30_000, `${EXTENSION_ID} to activate`);
  const api = ext.exports;
  assert.ok(api, 'activate() returned no API (activation failed: see the Scholar log)');
  await api.project.ready();
  return api;
}

/** The repository (the extension's development folder): fixtures are read from there, never from the workspace copy. */
export function repoRoot(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext);
  return ext.extensionPath;
}

export function fixturesDir(): string {
  return path.join(repoRoot(), 'test', 'fixtures');
}

export interface Replay {
  server: ReplayServer;
  /** Puts every user-level endpoint and the contact email back as they were, and stops the server. */
  dispose(): Promise<void>;
}

/**
 * Starts the replay server in this process and points Scholar at it through USER settings — the
 * only level from which Scholar takes endpoints (a workspace must not redirect its traffic).
 */
export async function startReplay(options: ReplayOptions = {}): Promise<Replay> {
  const server = await startReplayServer({ fixturesDir: fixturesDir(), ...options });
  const cfg = () => vscode.workspace.getConfiguration('scholar');
  const before = new Map<string, unknown>();
  const keys = [...SERVICES.map((s) => `endpoints.${s}`), 'contactEmail'];
  for (const k of keys) before.set(k, cfg().inspect(k)?.globalValue);
  try {
    for (const s of SERVICES) await cfg().update(`endpoints.${s}`, server.endpoints[s], vscode.ConfigurationTarget.Global);
    await cfg().update('contactEmail', 'scholar-tests@example.org', vscode.ConfigurationTarget.Global);
    await waitFor(() => cfg().inspect<string>('endpoints.crossref')?.globalValue === server.endpoints.crossref, 10_000, 'the user-level endpoint to apply');
  } catch (err) {
    await server.close();
    throw err;
  }
  return {
    server,
    async dispose() {
      try {
        for (const k of keys) await cfg().update(k, before.get(k), vscode.ConfigurationTarget.Global);
      } finally {
        await server.close();
      }
    },
  };
}

/** A real Crossref record from test/fixtures/corpus, by DOI. */
export type CrossrefRecord = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let corpusCache: CrossrefRecord[] | undefined;
export function corpus(): CrossrefRecord[] {
  corpusCache ??= fs
    .readFileSync(path.join(fixturesDir(), 'corpus', 'crossref-works.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CrossrefRecord);
  return corpusCache;
}

export function record(doi: string): CrossrefRecord {
  const r = corpus().find((x) => String(x.DOI).toLowerCase() === doi.toLowerCase());
  assert.ok(r, `${doi} is not in test/fixtures/corpus/crossref-works.jsonl`);
  return r;
}

function yearOf(r: CrossrefRecord): number | undefined {
  for (const k of ['published-print', 'published-online', 'issued', 'published', 'created']) {
    const y = r[k]?.['date-parts']?.[0]?.[0];
    if (typeof y === 'number') return y;
  }
  return undefined;
}

/** BibTeX text for a corpus record, as a user would have typed it (every field ends with a comma). */
export function bibEntry(key: string, r: CrossrefRecord, opts: { doi?: boolean; extra?: Record<string, string> } = {}): string {
  const fields: [string, string][] = [];
  const authors = (r.author ?? []).map((a: { family?: string; given?: string; name?: string }) => (a.family ? [a.family, a.given].filter(Boolean).join(', ') : a.name)).filter(Boolean);
  if (authors.length) fields.push(['author', authors.join(' and ')]);
  fields.push(['title', String(r.title?.[0] ?? '')]);
  if (r['container-title']?.[0]) fields.push(['journal', String(r['container-title'][0]).replace(/&amp;/g, '\\&')]);
  const y = yearOf(r);
  if (y) fields.push(['year', String(y)]);
  if (r.volume) fields.push(['volume', String(r.volume)]);
  if (r.page) fields.push(['pages', String(r.page).replace(/-/, '--')]);
  if (opts.doi) fields.push(['doi', String(r.DOI)]);
  for (const [k, v] of Object.entries(opts.extra ?? {})) fields.push([k, v]);
  const width = Math.max(...fields.map(([k]) => k.length));
  return `@article{${key},\n${fields.map(([k, v]) => `  ${k.padEnd(width)} = {${v}},`).join('\n')}\n}\n`;
}

/** Titles that go into a .bib verbatim without LaTeX escaping. */
export function plainTitle(r: CrossrefRecord): boolean {
  const t = r.title?.[0];
  return typeof t === 'string' && t.length > 15 && !/[{}\\$%&#_^~<>]/.test(t);
}

/**
 * Writes a file into the workspace (creating folders) and waits until Scholar's project model has
 * read it. The file watcher behind createFileSystemWatcher is not always listening: VS Code starts
 * it asynchronously after activation, and in code-server its process was seen restarting
 * ("File Watcher (universal) restarting watcher after unexpected error: … SIGTERM") right after
 * settings changed, which drops the events of that moment. So the write is repeated (same bytes)
 * until the model has the file, as a user saving again would.
 */
export async function writeWorkspaceFile(api: ScholarApi, rel: string, text: string): Promise<vscode.Uri> {
  const file = path.join(workspaceRoot(), rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const uri = vscode.Uri.file(file);
  const seen = () => (/\.bib$/i.test(file) ? api.project.bibDoc(uri)?.file.text === text : /\.tex$/i.test(file) ? !!api.project.texScan(uri) : true);
  await waitFor(async () => {
    fs.writeFileSync(file, text);
    return waitFor(seen, 2_000, rel).then(() => true, () => false);
  }, 30_000, `Scholar to read ${rel}`);
  return uri;
}

export function storageRoot(): string {
  return path.join(workspaceRoot(), 'storage');
}

/** storage/by_key/<KEY> for plain keys (lowercase ASCII: the folder name is the key itself). */
export function keyDir(key: string): string {
  assert.match(key, /^[a-z0-9_+-][a-z0-9_.+-]*$/, `test keys should be plain so that the folder is by_key/${key}`);
  return path.join(storageRoot(), 'by_key', key);
}

export function readMetadata(key: string): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const file = path.join(keyDir(key), 'metadata.json');
  assert.ok(fs.existsSync(file), `${path.relative(workspaceRoot(), file)} does not exist`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The entry nodes under a .bib file's node in the library tree, with their tree items. */
export function treeEntries(api: ScholarApi, bib: vscode.Uri): { node: Extract<TreeNode, { kind: 'entry' }>; item: vscode.TreeItem }[] {
  const roots = api.tree.getChildren();
  const bibNode = roots.find((n) => n.kind === 'bib' && n.doc.uri.toString() === bib.toString());
  assert.ok(bibNode, `the library tree has no node for ${vscode.workspace.asRelativePath(bib)}`);
  return api.tree
    .getChildren(bibNode)
    // A long .bib is shown in ranges of entries.
    .flatMap((n) => (n.kind === 'range' ? api.tree.getChildren(n) : [n]))
    .filter((n): n is Extract<TreeNode, { kind: 'entry' }> => n.kind === 'entry')
    // As VS Code does when the user hovers an item: the tooltip is filled in by resolveTreeItem.
    .map((node) => ({ node, item: api.tree.resolveTreeItem(api.tree.getTreeItem(node), node) }));
}

/** The Markdown text a user reads: entity spaces and backslash escapes undone. */
export function readable(md: string): string {
  return md.replace(/&nbsp;/g, ' ').replace(/\\([\\`*_{}[\]()#+\-!~<>.|])/g, '$1');
}

export async function showScholarView(): Promise<void> {
  await vscode.commands.executeCommand('workbench.view.extension.scholar');
  await vscode.commands.executeCommand('scholar.library.focus');
}

/** Closes every editor without saving (the tests revert what they changed themselves). */
export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
