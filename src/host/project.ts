import * as vscode from 'vscode';
import * as path from 'node:path';
import { decodeBibBytes, parseBib, type BibEntry, type BibFile } from '../core/bib/parse';
import { scanTex, type TexScan } from '../core/tex/scan';
import { texHeader, type TexHeader } from '../core/tex/roots';
import type { Log } from './log';

export interface BibDoc {
  uri: vscode.Uri;
  file: BibFile;
  /** Document version when parsed from an open editor, -1 when read from disk. */
  version: number;
}

export interface CiteSite {
  uri: vscode.Uri;
  key: string;
  line: number;
  column: number;
  offset: number;
}

/**
 * The workspace's .bib files and citations, kept current incrementally: a changed file is
 * re-parsed alone; open editors are read from their (possibly unsaved) text.
 */
export class ProjectModel implements vscode.Disposable {
  private readonly bibs = new Map<string, BibDoc>();
  private readonly texScans = new Map<string, { uri: vscode.Uri; scan: TexScan; header: TexHeader }>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly log: Log,
    private readonly storageFolders: () => string[],
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{bib,tex}');
    this.disposables.push(
      watcher,
      watcher.onDidCreate((u) => this.schedule(u)),
      watcher.onDidChange((u) => this.schedule(u)),
      watcher.onDidDelete((u) => this.forget(u)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.isTracked(e.document.uri)) this.schedule(e.document.uri, 300);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        // Unsaved changes were discarded: go back to the file on disk.
        if (this.isTracked(d.uri)) this.schedule(d.uri);
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reload()),
      this.changed,
    );
  }

  private isTracked(uri: vscode.Uri): boolean {
    return uri.scheme === 'file' && /\.(bib|tex)$/i.test(uri.fsPath) && !this.ignored(uri);
  }

  private ignored(uri: vscode.Uri): boolean {
    const p = uri.fsPath;
    if (p.split(path.sep).includes('node_modules')) return true;
    return this.storageFolders().some((s) => p === s || p.startsWith(s + path.sep));
  }

  ready(): Promise<void> {
    this.loaded ??= this.reload();
    return this.loaded;
  }

  async reload(): Promise<void> {
    // undefined exclude = VS Code applies files.exclude.
    const [bibs, texs] = await Promise.all([vscode.workspace.findFiles('**/*.bib'), vscode.workspace.findFiles('**/*.tex')]);
    this.bibs.clear();
    this.texScans.clear();
    this.keyIndex = undefined;
    await Promise.all([...bibs, ...texs].filter((u) => !this.ignored(u)).map((u) => this.read(u)));
    this.log.info(`project: ${this.bibs.size} .bib files, ${this.texScans.size} .tex files`);
    this.changed.fire();
  }

  private schedule(uri: vscode.Uri, delay = 100): void {
    if (!this.isTracked(uri)) return;
    const k = uri.toString();
    clearTimeout(this.pending.get(k));
    this.pending.set(
      k,
      setTimeout(() => {
        this.pending.delete(k);
        void this.read(uri).then(() => this.changed.fire());
      }, delay),
    );
  }

  /** Re-reads one file now (a command about to use its entries cannot wait for the debounce). */
  async reread(uri: vscode.Uri): Promise<void> {
    await this.read(uri);
    this.changed.fire();
  }

  private forget(uri: vscode.Uri): void {
    const k = uri.toString();
    this.keyIndex = undefined;
    if (this.bibs.delete(k) || this.texScans.delete(k)) this.changed.fire();
  }

  private async read(uri: vscode.Uri): Promise<void> {
    try {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      let text: string;
      let version = -1;
      if (open) {
        text = open.getText();
        version = open.version;
      } else {
        const bytes = await vscode.workspace.fs.readFile(uri);
        text = decodeBibBytes(bytes).text;
      }
      if (/\.bib$/i.test(uri.fsPath)) {
        this.bibs.set(uri.toString(), { uri, file: parseBib(text), version });
        this.keyIndex = undefined;
      }
      else this.texScans.set(uri.toString(), { uri, scan: scanTex(text), header: texHeader(text) });
    } catch (err) {
      this.log.warn(`project: cannot read ${uri.fsPath}: ${err instanceof Error ? err.message : String(err)}`);
      this.bibs.delete(uri.toString());
      this.texScans.delete(uri.toString());
      this.keyIndex = undefined;
    }
  }

  bibDocs(): BibDoc[] {
    return [...this.bibs.values()].sort((a, b) => a.uri.fsPath.localeCompare(b.uri.fsPath));
  }

  bibDoc(uri: vscode.Uri): BibDoc | undefined {
    return this.bibs.get(uri.toString());
  }

  /** key → first definition, rebuilt lazily after a change (views ask per entry: 50,000 lookups must be O(1)). */
  private keyIndex: Map<string, { doc: BibDoc; entry: BibEntry }> | undefined;

  private byKey(): Map<string, { doc: BibDoc; entry: BibEntry }> {
    if (!this.keyIndex) {
      const m = new Map<string, { doc: BibDoc; entry: BibEntry }>();
      for (const doc of this.bibDocs()) for (const entry of doc.file.entries) if (!m.has(entry.key)) m.set(entry.key, { doc, entry });
      this.keyIndex = m;
    }
    return this.keyIndex;
  }

  /** The entry of a key, with the file it is in. The first definition of a key wins. */
  findEntry(key: string): { doc: BibDoc; entry: BibEntry } | undefined {
    return this.byKey().get(key);
  }

  definedKeys(): Set<string> {
    return new Set(this.byKey().keys());
  }

  citeSites(): CiteSite[] {
    const out: CiteSite[] = [];
    for (const { uri, scan } of this.texScans.values()) {
      for (const c of scan.cites) out.push({ uri, key: c.key, line: c.line, column: c.column, offset: c.offset });
    }
    return out;
  }

  /** Every .tex file of the workspace with its scan and header (the per-document bibliography reads these). */
  texDocs(): { uri: vscode.Uri; scan: TexScan; header: TexHeader }[] {
    return [...this.texScans.values()];
  }

  texScan(uri: vscode.Uri): TexScan | undefined {
    return this.texScans.get(uri.toString())?.scan;
  }

  /** Keys cited in a document (for "cited keys first" ordering). */
  citedIn(uri: vscode.Uri | undefined): Set<string> {
    if (!uri) return new Set();
    const scan = this.texScan(uri);
    if (scan) return new Set(scan.cites.map((c) => c.key));
    return new Set();
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
