/**
 * PDFs beyond open access, in the editor: Attach PDF… (command, tree menu, hover link, drop onto a
 * tree entry), Open via Library, Attach from Downloads, and Import PDFs from Zotero / from Folder.
 * The work is in src/core/attach and src/core/import; this file asks the questions and shows results.
 */
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attachPdf, type AttachResult } from '../core/attach/attach';
import { recentPdfsNaming } from '../core/attach/downloads';
import { doiLink, proxiedUrl } from '../core/attach/links';
import { errorCode, errorMessage } from '../core/errors';
import { entryRef, type EntryRef } from '../core/import/match';
import { importFromFolder, importFromZotero, type ImportReport } from '../core/import/run';
import { readZoteroLibrary } from '../core/import/zotero';
import { normalizeDoi } from '../core/doi';
import { userLinkSettings } from './config';
import { openSafeLink } from './controller';
import type { EntryStatuses } from './entryStatuses';
import type { LibraryTree, TreeNode } from './libraryTree';
import type { Log } from './log';
import type { ProjectModel } from './project';
import type { Session } from './session';

import { pickEntry, type EntryNode } from './entryPick';

export type AttachOutcome =
  | { key: string; status: 'stored'; verified: string; file: string }
  | { key: string; status: 'declined' | 'cancelled'; file?: string; reason?: string }
  | { key: string; status: 'error'; code: string; message: string; file?: string };

export interface OpenViaLibraryResult {
  key: string;
  url?: string;
  opened: boolean;
  reason?: string;
}

function fileOf(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : undefined;
  if (typeof arg === 'string' && arg) return path.resolve(arg);
  return undefined;
}

export class PdfCommands {
  /** The question on screen (a quick pick), for tests that answer it through VS Code's own commands. */
  asking: string | undefined;
  /** The last import's report (the dashboard and tests read it). */
  lastImport: ImportReport | undefined;

  constructor(
    private readonly session: Session,
    private readonly project: ProjectModel,
    private readonly tree: LibraryTree,
    private readonly statuses: EntryStatuses,
    private readonly log: Log,
    private readonly wasmPath: string,
  ) {}

  private trusted(): boolean {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window.showWarningMessage(vscode.l10n.t('Scholar writes nothing in Restricted Mode. Trust this folder to attach or import PDFs.'));
    return false;
  }

  private pickEntry(arg: unknown, title: string, filter?: (key: string) => boolean): Promise<EntryNode | undefined> {
    return pickEntry(this.project, arg, title, filter);
  }

  private refOf(node: EntryNode): EntryRef {
    const doc = this.project.bibDoc(node.bibUri);
    const entry = doc?.file.entries.find((e) => e.key === node.key) ?? node.entry;
    const ref = entryRef({ key: node.key, entry, file: doc!.file, bibPath: node.bibUri.fsPath });
    // A DOI the library accepted but the .bib does not carry still identifies the paper.
    ref.doi ??= this.statuses.of(node.key).libraryDoi;
    return ref;
  }

  /** A yes/no question as a quick pick (non-modal, answerable from the keyboard, and by tests through VS Code's commands). */
  private async ask(question: string, yes: string, no: string): Promise<boolean> {
    this.asking = question;
    try {
      const pick = await vscode.window.showQuickPick([{ label: no, yes: false }, { label: yes, yes: true }], { title: question, ignoreFocusOut: true });
      return pick?.yes === true;
    } finally {
      this.asking = undefined;
    }
  }

