import * as vscode from 'vscode';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeBibBytes, parseBib, type BibEntry, type BibFile } from '../core/bib/parse';
import { bibCandidates, bibInputs, documentScopes, type BibDeclaration, type TexNode } from '../core/tex/roots';
import type { ProjectModel } from './project';
import type { Log } from './log';

/** Which keys count in a .tex file. */
export type BibLookup =
  /** The root declares these files and all were read. */
  | { kind: 'scoped'; files: string[]; keys: Set<string> }
  /** Some of the bibliography could not be read (missing, remote, root elsewhere): no key can be called undefined. */
  | { kind: 'unknown'; why: string; files: string[] }
  /** The root declares no bibliography (a fragment, thebibliography): the workspace's .bib files count. */
  | { kind: 'workspace' };

interface Resolved {
  files: string[];
  unresolved: BibDeclaration[];
  unknownRoot?: string;
  declared: number;
}

export interface ScopedEntry {
  entry: BibEntry;
  uri: vscode.Uri;
  /** A .bib outside what the project model reads (outside the workspace, or excluded). */
  external: boolean;
}

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The per-document bibliography of every .tex file of the workspace: its root, the .bib files
 * that root declares (found relative to the root, by absolute path, along BIBINPUTS or through
 * kpsewhich), and those files' entries — read and watched also when they lie outside the workspace.
 */
export class DocumentBibliographies implements vscode.Disposable {
  private scopes = new Map<string, Resolved>();
  private readonly external = new Map<string, { file: BibFile; mtimeMs: number }>();
  private readonly watchers = new Map<string, vscode.Disposable>();
  private keyCache = new Map<string, Set<string>>();
  private readonly kpse = new Map<string, string | undefined>();
  private kpseAvailable = true;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** Bumped on every refresh: caches built from these scopes compare it. */
  generation = 0;

  constructor(
    private readonly project: ProjectModel,
    private readonly log: Log,
  ) {
    this.disposables.push(project.onDidChange(() => this.refreshSoon()));
  }

  refreshSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, 50);
  }

  /** Recomputes every scope; a change meanwhile runs it once more afterwards. */
  refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.compute();
        } catch (err) {
          this.log.warn(`bibliography scopes: ${err instanceof Error ? err.message : String(err)}`);
        }
      } while (this.again);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async compute(): Promise<void> {
    const nodes = new Map<string, TexNode>();
    for (const t of this.project.texDocs()) nodes.set(t.uri.fsPath, { scan: t.scan, header: t.header });
    const dirs = bibInputs(process.env.BIBINPUTS);
    const home = os.homedir();
    const scopes = new Map<string, Resolved>();
    const wanted = new Set<string>();
    for (const [file, s] of documentScopes(nodes)) {
      const r: Resolved = { files: [], unresolved: [], unknownRoot: s.unknownRoot, declared: s.declarations.length };
      for (const d of s.declarations) {
        const cands = bibCandidates(d, dirs, home);
        let hit = cands.find((c) => this.project.bibDoc(vscode.Uri.file(c)) || isFile(c));
        if (!hit && cands.length && !path.isAbsolute(d.name)) hit = await this.kpsewhich(d.name, d.rootDir);
        if (!hit) r.unresolved.push(d);
        else if (!r.files.includes(hit)) r.files.push(hit);
      }
      for (const f of r.files) if (!this.project.bibDoc(vscode.Uri.file(f))) wanted.add(f);
      scopes.set(file, r);
    }
    // Read again when changed on disk: a watcher outside the workspace may start late or miss an event.
    for (const f of wanted) if (this.external.get(f)?.mtimeMs !== mtime(f)) await this.loadExternal(f);
    for (const f of [...this.external.keys()]) {
      if (wanted.has(f)) continue;
      this.external.delete(f);
      this.watchers.get(f)?.dispose();
      this.watchers.delete(f);
    }
    this.scopes = scopes;
    this.keyCache = new Map();
    this.generation++;
    this.changed.fire();
  }

  private async kpsewhich(name: string, cwd: string): Promise<string | undefined> {
    if (!this.kpseAvailable) return undefined;
    const file = /\.bib$/i.test(name) ? name : `${name}.bib`;
    const k = `${cwd}\n${file}`;
    if (this.kpse.has(k)) return this.kpse.get(k);
    const found = await new Promise<string | undefined>((resolve) => {
      execFile('kpsewhich', [file], { cwd, timeout: 5000 }, (err, stdout) => {
        if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') this.kpseAvailable = false;
        const p = String(stdout ?? '').trim().split('\n')[0];
        resolve(!err && p ? path.resolve(cwd, p) : undefined);
      });
    });
    this.kpse.set(k, found);
    return found;
  }

  private async loadExternal(file: string): Promise<void> {
    try {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
      const text = open ? open.getText() : decodeBibBytes(await readFile(file)).text;
      this.external.set(file, { file: parseBib(text), mtimeMs: mtime(file) });
    } catch (err) {
      this.log.warn(`bibliography: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
      this.external.set(file, { file: parseBib(''), mtimeMs: mtime(file) });
    }
    if (!this.watchers.has(file)) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
      const reload = () => {
        this.external.delete(file);
        this.refreshSoon();
      };
      this.watchers.set(file, vscode.Disposable.from(w, w.onDidChange(reload), w.onDidCreate(reload), w.onDidDelete(reload)));
    }
  }

  private entriesOf(file: string): readonly BibEntry[] {
    return this.project.bibDoc(vscode.Uri.file(file))?.file.entries ?? this.external.get(file)?.file.entries ?? [];
  }

  lookup(tex: vscode.Uri): BibLookup {
    const r = this.scopes.get(tex.fsPath);
    if (!r) return { kind: 'unknown', why: vscode.l10n.t('its bibliography is not read yet'), files: [] };
    if (r.unknownRoot) return { kind: 'unknown', why: vscode.l10n.t('its root {0} is not in the workspace', r.unknownRoot), files: [] };
    if (!r.declared) return { kind: 'workspace' };
    if (r.unresolved.length) return { kind: 'unknown', why: vscode.l10n.t('bibliography \'{0}\' was not found', r.unresolved[0]!.name), files: r.files };
    const sig = r.files.join('\n');
    let keys = this.keyCache.get(sig);
    if (!keys) {
      keys = new Set(r.files.flatMap((f) => this.entriesOf(f).map((e) => e.key)));
      this.keyCache.set(sig, keys);
    }
    return { kind: 'scoped', files: r.files, keys };
  }

  /** The files that count for a .tex file ([] = the workspace's). */
  filesFor(tex: vscode.Uri): string[] {
    const l = this.lookup(tex);
    return l.kind === 'workspace' ? [] : l.files;
  }

  /** The entry a key names in a document: from its bibliography, else (no bibliography declared, or none readable) the workspace's. */
  entryFor(tex: vscode.Uri, key: string): ScopedEntry | undefined {
    const files = this.filesFor(tex);
    for (const f of files) {
      const entry = this.entriesOf(f).find((e) => e.key === key);
      if (entry) return { entry, uri: vscode.Uri.file(f), external: !this.project.bibDoc(vscode.Uri.file(f)) };
    }
    if (files.length && this.lookup(tex).kind === 'scoped') return undefined;
    const w = this.project.findEntry(key);
    return w ? { entry: w.entry, uri: w.doc.uri, external: false } : undefined;
  }

  /** Every entry that counts for a document (first definition of a key wins). */
  entriesFor(tex: vscode.Uri): ScopedEntry[] {
    const files = this.filesFor(tex);
    const out: ScopedEntry[] = [];
    const seen = new Set<string>();
    if (files.length) {
      for (const f of files) {
        const uri = vscode.Uri.file(f);
        const external = !this.project.bibDoc(uri);
        for (const entry of this.entriesOf(f)) if (!seen.has(entry.key)) seen.add(entry.key), out.push({ entry, uri, external });
      }
      return out;
    }
    for (const doc of this.project.bibDocs()) for (const entry of doc.file.entries) if (!seen.has(entry.key)) seen.add(entry.key), out.push({ entry, uri: doc.uri, external: false });
    return out;
  }

  /** The workspace .bib a new entry for this document goes to: the first of its bibliography the editor can edit. */
  targetFor(tex: vscode.Uri): vscode.Uri | undefined {
    const files = this.filesFor(tex);
    for (const f of files) if (this.project.bibDoc(vscode.Uri.file(f))) return vscode.Uri.file(f);
    if (files.length) return undefined;
    const docs = this.project.bibDocs();
    return docs.length === 1 ? docs[0]!.uri : undefined;
  }

  /** Declarations that point at no readable file, once each. */
  unresolved(): BibDeclaration[] {
    const seen = new Map<string, BibDeclaration>();
    for (const r of this.scopes.values()) for (const d of r.unresolved) seen.set(`${d.file}:${d.line}:${d.column}`, d);
    return [...seen.values()];
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
