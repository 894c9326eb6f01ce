import * as vscode from 'vscode';
import * as path from 'node:path';
import type { JobEntry, JobKind, Job } from '../core/jobs/run';
import type { ResolveResult } from '../core/resolve/resolver';
import { pdfPath, entryDir } from '../core/storage/layout';
import { fieldText } from '../core/bib/latex';
import { normalizeDoi } from '../core/doi';
import type { EntryStatuses } from './entryStatuses';
import type { Log } from './log';
import type { ProjectModel } from './project';
import type { Session } from './session';
import type { LibraryTree } from './libraryTree';
import { writeFields, type FieldWrite } from './bibEdits';
import { pickEntry, type EntryNode } from './entryPick';
import type { SearchHitView } from '../shared/protocol';
import { ScholarError } from '../core/errors';
import { doiLink } from '../core/attach/links';
import { userLinkSettings } from './config';

/** Opens a link only when it is http(s) or a DOI; anything else from a response is refused. */
export async function openSafeLink(url: string): Promise<boolean> {
  let u: vscode.Uri;
  try {
    u = vscode.Uri.parse(url, true);
  } catch {
    return false;
  }
  if (u.scheme !== 'https' && u.scheme !== 'http') return false;
  return vscode.env.openExternal(u);
}

/** The DOI's link, under `scholar.doiLinkBase` when the user set one (a malformed base falls back to doi.org). */
export function doiUrl(doi: string): string {
  try {
    return doiLink(doi, userLinkSettings().doiLinkBase);
  } catch {
    return doiLink(doi);
  }
}


export interface JobSummary {
  job: Job;
  written: number;
  refused: { key: string; reason: string }[];
}

/**
 * Runs jobs for the commands (trust, targets, progress, write-back, the report) and records the
 * user's decisions on entries. The command handlers are in commands/; the work is in the core.
 */
export class Controller {
  /** For tests and the status bar: the summary of the last finished command. */
  lastSummary: JobSummary | undefined;

  constructor(
    private readonly session: Session,
    private readonly project: ProjectModel,
    private readonly tree: LibraryTree,
    private readonly statuses: EntryStatuses,
    private readonly log: Log,
    /** Called as a job starts (first-run help: the no-email prompt). */
    private readonly onJobStart?: () => void,
  ) {}

  /** False (and the user told why) in Restricted Mode. */
  requireTrust(): boolean {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window
      .showWarningMessage('Scholar sends no request and writes nothing in Restricted Mode. Trust this folder to resolve DOIs and fetch PDFs.', 'Manage Workspace Trust')
      .then((a) => a && vscode.commands.executeCommand('workbench.trust.manage'));
    return false;
  }

  private entriesFor(uris: vscode.Uri[] | undefined): { entries: JobEntry[]; folder: vscode.WorkspaceFolder | undefined } {
    const docs = this.project.bibDocs().filter((d) => !uris || uris.some((u) => u.toString() === d.uri.toString()));
    const entries = docs.flatMap((d) => d.file.entries.map((entry) => ({ key: entry.key, bibPath: d.uri.fsPath, file: d.file, entry })));
    return { entries, folder: this.session.folderFor(docs[0]?.uri) };
  }

