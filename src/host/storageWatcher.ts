import * as vscode from 'vscode';
import * as path from 'node:path';
import { readdir, stat } from 'node:fs/promises';
import type { Library } from '../core/jobs/library';
import type { LibraryRegistry } from './libraryRegistry';
import type { JobRunner } from './jobRunner';
import type { MetadataCache } from './metadataCache';
import type { Log } from './log';

/**
 * Another window or the CLI writing to the same storage folder: its metadata.json changes are
 * picked up by re-scanning (only folders whose metadata changed are re-read). Our own writes are
 * already in the index, so nothing is re-scanned while this window runs a job.
 */
export class StorageWatcher implements vscode.Disposable {
  private watchers: vscode.Disposable[] = [];
  private readonly subs: vscode.Disposable[];
  private disposed = false;

  constructor(
    registry: LibraryRegistry,
    private readonly jobs: JobRunner,
    private readonly metadata: MetadataCache,
    private readonly log: Log,
    private readonly notify: () => void,
  ) {
    this.subs = [registry.onDidOpen((lib) => this.watch(lib)), registry.onDidClose(() => this.unwatchAll())];
  }

  private watch(lib: Library): void {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(lib.root), 'by_key/*/metadata.json'));
    let timer: NodeJS.Timeout | undefined;
    const rescan = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (this.jobs.currentJob || this.disposed) return;
        void lib.writer.indexTask((ix) => ix.reconcile()).then(
          (r) => {
            if (!r.updated && !r.removed) return;
            this.metadata.invalidate();
            this.log.info(`library: picked up ${r.updated} changed and ${r.removed} removed entries written elsewhere`);
            void lib.writer.saveIndex().catch(() => undefined);
            this.notify();
          },
          (err) => this.log.warn(`library re-scan failed: ${err instanceof Error ? err.message : String(err)}`),
        );
      }, 1500);
    };
    // File watching is not reliable everywhere (remote and container file systems drop events), so
    // also poll the job states: every run of another process rewrites its jobs/<id>.json, a cheap
    // signal to look at by_key/ again.
    const jobsSignature = async () => {
      const ents = await readdir(path.join(lib.root, 'jobs'), { withFileTypes: true }).catch(() => []);
      const files = ents.filter((e) => e.isFile() && e.name.endsWith('.json'));
      const times = await Promise.all(files.map((f) => stat(path.join(lib.root, 'jobs', f.name)).then((st) => st.mtimeMs, () => 0)));
      return `${files.length}:${Math.max(0, ...times)}`;
    };
    // The baseline is taken now, as the library opens: a run that starts and ends before the first
    // poll must still count as a change.
    let signature: Promise<string> = jobsSignature();
    const poll = setInterval(() => {
      const before = signature;
      signature = jobsSignature();
      void Promise.all([before, signature]).then(([a, b]) => {
        if (a !== b) rescan();
      });
    }, 3000);
    poll.unref();
    this.watchers.push(watcher, watcher.onDidCreate(rescan), watcher.onDidChange(rescan), watcher.onDidDelete(rescan), {
      dispose: () => {
        clearTimeout(timer);
        clearInterval(poll);
      },
    });
  }

  private unwatchAll(): void {
    for (const w of this.watchers.splice(0)) w.dispose();
  }

  dispose(): void {
    this.disposed = true;
    this.unwatchAll();
    for (const s of this.subs.splice(0)) s.dispose();
  }
}
