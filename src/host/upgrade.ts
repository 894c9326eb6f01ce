/**
 * Upgrade Preprints in the editor: proposals per entry (core/upgrade), shown as information
 * diagnostics, a "Published since" group and a quick fix; every rewrite is one WorkspaceEdit
 * (undoable, on the document so unsaved text is respected) and only of an entry that still reads
 * as it did when the proposal was made. Proposals with a published version are also kept in the
 * entry's metadata.json (through the single writer), so a reload shows them without new requests.
 */
import * as vscode from 'vscode';
import { findEntry, parseBib } from '../core/bib/parse';
import { entryFacts } from '../core/match/facts';
import { describeEvidence, type UpgradeProposal } from '../core/upgrade/evidence';
import { planUpgradeEdit } from '../core/upgrade/edit';
import { proposeUpgrades } from '../core/upgrade/run';
import { entryHash, fromUpgradeInfo, toUpgradeInfo } from '../core/upgrade/persist';
import type { ProjectModel } from './project';
import type { Session } from './session';
import type { Log } from './log';
import type { MetadataPatch } from '../core/storage/metadata';

export interface StoredProposal {
  bibUri: vscode.Uri;
  proposal: UpgradeProposal;
  /** The entry's text when proposed: a changed entry is not rewritten. */
  entryText: string;
}

export interface UpgradeSummary {
  upgraded: number;
  review: number;
  none: number;
  applied: string[];
  refused: { key: string; reason: string }[];
}

/** "Published as Title, Journal 2021 (evidence: arXiv DOI link + arXiv journal_ref)". */
export function publishedMessage(p: UpgradeProposal): string {
  const t = p.to!;
  const where = [t.venue, t.year].filter(Boolean).join(' ');
  const head = vscode.l10n.t('Published as "{0}"{1} (evidence: {2})', t.title, where ? `, ${where}` : '', describeEvidence(p.evidence) || 'none');
  return p.outcome === 'upgraded' ? head : vscode.l10n.t('{0}; needs review: {1}', head, p.why);
}