  /** Copies `file` into the entry's folder after checking it; asks before replacing a PDF or keeping one that names neither DOI nor title. */
  async attachFile(node: EntryNode, file: string, source: string): Promise<AttachOutcome> {
    const folder = this.session.folderFor(node.bibUri);
    if (!folder) return { key: node.key, status: 'error', code: 'E_NO_FOLDER', message: vscode.l10n.t('the entry is in no workspace folder'), file };
    const ref = this.refOf(node);
    const name = path.basename(file);
    try {
      const lib = await this.session.library(folder);
      let replace = false;
      let acceptMismatch = false;
      let r: AttachResult;
      for (;;) {
        r = await attachPdf(lib, ref, file, { source, replace, acceptMismatch });
        if (r.status === 'exists') {
          if (!(await this.ask(vscode.l10n.t('{0} already has a PDF ({1}). Replace it with {2}?', node.key, r.verified, name), vscode.l10n.t('Replace the stored PDF'), vscode.l10n.t('Keep the stored PDF')))) return { key: node.key, status: 'declined', file, reason: vscode.l10n.t('kept the stored PDF') };
          replace = true;
          continue;
        }
        if (r.status === 'mismatch') {
          const what = r.verdict === 'unverified' ? vscode.l10n.t('has no text Scholar can check') : vscode.l10n.t('names neither the DOI nor the title of {0}', node.key);
          if (!(await this.ask(vscode.l10n.t('{0} {1}. Keep it as this entry’s PDF anyway?', name, what), vscode.l10n.t('Keep it (marked as checked by hand)'), vscode.l10n.t('Don’t keep it')))) {
            this.log.info(`attach: ${name} not kept for ${node.key} (${r.verdict})`);
            return { key: node.key, status: 'declined', file, reason: r.verdict };
          }
          acceptMismatch = true;
          continue;
        }
        break;
      }
      await lib.writer.flush();
      // The views read the index the session caches: a library first opened here must become it.
      await this.session.indexFor(folder);
      this.session.invalidateMetadata(node.key);
      this.tree.refreshNow();
      this.log.info(`attach: ${name} → ${node.key} (${r.verified}, ${source})`);
      if (r.status === 'stored' && r.fulltext && typeof r.fulltext === 'object') this.log.warn(`attach: ${node.key}: no full text (${r.fulltext.failed})`);
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: {0} attached to {1}{2}.', name, node.key, r.verified === 'manual' ? vscode.l10n.t(' (kept by hand: it does not name the entry)') : vscode.l10n.t(' (verified by {0})', r.verified)));
      return { key: node.key, status: 'stored', verified: r.verified, file };
    } catch (err) {
      const code = errorCode(err);
      const message = errorMessage(err);
      this.log.warn(`attach: ${name} → ${node.key}: ${code}: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('Scholar: {0} was not attached: {1}', name, message));
      return { key: node.key, status: 'error', code, message, file };
    }
  }

  async attach(arg: unknown, fileArg: unknown): Promise<AttachOutcome | undefined> {
    if (!this.trusted()) return undefined;
    await this.project.ready();
    const node = await this.pickEntry(arg, vscode.l10n.t('Scholar: attach a PDF to which entry?'));
    if (!node) return undefined;
    let file = fileOf(fileArg);
    if (!file) {
      const picked = await vscode.window.showOpenDialog({ title: vscode.l10n.t('Attach a PDF to {0}', node.key), canSelectMany: false, filters: { PDF: ['pdf'] }, defaultUri: vscode.Uri.file(userLinkSettings().downloadsFolder) });
      file = picked?.[0] && fileOf(picked[0]);
    }
    if (!file) return { key: node.key, status: 'cancelled' };
    return this.attachFile(node, file, 'user');
  }

  /** The DOI's landing page through the user's proxy, in the browser; then offers Attach from Downloads. */
  async openViaLibrary(arg: unknown): Promise<OpenViaLibraryResult | undefined> {
    await this.project.ready();
    const node = await this.pickEntry(arg, vscode.l10n.t('Scholar: open which entry through your library?'), (k) => !!(this.statuses.of(k).doi ?? this.statuses.of(k).libraryDoi));
    if (!node) return undefined;
    const st = this.statuses.of(node.key);
    const doi = st.doi ?? st.libraryDoi;
    if (!doi) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: {0} has no DOI to open. Resolve its DOI first.', node.key));
      return { key: node.key, opened: false, reason: vscode.l10n.t('no DOI') };
    }
    const links = userLinkSettings();
    if (!links.institutionalProxy) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: set scholar.institutionalProxy (your library’s EZproxy or OpenAthens link) in your user settings first.'), vscode.l10n.t('Open Settings')).then((a) => {
        if (a) void vscode.commands.executeCommand('workbench.action.openSettings', 'scholar.institutionalProxy');
      });
      return { key: node.key, opened: false, reason: vscode.l10n.t('scholar.institutionalProxy is not set') };
    }
    let url: string;
    try {
      url = proxiedUrl(links.institutionalProxy, doiLink(normalizeDoi(doi), links.doiLinkBase));
    } catch (err) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Scholar: {0}', errorMessage(err)));
      return { key: node.key, opened: false, reason: errorMessage(err) };
    }
    this.log.info(`open via library: ${node.key} → ${url}`);
    const opened = await openSafeLink(url);
    void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: opened {0} through your library. Once you have saved its PDF, attach it from your Downloads folder.', node.key), vscode.l10n.t('Attach from Downloads')).then((a) => {
      if (a) void vscode.commands.executeCommand('scholar.attachFromDownloads', node.key);
    });
    return { key: node.key, url, opened };
  }

  /** The recent PDFs of the Downloads folder whose text names the entry; one is attached at once, several are offered. */
  async attachFromDownloads(arg: unknown, folderArg?: unknown): Promise<{ key: string; folder: string; candidates: string[]; result?: AttachOutcome } | undefined> {
    if (!this.trusted()) return undefined;
    await this.project.ready();
    const node = await this.pickEntry(arg, vscode.l10n.t('Scholar: attach a downloaded PDF to which entry?'), (k) => this.statuses.of(k).pdfState !== 'stored');
    if (!node) return undefined;
    const folder = fileOf(folderArg) ?? userLinkSettings().downloadsFolder;
    const ref = this.refOf(node);
    const found = await recentPdfsNaming(folder, ref);
    const candidates = found.map((f) => f.file);
    if (!found.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: no PDF from the last 7 days in {0} names {1}’s DOI or title. Use Attach PDF… to pick a file.', folder, node.key), vscode.l10n.t('Attach PDF…')).then((a) => {
        if (a) void vscode.commands.executeCommand('scholar.attachPdf', node.key);
      });
      return { key: node.key, folder, candidates };
    }
    let file = found[0]!.file;
    if (found.length > 1) {
      this.asking = vscode.l10n.t('Attach which download to {0}?', node.key);
      try {
        const pick = await vscode.window.showQuickPick(
          found.map((f) => ({ label: path.basename(f.file), description: vscode.l10n.t('names the {0}', f.verdict), detail: `${new Date(f.mtimeMs).toLocaleString()} · ${Math.round(f.size / 1024)} KB`, file: f.file })),
          { title: this.asking },
        );
        if (!pick) return { key: node.key, folder, candidates };
        file = pick.file;
      } finally {
        this.asking = undefined;
      }
    }
    return { key: node.key, folder, candidates, result: await this.attachFile(node, file, 'downloads') };
  }

  private projectEntries(): EntryRef[] {
    const seen = new Set<string>();
    const out: EntryRef[] = [];
    for (const d of this.project.bibDocs()) {
      for (const e of d.file.entries) {
        if (seen.has(e.key)) continue;
        seen.add(e.key);
        out.push(entryRef({ key: e.key, entry: e, file: d.file, bibPath: d.uri.fsPath }));
      }
    }
    return out;
  }

  private async pickFolder(arg: unknown, title: string, defaultDir: string): Promise<string | undefined> {
    const given = fileOf(arg);
    if (given) return given;
    const picked = await vscode.window.showOpenDialog({ title, canSelectFolders: true, canSelectFiles: false, canSelectMany: false, defaultUri: fs.existsSync(defaultDir) ? vscode.Uri.file(defaultDir) : undefined });
    return picked?.[0] && fileOf(picked[0]);
  }

  async importPdfs(kind: 'zotero' | 'folder', dirArg: unknown, optsArg: unknown): Promise<ImportReport | undefined> {
    if (!this.trusted()) return undefined;
    await this.project.ready();
    const dryRun = !!(optsArg && typeof optsArg === 'object' && (optsArg as { dryRun?: unknown }).dryRun === true);
    const dir = await this.pickFolder(dirArg, kind === 'zotero' ? vscode.l10n.t('Scholar: your Zotero data directory (it holds zotero.sqlite)') : vscode.l10n.t('Scholar: a folder of PDFs'), kind === 'zotero' ? path.join(os.homedir(), 'Zotero') : userLinkSettings().downloadsFolder);
    if (!dir) return undefined;
    const folder = this.session.folderFor();
    if (!folder) return undefined;
    const cfg = await this.session.config(folder);
    const entries = this.projectEntries();
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: kind === 'zotero' ? vscode.l10n.t('Scholar: importing PDFs from Zotero') : vscode.l10n.t('Scholar: importing PDFs from a folder'), cancellable: true }, async (_p, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      const lib = dryRun ? undefined : await this.session.library(folder);
      const opts = { dryRun, lib, storageRoot: cfg.storageRoot, signal: ac.signal };
      const r = kind === 'zotero' ? await importFromZotero(await readZoteroLibrary(dir, { wasmPath: this.wasmPath }), entries, opts) : await importFromFolder(dir, entries, { ...opts, exclude: [cfg.storageRoot] });
      await lib?.writer.flush();
      return r;
    });
    this.lastImport = report;
    if (!dryRun) await this.session.indexFor(folder);
    this.session.invalidateMetadata();
    this.tree.refreshNow();
    const c = report.counts;
    const msg = vscode.l10n.t('Scholar: {0} {1} PDFs from {2}: {3} matched an entry ({4} already had one, {5} did not name it), {6} matched none; {7} entries still without a PDF.', dryRun ? vscode.l10n.t('would import') : 'imported', c.stored, kind === 'zotero' ? 'Zotero' : path.basename(dir), c.matched, c.exists, c.rejected, c.unmatched, report.withoutPdf.length);
    this.log.info(msg);
    for (const u of report.unmatched) this.log.info(`  unmatched: ${u.label}: ${u.reason}`);
    for (const m of report.matched.filter((x) => x.status === 'rejected')) this.log.info(`  rejected: ${m.key} ← ${m.file}: ${m.reason}`);
    void vscode.window.showInformationMessage(msg, vscode.l10n.t('Show Report')).then((a) => {
      if (a) void this.showReport(report);
    });
    return report;
  }

  private async showReport(r: ImportReport): Promise<void> {
    const lines = [vscode.l10n.t('# Import from {0}{1}', r.source === 'zotero' ? 'Zotero' : 'a folder', r.dryRun ? vscode.l10n.t(' (dry run)') : ''), '', vscode.l10n.t('Source: {0}', r.dir), '', '## Matched', ''];
    for (const m of r.matched) lines.push(vscode.l10n.t('- {0} (by {1}): {2}{3} — {4}', m.key, m.by, m.status, m.reason ? ` — ${m.reason}` : '', m.file));
    lines.push('', vscode.l10n.t('## Not matched'), '');
    for (const u of r.unmatched) lines.push(`- ${u.label}: ${u.reason} — ${u.file}`);
    lines.push('', vscode.l10n.t('## Entries still without a PDF'), '', ...r.withoutPdf.map((k) => `- ${k}`), '');
    const doc = await vscode.workspace.openTextDocument({ content: lines.join('\n'), language: 'markdown' });
    await vscode.window.showTextDocument(doc, { preview: true });
  }
}

/**
 * Dropping a file on an entry of the library tree attaches it: files from the operating system
 * and from VS Code's explorer arrive as `text/uri-list`; a file without a path on disk (dragged
 * from a browser) arrives as a `files` item whose bytes are written to a temp file first.
 */
export class TreeDrop implements vscode.TreeDragAndDropController<TreeNode> {
  readonly dropMimeTypes = ['text/uri-list', 'files'];
  readonly dragMimeTypes: string[] = [];
  /** The outcome of the last drop (tests and the log). */
  lastDrop: AttachOutcome | undefined;

  constructor(private readonly pdfs: PdfCommands) {}

  async handleDrop(target: TreeNode | undefined, data: vscode.DataTransfer, token: vscode.CancellationToken): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Scholar writes nothing in Restricted Mode. Trust this folder to attach PDFs.'));
      return;
    }
    if (!target || target.kind !== 'entry') {
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: drop a PDF onto an entry of the library to attach it.'));
      return;
    }
    let file: string | undefined;
    let temp: string | undefined;
    const list = await data.get('text/uri-list')?.asString();
    for (const line of (list ?? '').split(/\r?\n/)) {
      const s = line.trim();
      if (!s || s.startsWith('#')) continue;
      try {
        const u = vscode.Uri.parse(s, true);
        if (u.scheme === 'file') {
          file = u.fsPath;
          break;
        }
      } catch {
        // not a URI
      }
    }
    if (!file) {
      data.forEach((item) => {
        const f = item.asFile();
        if (!file && !temp && f?.uri?.scheme === 'file') file = f.uri.fsPath;
      });
    }
    if (!file) {
      let dropped: vscode.DataTransferFile | undefined;
      data.forEach((item) => {
        dropped ??= item.asFile();
      });
      if (dropped) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-drop-'));
        temp = path.join(dir, path.basename(dropped.name || 'dropped.pdf'));
        fs.writeFileSync(temp, await dropped.data());
        file = temp;
      }
    }
    if (token.isCancellationRequested) return;
    if (!file) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: nothing in that drop is a file on disk.'));
      return;
    }
    try {
      this.lastDrop = await this.pdfs.attachFile(target, file, 'user');
    } finally {
      if (temp) fs.rmSync(path.dirname(temp), { recursive: true, force: true });
    }
  }
}
