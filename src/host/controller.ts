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
import { jobReport, progressPlace, type ProgressPlace } from './model/jobReport';

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


/** The tree view's id (package.json `contributes.views`); job progress is drawn on it. */
export const LIBRARY_VIEW_ID = 'scholar.library';

export interface JobSummary {
  /** The last job of the command (the only one in a single-folder workspace). */
  job: Job;
  /** One job per workspace folder that had entries, in order. */
  jobs: Job[];
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
  /** For tests: where the last job's progress was drawn (a view id, or a notification). */
  lastProgress: { place: ProgressPlace; viewId?: string; automatic: boolean } | undefined;
  /** For tests: the last job's summary sentence, and whether it was shown (never for an automatic run). */
  lastReport: { message: string; shown: boolean } | undefined;

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
      .showWarningMessage(vscode.l10n.t('Scholar sends no request and writes nothing in Restricted Mode. Trust this folder to resolve DOIs and fetch PDFs.'), vscode.l10n.t('Manage Workspace Trust'))
      .then((a) => a && vscode.commands.executeCommand('workbench.trust.manage'));
    return false;
  }

  /**
   * The entries of the given .bib files (all of them when none is given), one group per workspace
   * folder: each folder's entries go to that folder's library and storage, never to another's.
   */
  private entriesByFolder(uris: vscode.Uri[] | undefined): { folder: vscode.WorkspaceFolder; entries: JobEntry[] }[] {
    const docs = this.project.bibDocs().filter((d) => !uris || uris.some((u) => u.toString() === d.uri.toString()));
    const groups = new Map<string, { folder: vscode.WorkspaceFolder; entries: JobEntry[] }>();
    for (const d of docs) {
      const folder = this.session.folderFor(d.uri);
      if (!folder) continue;
      const g = groups.get(folder.uri.toString()) ?? { folder, entries: [] };
      g.entries.push(...d.file.entries.map((entry) => ({ key: entry.key, bibPath: d.uri.fsPath, file: d.file, entry })));
      groups.set(folder.uri.toString(), g);
    }
    return [...groups.values()];
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
      { title: vscode.l10n.t('Scholar: Fetch PDFs for which .bib file?') },
    );
    return pick ? [pick.uri] : null;
  }

  /**
   * Runs a job on the entries of `uris` (all .bib files when undefined): one job per workspace
   * folder, one after the other, each on its folder's library. Progress goes to the library view
   * (and the status bar) unless the user started a long job from the palette; one summary for the
   * whole command, none for an automatic run (watch mode), which only logs it.
   */
  async run(kind: JobKind, uris: vscode.Uri[] | undefined, opts: { only?: Set<string>; checkExisting?: boolean; writeBack?: boolean; automatic?: boolean; fromPalette?: boolean } = {}): Promise<JobSummary | undefined> {
    if (!this.requireTrust()) return undefined;
    await this.project.ready();
    const groups = this.entriesByFolder(uris)
      .map((g) => ({ ...g, entries: opts.only ? g.entries.filter((e) => opts.only!.has(e.key)) : g.entries }))
      .filter((g) => g.entries.length > 0);
    const all = groups.flatMap((g) => g.entries);
    if (all.length === 0) {
      if (!opts.automatic) void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: there is no .bib entry to work on.'));
      return undefined;
    }
    this.onJobStart?.();
    const priority = this.project.citedIn(vscode.window.activeTextEditor?.document.uri);
    const title = kind === 'resolve' ? vscode.l10n.t('Scholar: resolving DOIs') : vscode.l10n.t('Scholar: fetching PDFs');
    // Keep the text each entry had when the job read it: write-back refuses entries changed since.
    const entryText = new Map(all.map((e) => [`${e.bibPath}#${e.key}`, e.file.text.slice(e.entry.span.start, e.entry.span.end)]));
    const place = progressPlace({ entries: all.length, fromPalette: !!opts.fromPalette, automatic: !!opts.automatic });
    this.lastProgress = { place, viewId: place === 'view' ? LIBRARY_VIEW_ID : undefined, automatic: !!opts.automatic };
    const location: vscode.ProgressOptions['location'] = place === 'notification' ? vscode.ProgressLocation.Notification : { viewId: LIBRARY_VIEW_ID };
    const jobs = await vscode.window.withProgress({ location, title, cancellable: place === 'notification' }, async (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      const finished: Job[] = [];
      let before = 0;
      let reported = 0;
      const sub = this.session.onDidChange(() => {
        const s = this.session.currentJob?.snapshot().stats;
        if (!s || s.total === 0) return;
        const done = before + s.done + s.failed;
        if (done > reported) {
          progress.report({ increment: ((done - reported) / all.length) * 100, message: `${done}/${all.length}` });
          reported = done;
        }
      });
      try {
        for (const g of groups) {
          if (controller.signal.aborted) break;
          finished.push(await this.session.runJob(kind, g.entries, g.folder, { priority, signal: controller.signal, checkExisting: opts.checkExisting, automatic: opts.automatic }));
          before += g.entries.length;
        }
        return finished;
      } finally {
        sub.dispose();
      }
    });
    const job = jobs[jobs.length - 1];
    if (!job) return undefined;
    const summary: JobSummary = { job, jobs, written: 0, refused: [] };
    if (kind === 'resolve' && opts.writeBack !== false) {
      const byFile = new Map<string, FieldWrite[]>();
      jobs.forEach((j, i) => {
        // Keys are unique within a folder's library, not across folders: look each up in its own group.
        const own = new Map(groups[i]!.entries.map((e) => [e.key, e]));
        for (const r of j.resolutions.values()) {
          if (r.outcome !== 'accept' || !r.doi) continue;
          const e = own.get(r.key);
          if (!e) continue;
          const list = byFile.get(e.bibPath) ?? [];
          list.push({ key: r.key, field: 'doi', value: r.doi, entryText: entryText.get(`${e.bibPath}#${r.key}`) ?? '' });
          byFile.set(e.bibPath, list);
        }
      });
      for (const [file, writes] of byFile) {
        const out = await writeFields(vscode.Uri.file(file), writes);
        summary.written += out.applied.length;
        summary.refused.push(...out.refused);
      }
    }
    this.lastSummary = summary;
    this.tree.refreshNow();
    this.report(kind, summary, opts);
    return summary;
  }

  private report(kind: JobKind, s: JobSummary, opts: { writeBack?: boolean; automatic?: boolean }): void {
    const outcomes: Record<string, number> = {};
    for (const j of s.jobs) for (const [k, v] of Object.entries(j.snapshot().stats.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
    const { message, actions } = jobReport({ kind, outcomes, written: s.written, refused: s.refused.length, writeBack: opts.writeBack !== false, cancelled: s.jobs.some((j) => j.snapshot().state === 'cancelled') });
    this.lastReport = { message, shown: !opts.automatic };
    this.log.info(`${opts.automatic ? '(automatic) ' : ''}${message}`);
    // An automatic run (watch mode) is not something the user asked for: the log and the views say it, no toast.
    if (opts.automatic) return;
    const label = { Review: vscode.l10n.t('Review'), 'Show Dashboard': vscode.l10n.t('Show Dashboard') };
    void vscode.window.showInformationMessage(message, ...actions.map((x) => label[x])).then((a) => {
      if (a === label.Review) void vscode.commands.executeCommand('scholar.review');
      if (a === label['Show Dashboard']) void vscode.commands.executeCommand('scholar.showDashboard'); // l10n-ignore: the button's id
    });
  }

  async libraryPath(node: EntryNode | undefined, file: 'pdf' | 'dir'): Promise<string | undefined> {
    if (!node) return undefined;
    const folder = this.session.folderFor(node.bibUri);
    if (!folder) return undefined;
    const cfg = await this.session.config(folder);
    return file === 'pdf' ? pdfPath(cfg.storageRoot, node.key) : entryDir(cfg.storageRoot, node.key);
  }

  /**
   * Searches the libraries of every workspace folder that has one (hits merged by score). A
   * malformed query (e.g. `year:abc`) comes back as `error`, not as an exception; no library yet
   * (or Restricted Mode) too.
   */
  async searchHits(query: string, limit: number): Promise<{ hits: SearchHitView[]; error?: string }> {
    const libs = await this.session.libraries.existingLibraries();
    let indexes = libs.map((l) => l.library.index);
    // One library: the views show the index searched, as before multi-root search.
    if (libs.length === 1) await this.session.indexFor(libs[0]!.folder);
    if (!indexes.length) {
      // No folder has a library yet: the first folder's opens, as it did before multi-root search.
      const index = await this.session.indexFor(this.session.folderFor());
      indexes = index ? [index] : [];
    }
    if (!indexes.length) {
      return { hits: [], error: this.session.trusted ? vscode.l10n.t('There is no library yet: resolve DOIs or fetch PDFs first.') : vscode.l10n.t('Restricted Mode: Scholar opens no library until you trust this folder.') };
    }
    try {
      const found = indexes.flatMap((index) => index.search(query, { limit }));
      // Stable: ties keep each library's own order (and the folders' order).
      const hits = indexes.length > 1 ? found.sort((a, b) => b.score - a.score).slice(0, limit) : found;
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
    const node = await this.pickEntry(arg, vscode.l10n.t('Scholar: review which entry?'), (k) => this.statuses.of(k).doiState === 'review');
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
      ...(wrongDoi ? [{ label: vscode.l10n.t('$(check) Keep {0}', wrongDoi), description: vscode.l10n.t('{0}; keep it anyway and do not flag it again', meta?.match?.why ?? vscode.l10n.t('found wrong')), action: 'keep' as const }] : []),
      { label: vscode.l10n.t('$(close) None of these'), description: vscode.l10n.t('reject all candidates; ask again next time'), action: 'reject' },
      { label: vscode.l10n.t('$(circle-slash) This entry has no DOI'), description: vscode.l10n.t('remember, and do not ask again'), action: 'no_doi' },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Review {0}: {1}', node.key, entryLine), placeHolder: vscode.l10n.t('Pick the candidate that is this entry'), matchOnDetail: true });
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
        void vscode.window.showWarningMessage(vscode.l10n.t('Scholar: {0}', out.refused[0].reason));
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
    if (typeof a?.key !== 'string' || !(a.bibUri instanceof vscode.Uri)) throw new ScholarError('E_USAGE', vscode.l10n.t('Keep This DOI needs an entry of a .bib file'));
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
    const node = await this.pickEntry(arg, vscode.l10n.t('Scholar: mark which entry as having no DOI?'));
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
  const v = c.version === 'preprint' ? 'preprint' : vscode.l10n.t('published version');
  return c.versionOk === false ? vscode.l10n.t('{0} — not the version this entry cites', v) : v;
}
