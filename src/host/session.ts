import * as vscode from 'vscode';
import type { Library } from '../core/jobs/library';
import type { Job, EntryOutcome, JobEntry, JobKind } from '../core/jobs/run';
import type { Metadata } from '../core/storage/metadata';
import type { ScholarConfig } from './config';
import type { NetNotice } from './netNotice';
import type { Log } from './log';
import type { DashboardSnapshot } from '../shared/protocol';
import { toDashboardSnapshot } from './model/dashboardSnapshot';
import { LibraryRegistry } from './libraryRegistry';
import { MetadataCache } from './metadataCache';
import { JobRunner, type RunOptions } from './jobRunner';
import { StorageWatcher } from './storageWatcher';

/**
 * The session's models, built in dependency order: the library registry (one library per folder,
 * and the index the views show), the metadata cache over that index, the job runner, and the
 * storage watcher (which re-scans what other processes wrote, never during our own job). One
 * change event for all of them. The methods below delegate, so that callers need not know which
 * part answers; new code may use the parts directly.
 */
export class Session implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires (unthrottled) when the job, the library or the index changed. */
  readonly onDidChange = this.changed.event;
  readonly libraries: LibraryRegistry;
  readonly metadataCache: MetadataCache;
  readonly jobs: JobRunner;
  readonly storageWatcher: StorageWatcher;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(context: vscode.ExtensionContext, log: Log) {
    const notify = () => this.changed.fire();
    this.libraries = new LibraryRegistry(context, log, notify);
    this.metadataCache = new MetadataCache(() => this.libraries.viewIndexes());
    this.jobs = new JobRunner(this.libraries, this.metadataCache, log, notify);
    this.storageWatcher = new StorageWatcher(this.libraries, this.jobs, this.metadataCache, log, notify);
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('scholar')) void this.libraries.reopen(!!this.jobs.currentJob);
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(notify),
    );
  }

  get trusted(): boolean {
    return this.libraries.trusted;
  }

  get currentJob(): Job | undefined {
    return this.jobs.currentJob;
  }

  get previousJob(): Job | undefined {
    return this.jobs.previousJob;
  }

  /** What the user was told about services that could not be asked (for the tests and the dashboard). */
  get netNotices(): NetNotice[] {
    return this.jobs.netNotices;
  }

  inCurrentJob(key: string): boolean {
    return this.jobs.inCurrentJob(key);
  }

  lastFailure(key: string): EntryOutcome | undefined {
    return this.jobs.lastFailure(key);
  }

  runJob(kind: JobKind, entries: JobEntry[], folder: vscode.WorkspaceFolder, opts: RunOptions = {}): Promise<Job> {
    return this.jobs.runJob(kind, entries, folder, opts);
  }

  folderFor(uri?: vscode.Uri): vscode.WorkspaceFolder | undefined {
    return this.libraries.folderFor(uri);
  }

  config(folder: vscode.WorkspaceFolder): Promise<ScholarConfig> {
    return this.libraries.config(folder);
  }

  storageFolders(): string[] {
    return this.libraries.storageFolders();
  }

  library(folder: vscode.WorkspaceFolder): Promise<Library> {
    return this.libraries.library(folder);
  }

  openedLibrary(folder: vscode.WorkspaceFolder | undefined): Promise<Library | undefined> {
    return this.libraries.openedLibrary(folder);
  }

  indexFor(folder: vscode.WorkspaceFolder | undefined): Promise<Library['index'] | undefined> {
    return this.libraries.indexFor(folder);
  }

  metadata(key: string): Metadata | undefined {
    return this.metadataCache.get(key);
  }

  invalidateMetadata(key?: string): void {
    this.metadataCache.invalidate(key);
  }

  /** Tells the views that the library's data changed outside a job (a decision the user recorded). */
  notifyChanged(): void {
    this.changed.fire();
  }

  snapshot(): Omit<DashboardSnapshot, 'seq'> {
    return toDashboardSnapshot({ job: this.jobs.previousJob?.snapshot(), library: this.libraries.index?.stats(), services: this.jobs.services(), trusted: this.trusted });
  }

  /** Stops the job, then drains every write queue: called on deactivate. */
  async dispose(): Promise<void> {
    await this.jobs.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.storageWatcher.dispose();
    await this.libraries.dispose();
  }
}
