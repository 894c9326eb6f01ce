import * as vscode from 'vscode';
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { Library } from '../core/jobs/library';
import { readConfig, readNetwork, type ScholarConfig } from './config';
import type { Log } from './log';

const SECRET_KEYS = { openalex: 'scholar.apiKey.openalex', semanticScholar: 'scholar.apiKey.semanticScholar' } as const;

/**
 * The library (storage, index, writer, HTTP) of each workspace folder, opened once on demand, and
 * the index the views show. Nothing here touches the network or the disk until a trusted user asks
 * for it; a settings change reopens the libraries with the new settings.
 */
export class LibraryRegistry implements vscode.Disposable {
  private readonly libraries = new Map<string, Promise<Library>>();
  private readonly opened = new vscode.EventEmitter<Library>();
  private readonly closed = new vscode.EventEmitter<void>();
  /** A library finished opening (the storage watcher starts on it). */
  readonly onDidOpen = this.opened.event;
  /** Every library was closed (settings changed, or the extension stops). */
  readonly onDidClose = this.closed.event;
  private readonly disposables: vscode.Disposable[] = [this.opened, this.closed];
  private shownIndex: Library['index'] | undefined;
  /** The libraries that finished opening (and are not closed), by folder. */
  private readonly open = new Map<string, Library>();
  private disposed = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
    /** Something the views show changed (a library opened, the shown index changed). */
    private readonly notify: () => void,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        // Proxy and certificates apply to the next request, even in a running job: no reopen.
        if (!e.affectsConfiguration('scholar') && e.affectsConfiguration('http')) void this.updateNetwork();
      }),
      context.secrets.onDidChange((e) => {
        if (Object.values(SECRET_KEYS).includes(e.key as (typeof SECRET_KEYS)[keyof typeof SECRET_KEYS])) void this.updateKeys();
      }),
    );
  }

  get trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  /** The index the views show (the last one a job or a view opened); undefined before any. */
  get index(): Library['index'] | undefined {
    return this.shownIndex;
  }

  /**
   * The indexes the tree and the hovers read entries from: the shown one first, then every other
   * open library's (in a multi-root workspace each folder's entries are in its own).
   */
  viewIndexes(): Library['index'][] {
    const out = this.shownIndex ? [this.shownIndex] : [];
    for (const l of this.open.values()) if (!out.includes(l.index)) out.push(l.index);
    return out;
  }

  /** Makes `ix` the index the views show. */
  show(ix: Library['index'] | undefined): void {
    if (ix === this.shownIndex) return;
    this.shownIndex = ix;
    // Views showing library totals (the dashboard) are out of date.
    this.notify();
  }

  folderFor(uri?: vscode.Uri): vscode.WorkspaceFolder | undefined {
    return (uri && vscode.workspace.getWorkspaceFolder(uri)) ?? vscode.workspace.workspaceFolders?.[0];
  }

  async config(folder: vscode.WorkspaceFolder): Promise<ScholarConfig> {
    return readConfig(folder, await this.apiKeys());
  }

  /** Keys from SecretStorage (Scholar: Set API Key), else from the environment VS Code was started with. */
  private async apiKeys(): Promise<{ openalex?: string; semanticScholar?: string }> {
    const [openalex, semanticScholar] = await Promise.all([this.context.secrets.get(SECRET_KEYS.openalex), this.context.secrets.get(SECRET_KEYS.semanticScholar)]);
    return { openalex: openalex || process.env.OPENALEX_API_KEY || undefined, semanticScholar: semanticScholar || process.env.S2_API_KEY || undefined };
  }

  private async updateNetwork(): Promise<void> {
    let network;
    try {
      network = readNetwork();
    } catch (err) {
      this.log.warn(`network settings: ${err instanceof Error ? err.message : String(err)}`);
      void vscode.window.showWarningMessage(vscode.l10n.t('Scholar: {0}', err instanceof Error ? err.message : String(err)));
      return;
    }
    for (const lib of this.libraries.values()) lib.then((l) => l.http.setNetwork(network), () => undefined);
    this.log.info(`network: ${network.httpsProxy || network.httpProxy ? `proxy ${new URL(network.httpsProxy ?? network.httpProxy!).host}` : 'direct'}${network.noProxy?.length ? `, no proxy for ${network.noProxy.join(', ')}` : ''}`);
  }

  private async updateKeys(): Promise<void> {
    const keys = await this.apiKeys();
    for (const lib of this.libraries.values()) lib.then((l) => l.http.setApiKeys(keys), () => undefined);
  }

  /** The storage folders of all workspace folders (never walked for .bib files), as far as they resolve. */
  storageFolders(): string[] {
    const out: string[] = [];
    for (const f of vscode.workspace.workspaceFolders ?? []) {
      const rel = vscode.workspace.getConfiguration('scholar', f.uri).get<string>('storageFolder') || 'storage';
      out.push(path.resolve(f.uri.fsPath, rel));
    }
    return out;
  }

  /** Opens (once) the library of a folder. Refused in Restricted Mode: opening it writes to disk. */
  library(folder: vscode.WorkspaceFolder): Promise<Library> {
    if (!this.trusted) return Promise.reject(new Error(vscode.l10n.t('Scholar writes nothing in Restricted Mode. Trust this folder to build the library.')));
    const k = folder.uri.toString();
    let lib = this.libraries.get(k);
    if (!lib) {
      lib = this.config(folder).then((cfg) =>
        Library.open(cfg.storageRoot, {
          gitignore: cfg.storageGitignore,
          http: { ...cfg.http, log: (e) => this.log.trace(`${e.service} ${e.method} ${e.url} → ${e.status ?? e.code} (${e.ms} ms)`) },
          wasmPath: vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'sql-wasm.wasm').fsPath,
          onError: (err) => this.log.error('storage writer', err instanceof Error ? err : new Error(String(err))),
        }),
      );
      lib.then(
        (l) => {
          if (l.cleanup.removedTemps.length || l.cleanup.removedLocks.length) {
            this.log.info(`storage: removed ${l.cleanup.removedTemps.length} leftover temp files and ${l.cleanup.removedLocks.length} stale locks`);
          }
          if (this.libraries.get(k) === lib) this.open.set(k, l);
          this.opened.fire(l);
          this.notify();
          // Build the search side in the background, in slices, so the first filter is instant.
          const t0 = Date.now();
          l.index
            .warmSearch()
            .then(() => {
              this.log.info(`search index ready: ${l.index.stats().entries} entries in ${Date.now() - t0} ms`);
              // Then the PDFs' texts (text: queries), read from the folders in slices.
              return l.index.warmFullText().then(() => this.log.info(`full text ready: ${l.index.fullTextFootprint().papers} PDFs in ${Date.now() - t0} ms`));
            })
            .catch((err: unknown) => this.log.error('search index', err instanceof Error ? err : new Error(String(err))));
        },
        () => this.libraries.delete(k),
      );
      this.libraries.set(k, lib);
    }
    return lib;
  }

  /** The library if it is already open (for views that must not open one on their own). */
  async openedLibrary(folder: vscode.WorkspaceFolder | undefined): Promise<Library | undefined> {
    if (!folder) return undefined;
    const p = this.libraries.get(folder.uri.toString());
    return p ? p.catch(() => undefined) : undefined;
  }

  /** Opens the folder's library and shows its index; undefined (and logged) when it cannot open. */
  async indexFor(folder: vscode.WorkspaceFolder | undefined): Promise<Library['index'] | undefined> {
    if (!folder || !this.trusted) return undefined;
    try {
      const opening = this.library(folder);
      const lib = await opening;
      // Closed while it opened (a settings change reopens): show the library that replaced it, not a closed index.
      if (this.libraries.get(folder.uri.toString()) !== opening) return this.disposed ? undefined : this.indexFor(folder);
      this.show(lib.index);
      return lib.index;
    } catch (err) {
      this.log.warn(`library unavailable: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /**
   * The libraries of every workspace folder that has one (open already, or its storage folder
   * exists), opened without changing the index the views show: search and rebuild go over all of
   * them, and no folder gets a `storage/` just by being searched.
   */
  async existingLibraries(): Promise<{ folder: vscode.WorkspaceFolder; library: Library }[]> {
    if (!this.trusted) return [];
    const out: { folder: vscode.WorkspaceFolder; library: Library }[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const open = this.libraries.has(folder.uri.toString());
      if (!open) {
        const cfg = await this.config(folder).catch(() => undefined);
        if (!cfg || !existsSync(cfg.storageRoot)) continue;
      }
      try {
        out.push({ folder, library: await this.library(folder) });
      } catch (err) {
        this.log.warn(`library of ${folder.name} unavailable: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return out;
  }

  async closeAll(): Promise<void> {
    const libs = [...this.libraries.values()];
    this.libraries.clear();
    this.open.clear();
    this.closed.fire();
    this.show(undefined);
    for (const l of libs) {
      try {
        await (await l).close();
      } catch {
        // a library that failed to open has nothing to close
      }
    }
  }

  /**
   * After a settings change: reopen the library (with the new settings) if its folder exists, so
   * views keep their state. `keepOpen` (a job runs): the running job keeps its library and the
   * settings apply to the next job.
   */
  async reopen(keepOpen: boolean): Promise<void> {
    if (!keepOpen) await this.closeAll();
    if (this.disposed) return;
    const folder = this.folderFor();
    if (folder && this.trusted) {
      const cfg = await this.config(folder).catch(() => undefined);
      if (cfg && existsSync(cfg.storageRoot)) await this.indexFor(folder);
    }
    this.notify();
  }

  /** Closes every library (draining its write queue). */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.closeAll();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