export class Upgrades implements vscode.Disposable {
  private readonly byKey = new Map<string, StoredProposal>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly project: ProjectModel,
    private readonly session: Session,
    private readonly log: Log,
  ) {}

  /** A proposal with a published version for `key`, while the entry still cites the preprint it was made for. */
  get(key: string): StoredProposal | undefined {
    const s = this.byKey.get(key);
    // A run whose services failed is no verdict: what an earlier run kept still stands.
    if (!s || (s.proposal.outcome === 'none' && s.proposal.errors?.length)) return this.persisted(key);
    if (!s.proposal.to || s.proposal.outcome === 'none') return undefined;
    const doc = this.project.bibDoc(s.bibUri);
    const entry = doc ? findEntry(doc.file, key) : undefined;
    if (!doc || !entry || doc.file.text.slice(entry.span.start, entry.span.end) !== s.entryText) return undefined;
    return s;
  }

  /** The proposal kept in metadata.json by an earlier session, if the entry still has the text it was made for. */
  private persisted(key: string): StoredProposal | undefined {
    const u = this.session.metadata(key)?.upgrade;
    const found = u ? this.project.findEntry(key) : undefined;
    if (!u || !found) return undefined;
    const text = found.doc.file.text.slice(found.entry.span.start, found.entry.span.end);
    if (entryHash(text) !== u.entryHash) return undefined;
    return { bibUri: found.doc.uri, proposal: fromUpgradeInfo(key, u), entryText: text };
  }

  /** Keys with a live proposal ("Published since"): this session's and those kept in metadata. */
  keys(): string[] {
    const out = new Set([...this.byKey.keys()].filter((k) => this.get(k)));
    for (const k of this.project.definedKeys()) if (!this.byKey.has(k) && this.session.metadata(k)?.upgrade && this.get(k)) out.add(k);
    return [...out];
  }

  /** Keeps (or, once there is nothing to keep, drops) the proposals of one library in metadata.json. */
  private async persist(lib: { writer: { writeMetadata(key: string, patch: MetadataPatch): Promise<unknown> } }, stored: readonly StoredProposal[]): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const s of stored) {
      const info = toUpgradeInfo(s.proposal, s.entryText);
      const failed = s.proposal.outcome === 'none' && !!s.proposal.errors?.length;
      // No folder is made for an entry with nothing to keep; failed services erase nothing.
      if (info) writes.push(lib.writer.writeMetadata(s.proposal.key, { upgrade: info }));
      else if (!failed && this.session.metadata(s.proposal.key)?.upgrade) writes.push(lib.writer.writeMetadata(s.proposal.key, { upgrade: null }));
    }
    const results = await Promise.allSettled(writes);
    for (const s of stored) this.session.invalidateMetadata(s.proposal.key);
    const bad = results.filter((r) => r.status === 'rejected').length;
    if (bad) this.log.warn(`upgrade: ${bad} proposals could not be kept in metadata.json (they stay until the window reloads)`);
  }

  /** What a window reload does to this session's proposals (kept ones are read back from metadata.json). */
  forgetSession(): void {
    this.byKey.clear();
    this.changed.fire();
  }

  /** Asks the sources about every entry citing a preprint in `uris` (default every .bib). */
  async propose(uris: vscode.Uri[] | undefined, progress?: vscode.Progress<{ message?: string; increment?: number }>, token?: vscode.CancellationToken): Promise<StoredProposal[]> {
    await this.project.ready();
    const docs = this.project.bibDocs().filter((d) => !uris || uris.some((u) => u.toString() === d.uri.toString()));
    const out: StoredProposal[] = [];
    const ac = new AbortController();
    const sub = token?.onCancellationRequested(() => ac.abort());
    try {
      for (const doc of docs) {
        const folder = this.session.folderFor(doc.uri);
        if (!folder) continue;
        // The library's HTTP client: its lanes are shared with every other job, so no service sees more than its rate.
        const lib = await this.session.library(folder);
        // The views read kept proposals from this library's index.
        await this.session.indexFor(folder);
        const file = doc.file;
        const preprints = file.entries.filter((e) => entryFacts(file, e).cited === 'preprint').length;
        let done = 0;
        const proposals = await proposeUpgrades(lib.http, file, {
          signal: ac.signal,
          onProposal: () => progress?.report({ message: vscode.l10n.t('{0} of {1} entries ({2} cite preprints)', ++done, file.entries.length, preprints) }),
        });
        const mine: StoredProposal[] = [];
        for (const p of proposals) {
          const entry = findEntry(file, p.key);
          if (!entry) continue;
          const s = { bibUri: doc.uri, proposal: p, entryText: file.text.slice(entry.span.start, entry.span.end) };
          this.byKey.set(p.key, s);
          mine.push(s);
        }
        await this.persist(lib, mine);
        out.push(...mine);
      }
    } finally {
      sub?.dispose();
      this.changed.fire();
    }
    return out;
  }

  /** Rewrites the entries `keys` of one .bib as their published versions, in one undoable edit. */
  async apply(bibUri: vscode.Uri, keys: string[]): Promise<{ applied: string[]; refused: { key: string; reason: string }[] }> {
    const doc = await vscode.workspace.openTextDocument(bibUri);
    const wasDirty = doc.isDirty;
    const text = doc.getText();
    const file = parseBib(text);
    const edit = new vscode.WorkspaceEdit();
    const applied: string[] = [];
    const refused: { key: string; reason: string }[] = [];
    for (const key of keys) {
      const s = this.get(key) ?? this.byKey.get(key);
      const entry = findEntry(file, key);
      if (!s?.proposal.to || !entry) {
        refused.push({ key, reason: vscode.l10n.t('no proposal for this entry') });
        continue;
      }
      if (text.slice(entry.span.start, entry.span.end) !== s.entryText) {
        refused.push({ key, reason: vscode.l10n.t('the entry changed since Scholar read it') });
        continue;
      }
      try {
        const te = planUpgradeEdit(file, entry, s.proposal.to, s.proposal.from);
        edit.replace(bibUri, new vscode.Range(doc.positionAt(te.offset), doc.positionAt(te.offset + te.length)), te.text, { label: vscode.l10n.t('Scholar: cite the published version of {0}', key), needsConfirmation: false });
        applied.push(key);
      } catch (err) {
        refused.push({ key, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    if (!applied.length) return { applied, refused };
    if (!(await vscode.workspace.applyEdit(edit))) return { applied: [], refused: keys.map((key) => ({ key, reason: vscode.l10n.t('VS Code refused the edit') })) };
    if (!wasDirty) await doc.save();
    for (const k of applied) this.byKey.delete(k);
    this.changed.fire();
    return { applied, refused };
  }

  /** The quick fix's edit for one entry, computed on the document's current text. */
  editFor(doc: vscode.TextDocument, key: string): vscode.WorkspaceEdit | undefined {
    const s = this.get(key);
    if (!s) return undefined;
    const file = parseBib(doc.getText());
    const entry = findEntry(file, key);
    if (!entry || doc.getText().slice(entry.span.start, entry.span.end) !== s.entryText) return undefined;
    const te = planUpgradeEdit(file, entry, s.proposal.to!, s.proposal.from);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, new vscode.Range(doc.positionAt(te.offset), doc.positionAt(te.offset + te.length)), te.text, { label: vscode.l10n.t('Scholar: cite the published version of {0}', key), needsConfirmation: false });
    return edit;
  }

  /**
   * Scholar: Upgrade Preprints…: asks the sources, then lets the user pick (confident upgrades
   * preselected, the ones to review listed with their evidence but not selected). A programmatic
   * caller may pass `{ apply: 'upgraded' | string[] }` instead of the picker.
   */
  async command(arg?: unknown): Promise<UpgradeSummary | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Scholar sends no request in Restricted Mode. Trust this folder to upgrade preprints.'));
      return undefined;
    }
    const a = arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) ? (arg as { apply?: unknown }) : {};
    const uris = arg instanceof vscode.Uri ? [arg] : undefined;
    const stored = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Scholar: looking for published versions'), cancellable: true }, (progress, token) => this.propose(uris, progress, token));
    const count = (o: string) => stored.filter((s) => s.proposal.outcome === o).length;
    const offered = stored.filter((s) => s.proposal.to && s.proposal.outcome !== 'none');
    let chosen: StoredProposal[];
    if (a.apply === 'upgraded') chosen = offered.filter((s) => s.proposal.outcome === 'upgraded');
    else if (Array.isArray(a.apply)) chosen = offered.filter((s) => (a.apply as unknown[]).includes(s.proposal.key));
    else {
      if (!offered.length) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: no published version found for the {0} preprints.', stored.filter((s) => s.proposal.from.arxivId || s.proposal.from.doi).length));
        return { upgraded: 0, review: count('review'), none: count('none'), applied: [], refused: [] };
      }
      const items = offered.map((s) => ({
        label: s.proposal.key,
        description: `${s.proposal.outcome === 'upgraded' ? '' : '(review) '}${s.proposal.to!.doi}`,
        detail: publishedMessage(s.proposal),
        picked: s.proposal.outcome === 'upgraded',
        s,
      }));
      const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title: vscode.l10n.t('Cite the published version of these entries'), placeHolder: vscode.l10n.t('Confident upgrades are selected; the others need your look') });
      if (!picked) return undefined;
      chosen = picked.map((p) => p.s);
    }
    const summary: UpgradeSummary = { upgraded: count('upgraded'), review: count('review'), none: count('none'), applied: [], refused: [] };
    const byFile = new Map<string, StoredProposal[]>();
    for (const s of chosen) byFile.set(s.bibUri.toString(), [...(byFile.get(s.bibUri.toString()) ?? []), s]);
    for (const list of byFile.values()) {
      const r = await this.apply(list[0].bibUri, list.map((s) => s.proposal.key));
      summary.applied.push(...r.applied);
      summary.refused.push(...r.refused);
    }
    this.log.info(`upgrade: ${summary.upgraded} confident, ${summary.review} to review, ${summary.applied.length} rewritten, ${summary.refused.length} refused`);
    if (!Array.isArray(a.apply) && a.apply !== 'upgraded') void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: {0} entries now cite their published version.', summary.applied.length));
    return summary;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