  /** The .bib a command is about: its argument, the explorer selection, the active editor, or a pick. */
  async targetBibs(arg: unknown, all: boolean): Promise<vscode.Uri[] | undefined | null> {
    if (arg instanceof vscode.Uri) return [arg];
    if (Array.isArray(arg) && arg.every((a) => a instanceof vscode.Uri)) return arg as vscode.Uri[];
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active && /\.bib$/i.test(active.fsPath) && !all) return [active];
    if (all) return undefined;
    const docs = this.project.bibDocs();
    if (docs.length <= 1) return docs.map((d) => d.uri);
    const pick = await vscode.window.showQuickPick(
      docs.map((d) => ({ label: path.basename(d.uri.fsPath), description: vscode.workspace.asRelativePath(d.uri), uri: d.uri })),
      { title: 'Scholar: Fetch PDFs for which .bib file?' },
    );
    return pick ? [pick.uri] : null;
  }

  async run(kind: JobKind, uris: vscode.Uri[] | undefined, opts: { only?: Set<string>; checkExisting?: boolean; writeBack?: boolean; automatic?: boolean } = {}): Promise<JobSummary | undefined> {
    if (!this.requireTrust()) return undefined;
    await this.project.ready();
    let { entries, folder } = this.entriesFor(uris);
    if (opts.only) entries = entries.filter((e) => opts.only!.has(e.key));
    if (!folder || entries.length === 0) {
      void vscode.window.showInformationMessage('Scholar: there is no .bib entry to work on.');
      return undefined;
    }
    this.onJobStart?.();
    const priority = this.project.citedIn(vscode.window.activeTextEditor?.document.uri);
    const title = kind === 'resolve' ? 'Scholar: resolving DOIs' : 'Scholar: fetching PDFs';
    // Keep the text each entry had when the job read it: write-back refuses entries changed since.
    const entryText = new Map(entries.map((e) => [e.key, e.file.text.slice(e.entry.span.start, e.entry.span.end)]));
    const job = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        let reported = 0;
        const sub = this.session.onDidChange(() => {
          const s = this.session.currentJob?.snapshot().stats;
          if (!s || s.total === 0) return;
          const done = s.done + s.failed;
          if (done > reported) {
            progress.report({ increment: ((done - reported) / s.total) * 100, message: `${done}/${s.total}` });
            reported = done;
          }
        });
        try {
          return await this.session.runJob(kind, entries, folder!, { priority, signal: controller.signal, checkExisting: opts.checkExisting, automatic: opts.automatic });
        } finally {
          sub.dispose();
        }
      },
    );
    const summary: JobSummary = { job, written: 0, refused: [] };
    if (kind === 'resolve' && opts.writeBack !== false) {
      const byFile = new Map<string, FieldWrite[]>();
      for (const r of job.resolutions.values()) {
        if (r.outcome !== 'accept' || !r.doi) continue;
        const e = entries.find((x) => x.key === r.key);
        if (!e) continue;
        const list = byFile.get(e.bibPath) ?? [];
        list.push({ key: r.key, field: 'doi', value: r.doi, entryText: entryText.get(r.key) ?? '' });
        byFile.set(e.bibPath, list);
      }
      for (const [file, writes] of byFile) {
        const out = await writeFields(vscode.Uri.file(file), writes);
        summary.written += out.applied.length;
        summary.refused.push(...out.refused);
      }
    }
    this.lastSummary = summary;
    this.tree.refreshNow();
    this.report(kind, summary);
    return summary;
  }

  private report(kind: JobKind, s: JobSummary): void {
    const o = s.job.snapshot().stats.outcomes;
    const parts = Object.entries(o).map(([k, v]) => `${v} ${k.replace(/_/g, ' ')}`);
    const refused = s.refused.length ? ` ${s.refused.length} not written (changed since read).` : '';
    const msg = kind === 'resolve' ? `Scholar: ${s.written} DOIs written. ${parts.join(', ')}.${refused}` : `Scholar: ${parts.join(', ')}.`;
    const actions: string[] = [];
    if ((o.review ?? 0) > 0) actions.push('Review');
    if ((o.failed ?? 0) > 0) actions.push('Show Dashboard');
    void vscode.window.showInformationMessage(msg, ...actions).then((a) => {
      if (a === 'Review') void vscode.commands.executeCommand('scholar.review');
      if (a === 'Show Dashboard') void vscode.commands.executeCommand('scholar.showDashboard');
    });
    this.log.info(msg);
  }

  async libraryPath(node: EntryNode | undefined, file: 'pdf' | 'dir'): Promise<string | undefined> {
    if (!node) return undefined;
    const folder = this.session.folderFor(node.bibUri);
    if (!folder) return undefined;
    const cfg = await this.session.config(folder);
    return file === 'pdf' ? pdfPath(cfg.storageRoot, node.key) : entryDir(cfg.storageRoot, node.key);
  }

  /**
   * Searches the library of the active folder. A malformed query (e.g. `year:abc`) comes back as
   * `error`, not as an exception; no library yet (or Restricted Mode) too.
   */
  async searchHits(query: string, limit: number): Promise<{ hits: SearchHitView[]; error?: string }> {
    const index = await this.session.indexFor(this.session.folderFor());
    if (!index) {
      return { hits: [], error: this.session.trusted ? 'There is no library yet: resolve DOIs or fetch PDFs first.' : 'Restricted Mode: Scholar opens no library until you trust this folder.' };
    }
    try {
      const hits = index.search(query, { limit });
      return {
        hits: hits.map((h) => ({
          key: h.key,
          title: h.title ?? '',
          authors: h.authors,
          year: h.year ?? null,
          venue: h.venue ?? '',
          hasPdf: h.hasPdf,
          doi: h.doi ?? null,
          doiStatus: h.doiStatus,
          inProject: this.project.findEntry(h.key) !== undefined,
          ...(h.snippet ? { snippet: h.snippet } : {}),
        })),
      };
    } catch (err) {
      if (err instanceof ScholarError && err.code === 'E_BAD_QUERY') return { hits: [], error: err.message };
      throw err;
    }
  }

  private pickEntry(arg: unknown, title: string, filter?: (key: string) => boolean): Promise<EntryNode | undefined> {
    return pickEntry(this.project, arg, title, filter);
  }

  async review(arg: unknown): Promise<void> {
    if (!this.requireTrust()) return;
    const node = await this.pickEntry(arg, 'Scholar: review which entry?', (k) => this.statuses.of(k).doiState === 'review');
    if (!node) return;
    const folder = this.session.folderFor(node.bibUri);
    const index = await this.session.indexFor(folder);
    const meta = index?.get(node.key);
    const res: ResolveResult | undefined = this.session.previousJob?.resolutions.get(node.key);
    const candidates = res?.candidates ?? meta?.match?.candidates?.map((c) => ({ doi: c.doi ?? '', title: c.title ?? '', year: c.year, score: c.score, source: c.source ?? '', reasons: '', authors: '' })) ?? [];
    type Item = vscode.QuickPickItem & { action: 'accept' | 'reject' | 'no_doi' | 'keep'; doi?: string };
    const wrongDoi = meta?.match?.outcome === 'doi_unknown' || meta?.match?.outcome === 'doi_mismatch' ? node.entry.fields.get('doi')?.value.trim() : undefined;
    const entryLine = `${fieldText(node.entry, 'title') ?? ''} — ${fieldText(node.entry, 'author') ?? ''} (${fieldText(node.entry, 'year') ?? '?'})`;
    const items: Item[] = [
      ...candidates.filter((c) => c.doi).map((c): Item => ({
        label: `${c.score.toFixed(2)}  ${c.title}`,
        description: c.doi,
        // Versions side by side: a preprint and its published version share a title, so say which is which.
        detail: [versionLabel(c as { version?: string; versionOk?: boolean | null }), c.authors, c.year, c.source, (c as { reasons?: string }).reasons].filter(Boolean).join(' · '),
        action: 'accept',
        doi: c.doi,
      })),
      ...(wrongDoi ? [{ label: `$(check) Keep ${wrongDoi}`, description: `${meta?.match?.why ?? 'found wrong'}; keep it anyway and do not flag it again`, action: 'keep' as const }] : []),
      { label: '$(close) None of these', description: 'reject all candidates; ask again next time', action: 'reject' },
      { label: '$(circle-slash) This entry has no DOI', description: 'remember, and do not ask again', action: 'no_doi' },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: `Review ${node.key}: ${entryLine}`, placeHolder: 'Pick the candidate that is this entry', matchOnDetail: true });
    if (!pick) return;
    const lib = folder ? await this.session.library(folder) : undefined;
    if (!lib) return;
    if (pick.action === 'keep') return this.keepDoi({ key: node.key, bibUri: node.bibUri });
    if (pick.action === 'accept' && pick.doi) {
      const doc = this.project.bibDoc(node.bibUri);
      const entry = doc?.file.entries.find((e) => e.key === node.key) ?? node.entry;
      const text = doc ? doc.file.text.slice(entry.span.start, entry.span.end) : '';
      const out = await writeFields(node.bibUri, [{ key: node.key, field: 'doi', value: pick.doi, entryText: text }]);
      if (out.refused.length) {
        void vscode.window.showWarningMessage(`Scholar: ${out.refused[0].reason}`);
        return;
      }
      await lib.writer.writeMetadata(node.key, { doi: pick.doi, match: { score: candidates.find((c) => c.doi === pick.doi)?.score ?? 1, outcome: 'manual', source: 'user', candidates: meta?.match?.candidates }, provenance: { doi: 'user' } });
    } else if (pick.action === 'no_doi') {
      await lib.writer.writeMetadata(node.key, { match: { score: 0, outcome: 'no_doi', source: 'user', candidates: meta?.match?.candidates } });
    } else {
      await lib.writer.writeMetadata(node.key, { match: { score: 0, outcome: 'not_found', source: 'user', candidates: meta?.match?.candidates } });
    }
    await lib.writer.flush();
    this.session.invalidateMetadata(node.key);
    this.tree.refreshNow();
  }

  /** The user's word that the DOI an entry carries is right: remembered, and never flagged or replaced. */
  async keepDoi(arg: unknown): Promise<void> {
    if (!this.requireTrust()) return;
    const a = arg as { key?: unknown; bibUri?: unknown } | undefined;
    // Reached from a quick fix or the review pick with an entry; anything else is a caller's bug.
    if (typeof a?.key !== 'string' || !(a.bibUri instanceof vscode.Uri)) throw new ScholarError('E_USAGE', 'Keep This DOI needs an entry of a .bib file');
    const key = a.key;
    const folder = this.session.folderFor(a.bibUri);
    if (!folder) return;
    const lib = await this.session.library(folder);
    const doi = this.project.bibDoc(a.bibUri)?.file.entries.find((e) => e.key === key)?.fields.get('doi')?.value.trim();
    await lib.writer.writeMetadata(key, { match: { score: 1, outcome: 'manual', source: 'user' }, ...(doi ? { doi: normalizeDoi(doi), provenance: { doi: 'user' } } : {}) });
    await lib.writer.flush();
    this.session.invalidateMetadata(key);
    this.tree.refreshNow();
    // Diagnostics that depend on the decision are recomputed by the session's listeners.
    this.session.notifyChanged();
  }

  async markNoDoi(arg: unknown): Promise<void> {
    if (!this.requireTrust()) return;
    const node = await this.pickEntry(arg, 'Scholar: mark which entry as having no DOI?');
    if (!node) return;
    const folder = this.session.folderFor(node.bibUri);
    if (!folder) return;
    const lib = await this.session.library(folder);
    await lib.writer.writeMetadata(node.key, { match: { score: 0, outcome: 'no_doi', source: 'user' } });
    await lib.writer.flush();
    this.session.invalidateMetadata(node.key);
    this.tree.refreshNow();
  }
}

function versionLabel(c: { version?: string; versionOk?: boolean | null }): string | undefined {
  if (!c.version || c.version === 'unknown') return undefined;
  const v = c.version === 'preprint' ? 'preprint' : 'published version';
  return c.versionOk === false ? `${v} — not the version this entry cites` : v;
}
