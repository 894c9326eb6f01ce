import * as vscode from 'vscode';
import { fieldText } from '../core/bib/latex';
import { appendUntrusted } from './markdown';
import { checkBibFiles } from '../core/bib/lint';
import type { ProjectModel } from './project';
import type { Session } from './session';
import type { EntryStatuses } from './entryStatuses';
import { doiUrl } from './controller';
import { LineIndex } from '../core/bib/parse';
import { publishedMessage, type Upgrades } from './upgrade';
import { versionDuplicates, type VersionDuplicate } from '../core/upgrade/duplicates';
import type { DocumentBibliographies } from './bibScope';

const TEX = [{ scheme: 'file', language: 'latex' }, { scheme: 'file', pattern: '**/*.tex' }];
const BIB = [{ scheme: 'file', language: 'bibtex' }, { scheme: 'file', pattern: '**/*.bib' }];

/** Where a finding sits: its file and the start of the DOI value it is about. */
function findingKey(uri: vscode.Uri, range: vscode.Range): string {
  return `${uri.toString()}@${range.start.line}:${range.start.character}`;
}

/** A DOI an entry carries that a resolve found wrong (metadata.json `match`), and its fix if known. */
interface DoiFinding {
  key: string;
  code: 'W_DOI_UNKNOWN' | 'W_DOI_MISMATCH';
  message: string;
  replacement?: string;
}

/**
 * In .tex files: a hover on a cited key, diagnostics for keys defined in no .bib and for cited
 * works with a retraction or correction notice; in .bib files: parse errors, duplicates and
 * malformed DOIs. All text from .bib files and APIs goes into hovers as text, never as markup.
 */
export class LatexFeatures implements vscode.HoverProvider, vscode.CodeActionProvider, vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('scholar');
  private readonly disposables: vscode.Disposable[] = [this.diagnostics];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly project: ProjectModel,
    private readonly session: Session,
    private readonly statuses: EntryStatuses,
    private readonly upgrades?: Upgrades,
    private readonly scopes?: DocumentBibliographies,
  ) {
    this.disposables.push(
      vscode.languages.registerHoverProvider(TEX, this),
      vscode.languages.registerCodeActionsProvider([...TEX, ...BIB], this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
    );
  }

  private readonly doiFindings = new Map<string, DoiFinding>();
  /** Where each I_VERSION_DUPLICATE diagnostic sits → its pair (for Merge duplicate entries…). */
  private readonly versionPairs = new Map<string, VersionDuplicate>();

  /** Recomputes all diagnostics, at most a few times a second. */
  updateSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, 300);
  }

  update(): void {
    if (!vscode.workspace.getConfiguration('scholar').get<boolean>('diagnostics.enabled', true)) return void this.diagnostics.clear();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const add = (uri: vscode.Uri, d: vscode.Diagnostic) => {
      const k = uri.toString();
      byFile.set(k, [...(byFile.get(k) ?? []), d]);
    };
    const docs = this.project.bibDocs();
    for (const f of checkBibFiles(docs.map((d) => ({ path: d.uri.toString(), file: d.file })))) {
      const pos = new vscode.Position(Math.max(0, f.line - 1), Math.max(0, f.column - 1));
      const d = new vscode.Diagnostic(new vscode.Range(pos, pos.translate(0, 1)), f.message, f.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      d.source = 'Scholar';
      d.code = f.code;
      add(vscode.Uri.parse(f.file), d);
    }
    // Existing DOIs a resolve found wrong (unknown, or naming another work), as long as the entry
    // still carries that DOI: on the doi field, with the replacement as a quick fix.
    this.doiFindings.clear();
    for (const doc of docs) {
      for (const entry of doc.file.entries) {
        const field = entry.fields.get('doi');
        const m = field ? this.session.metadata(entry.key)?.match : undefined;
        if (!field || !m || (m.outcome !== 'doi_unknown' && m.outcome !== 'doi_mismatch') || m.replaces !== field.value.trim()) continue;
        const text = doc.file.text;
        const lineStart = (off: number) => text.slice(0, off).split('\n');
        // The value inside its braces or quotes.
        const inset = field.delimiter === '{' || field.delimiter === '"' ? 1 : 0;
        const a = lineStart(field.valueSpan.start + inset);
        const b = lineStart(field.valueSpan.end - inset);
        const range = new vscode.Range(a.length - 1, a[a.length - 1].length, b.length - 1, b[b.length - 1].length);
        const finding: DoiFinding = {
          key: entry.key,
          code: m.outcome === 'doi_mismatch' ? 'W_DOI_MISMATCH' : 'W_DOI_UNKNOWN',
          message: `${m.outcome === 'doi_mismatch' ? vscode.l10n.t('This DOI names another work') : vscode.l10n.t('This DOI does not exist')}: ${m.why ?? ''}`.replace(/: $/, ''),
          replacement: m.replacement,
        };
        const d = new vscode.Diagnostic(range, finding.message, vscode.DiagnosticSeverity.Warning);
        d.source = 'Scholar';
        d.code = finding.code;
        this.doiFindings.set(findingKey(doc.uri, range), finding);
        add(doc.uri, d);
      }
    }
    // A cited preprint with a published version found (Upgrade Preprints): on the entry's key and on each \cite of it.
    const published = new Map<string, string>();
    for (const doc of this.upgrades ? docs : []) {
      let lines: LineIndex | undefined;
      for (const entry of doc.file.entries) {
        const s = this.upgrades!.get(entry.key);
        if (!s || s.bibUri.toString() !== doc.uri.toString()) continue;
        lines ??= new LineIndex(doc.file.text);
        const a = lines.position(entry.keySpan.start);
        const b = lines.position(entry.keySpan.end);
        const message = publishedMessage(s.proposal);
        published.set(entry.key, message);
        const d = new vscode.Diagnostic(new vscode.Range(a.line - 1, a.column - 1, b.line - 1, b.column - 1), message, vscode.DiagnosticSeverity.Information);
        d.source = 'Scholar';
        d.code = 'I_PUBLISHED_VERSION';
        add(doc.uri, d);
      }
    }
    // A preprint entry and a published entry of one work: two keys for one work (merging is the user's call).
    const linked = new Map((this.upgrades?.keys() ?? []).map((k) => [k, this.upgrades!.get(k)!.proposal.to!.doi] as [string, string]));
    const docByUri = new Map(docs.map((d) => [d.uri.toString(), d]));
    const keyRange = (uri: string, key: string): vscode.Range | undefined => {
      const d = docByUri.get(uri);
      const e = d?.file.entries.find((x) => x.key === key);
      if (!d || !e) return undefined;
      const li = new LineIndex(d.file.text);
      const a = li.position(e.keySpan.start);
      const b = li.position(e.keySpan.end);
      return new vscode.Range(a.line - 1, a.column - 1, b.line - 1, b.column - 1);
    };
    this.versionPairs.clear();
    for (const dup of versionDuplicates(docs.map((d) => ({ path: d.uri.toString(), file: d.file })), linked)) {
      for (const [side, other, what] of [[dup.preprint, dup.published, vscode.l10n.t('its published version')], [dup.published, dup.preprint, vscode.l10n.t('its preprint')]] as const) {
        const r = keyRange(side.path, side.key);
        if (!r) continue;
        const d = new vscode.Diagnostic(r, vscode.l10n.t('\'{0}\' and \'{1}\' are two versions of one work (\'{2}\' is {3}); cite one of them', side.key, other.key, other.key, what), vscode.DiagnosticSeverity.Information);
        d.source = 'Scholar';
        d.code = 'I_VERSION_DUPLICATE';
        this.versionPairs.set(findingKey(vscode.Uri.parse(side.path), r), dup);
        add(vscode.Uri.parse(side.path), d);
      }
    }
    // A key is undefined only against the bibliography the document's root declares; when part of
    // that cannot be read (not found, remote), nothing is called undefined.
    const defined = this.project.definedKeys();
    for (const d of this.scopes?.unresolved() ?? []) {
      const pos = new vscode.Position(d.line - 1, d.column - 1);
      const diag = new vscode.Diagnostic(
        new vscode.Range(pos, pos.translate(0, d.name.length)),
        vscode.l10n.t('bibliography \'{0}\' not found (relative to {1}, along BIBINPUTS, or by kpsewhich): citations of this document are not checked', d.name, d.rootDir),
        vscode.DiagnosticSeverity.Information,
      );
      diag.source = 'Scholar';
      diag.code = 'I_BIB_NOT_FOUND';
      add(vscode.Uri.file(d.file), diag);
    }
    for (const site of this.project.citeSites()) {
      const start = new vscode.Position(site.line - 1, site.column - 1);
      const range = new vscode.Range(start, start.translate(0, site.key.length));
      const scope = this.scopes?.lookup(site.uri) ?? { kind: 'workspace' as const };
      const isDefined = scope.kind === 'scoped' ? scope.keys.has(site.key) : scope.kind === 'unknown' ? true : defined.has(site.key);
      if (!isDefined) {
        const where = scope.kind === 'scoped' ? vscode.l10n.t('of this document\'s bibliography ({0})', scope.files.map((f) => vscode.workspace.asRelativePath(f)).join(', ')) : '';
        const d = new vscode.Diagnostic(range, vscode.l10n.t('\'{0}\' is cited but defined in no .bib file {1}', site.key, where).trim(), vscode.DiagnosticSeverity.Warning);
        d.source = 'Scholar';
        d.code = 'W_UNDEFINED_CITATION';
        add(site.uri, d);
        continue;
      }
      const pub = published.get(site.key);
      if (pub) {
        const d = new vscode.Diagnostic(range, `'${site.key}': ${pub}`, vscode.DiagnosticSeverity.Information);
        d.source = 'Scholar';
        d.code = 'I_PUBLISHED_VERSION';
        add(site.uri, d);
      }
      const meta = this.session.metadata(site.key);
      for (const n of meta?.notices ?? []) {
        if (n.type !== 'retraction' && n.type !== 'correction' && n.type !== 'expression_of_concern') continue;
        const d = new vscode.Diagnostic(
          range,
          vscode.l10n.t('\'{0}\' has a {1} notice{2}', site.key, n.type.replace(/_/g, ' '), n.doi ? ` (${n.doi})` : ''),
          n.type === 'retraction' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information,
        );
        d.source = 'Scholar';
        d.code = n.type === 'retraction' ? 'W_RETRACTED' : 'I_CORRECTED';
        add(site.uri, d);
      }
    }
    this.diagnostics.clear();
    for (const [k, list] of byFile) this.diagnostics.set(vscode.Uri.parse(k), list);
  }

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    if (!vscode.workspace.getConfiguration('scholar', doc.uri).get<boolean>('hover.enabled', true)) return undefined;
    // LaTeX Workshop's citation hover shows the entry itself; beside it Scholar shows only what the
    // .bib does not say. Its setting is read even when LaTeX Workshop is absent (then it is unset).
    const lw = vscode.workspace.getConfiguration('latex-workshop', doc.uri).get<boolean>('hover.citation.enabled') === true;
    const scan = this.project.texScan(doc.uri);
    const offset = doc.offsetAt(pos);
    const cite = scan?.cites.find((c) => offset >= c.offset && offset <= c.offset + c.key.length);
    if (!cite) return undefined;
    const ws = this.project.findEntry(cite.key);
    const found = this.scopes ? this.scopes.entryFor(doc.uri, cite.key) : ws && { entry: ws.entry, uri: ws.doc.uri, external: false };
    const range = new vscode.Range(doc.positionAt(cite.offset), doc.positionAt(cite.offset + cite.key.length));
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = false;
    md.supportHtml = false;
    if (!found) {
      // The diagnostic says it already, and so does LaTeX Workshop's hover.
      if (lw) return undefined;
      const scoped = this.scopes?.lookup(doc.uri).kind === 'scoped';
      appendUntrusted(md, vscode.l10n.t('{0}: defined in no .bib file of {1}', cite.key, scoped ? vscode.l10n.t('this document’s bibliography') : vscode.l10n.t('this workspace')));
      return new vscode.Hover(md, range);
    }
    const st = this.statuses.of(cite.key);
    const e = found.entry;
    if (!lw) {
      md.appendMarkdown('**');
      appendUntrusted(md, st.meta?.title ?? fieldText(e, 'title') ?? cite.key);
      md.appendMarkdown('**\n\n');
      const authors = st.meta?.authors?.map((a) => [a.given, a.family].filter(Boolean).join(' ')).join(', ') ?? fieldText(e, 'author');
      if (authors) appendUntrusted(md, `${authors}\n\n`);
      // biblatex spells these journaltitle and date (refs.bib in the fixture does).
      const venue = st.meta?.venue ?? fieldText(e, 'journal') ?? fieldText(e, 'journaltitle') ?? fieldText(e, 'booktitle');
      const year = st.meta?.year ?? fieldText(e, 'year') ?? fieldText(e, 'date')?.slice(0, 4);
      if (venue || year) appendUntrusted(md, `${[venue, year].filter(Boolean).join(', ')}\n\n`);
    }
    // An entry of a .bib outside the workspace is not in the project model: its DOI is read here.
    const doi = st.doi ?? (e.fields.get('doi')?.value.trim() || undefined);
    const m = st.meta?.match;
    const wrongDoi = !!doi && st.doiState === 'review' && (m?.outcome === 'doi_unknown' || m?.outcome === 'doi_mismatch');
    const notices = st.meta?.notices ?? [];
    const up = this.upgrades?.get(cite.key);
    if (lw && !doi && st.pdfState !== 'stored' && st.pdfState !== 'failed' && !notices.length && !up) return undefined;
    if (doi) {
      // The link target is built by us from a validated DOI; the label is text.
      md.appendMarkdown(`DOI: [`);
      appendUntrusted(md, doi);
      md.appendMarkdown(`](${doiUrl(doi)})\n\n`);
      if (wrongDoi) appendUntrusted(md, `⚠ ${m!.why ?? vscode.l10n.t('this DOI was found wrong')}${m!.replacement ? vscode.l10n.t(' (the entry is {0}; quick fix on the doi field)', m!.replacement) : ''}\n\n`);
    } else appendUntrusted(md, vscode.l10n.t('DOI: {0}\n\n', st.doiState === 'review' ? vscode.l10n.t('needs review') : vscode.l10n.t('none yet')));
    appendUntrusted(md, vscode.l10n.t('PDF: {0}\n\n', st.pdfState === 'stored' ? (st.meta?.pdf?.verified === 'manual' ? vscode.l10n.t('stored (kept by you)') : 'stored') : st.pdfState === 'failed' ? 'failed' : vscode.l10n.t('not fetched')));
    for (const n of notices) appendUntrusted(md, `⚠ ${n.type.replace(/_/g, ' ')} notice${n.doi ? `: ${n.doi}` : ''}\n\n`);
    if (up) appendUntrusted(md, `↑ ${publishedMessage(up.proposal)}\n\n`);
    if (found.external) appendUntrusted(md, vscode.l10n.t('From {0}\n\n', found.uri.fsPath));
    if (!vscode.workspace.isTrusted) return new vscode.Hover(md, range);
    // The links live in their own MarkdownString, which holds no text from a .bib or an API: only
    // it may run commands, and only these, for this key (an argument, not markup).
    // encodeURIComponent leaves ( ) ' as they are: a key holding ")" would end the link target.
    const args = encodeURIComponent(JSON.stringify([cite.key])).replace(/[()']/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const links: string[] = [];
    const commands: string[] = [];
    if (st.pdfState === 'stored') links.push(vscode.l10n.t('[Open PDF](command:scholar.openPdf?{0} "Open the stored PDF")', args)), commands.push('scholar.openPdf');
    if (doi && ws) links.push(vscode.l10n.t('[Open DOI](command:scholar.openDoi?{0} "Open the DOI in the browser")', args)), commands.push('scholar.openDoi');
    if (st.pdfState !== 'stored' && ws) links.push(vscode.l10n.t('[Attach PDF…](command:scholar.attachPdf?{0} "Attach a PDF you have to this entry")', args)), commands.push('scholar.attachPdf');
    if (!links.length) return new vscode.Hover(md, range);
    const link = new vscode.MarkdownString(undefined, false);
    link.isTrusted = { enabledCommands: commands };
    link.supportHtml = false;
    link.appendMarkdown(links.join(' · '));
    return new vscode.Hover([md, link], range);
  }

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    if (/\.bib$/i.test(doc.uri.path)) return this.bibActions(doc, ctx);
    const scan = this.project.texScan(doc.uri);
    const offset = doc.offsetAt(range.start);
    const cite = scan?.cites.find((c) => offset >= c.offset && offset <= c.offset + c.key.length);
    if (!cite) return [];
    const found = this.project.findEntry(cite.key);
    if (!found) return [];
    const node = { kind: 'entry' as const, key: cite.key, bibUri: found.doc.uri, entry: found.entry };
    const actions: vscode.CodeAction[] = [];
    const go = new vscode.CodeAction(vscode.l10n.t('Go to the entry of \'{0}\'', cite.key), vscode.CodeActionKind.QuickFix);
    go.command = { command: 'scholar.revealEntry', title: vscode.l10n.t('Go to entry'), arguments: [node] };
    actions.push(go);
    const cite2 = this.citePublishedAction(found.doc.uri, cite.key, ctx);
    if (cite2) actions.push(cite2);
    if (!found.entry.fields.get('doi')) {
      const resolve = new vscode.CodeAction(vscode.l10n.t('Resolve the DOI of \'{0}\'', cite.key), vscode.CodeActionKind.QuickFix);
      resolve.command = { command: 'scholar.resolveEntry', title: vscode.l10n.t('Resolve DOI'), arguments: [node] };
      actions.push(resolve);
    }
    return actions;
  }

  /** On a wrong DOI: replace it with the one found (an undoable edit of the value only), or keep it for good. */
  private bibActions(doc: vscode.TextDocument, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics) {
      if (d.source === 'Scholar' && d.code === 'I_PUBLISHED_VERSION') {
        const fix = this.citePublishedAction(doc.uri, doc.getText(d.range), ctx);
        if (fix) actions.push(fix);
      }
      const pair = d.source === 'Scholar' && d.code === 'I_VERSION_DUPLICATE' ? this.versionPairs.get(findingKey(doc.uri, d.range)) : undefined;
      if (pair) {
        const merge = new vscode.CodeAction(vscode.l10n.t('Merge duplicate entries \'{0}\' and \'{1}\'…', pair.preprint.key, pair.published.key), vscode.CodeActionKind.QuickFix);
        merge.diagnostics = [d];
        const ref = (s: { path: string; key: string }) => ({ uri: vscode.Uri.parse(s.path), key: s.key });
        merge.command = { command: 'scholar.mergeDuplicates', title: vscode.l10n.t('Merge duplicate entries…'), arguments: [{ preprint: ref(pair.preprint), published: ref(pair.published) }] };
        actions.push(merge);
      }
    }
    for (const d of ctx.diagnostics) {
      if (d.source !== 'Scholar' || (d.code !== 'W_DOI_UNKNOWN' && d.code !== 'W_DOI_MISMATCH')) continue;
      const finding = this.doiFindings.get(findingKey(doc.uri, d.range));
      if (!finding || finding.code !== d.code) continue;
      if (finding.replacement) {
        const fix = new vscode.CodeAction(vscode.l10n.t('Replace with {0}', finding.replacement), vscode.CodeActionKind.QuickFix);
        fix.diagnostics = [d];
        fix.isPreferred = true;
        fix.edit = new vscode.WorkspaceEdit();
        fix.edit.replace(doc.uri, d.range, finding.replacement, { label: vscode.l10n.t('Scholar: doi of {0}', finding.key), needsConfirmation: false });
        actions.push(fix);
      }
      const keep = new vscode.CodeAction(vscode.l10n.t('Keep this DOI (do not flag it again)'), vscode.CodeActionKind.QuickFix);
      keep.diagnostics = [d];
      keep.command = { command: 'scholar.keepDoi', title: vscode.l10n.t('Keep this DOI'), arguments: [{ key: finding.key, bibUri: doc.uri }] };
      actions.push(keep);
    }
    return actions;
  }

  /**
   * Cite the published version: the rewrite of the whole entry as one edit (type, venue, volume,
   * number, pages, year, doi; key and eprint kept), computed on the .bib's current text.
   */
  private citePublishedAction(bibUri: vscode.Uri, key: string, ctx: vscode.CodeActionContext): vscode.CodeAction | undefined {
    const s = this.upgrades?.get(key);
    const bib = vscode.workspace.textDocuments.find((t) => t.uri.toString() === bibUri.toString());
    if (!s) return undefined;
    const fix = new vscode.CodeAction(vscode.l10n.t('Cite the published version ({0})', s.proposal.to!.doi), vscode.CodeActionKind.QuickFix);
    fix.diagnostics = ctx.diagnostics.filter((d) => d.code === 'I_PUBLISHED_VERSION');
    fix.isPreferred = s.proposal.outcome === 'upgraded';
    // An open .bib gets the edit itself (previewable); a closed one is opened and edited by the command.
    const edit = bib ? this.upgrades!.editFor(bib, key) : undefined;
    if (edit) fix.edit = edit;
    else fix.command = { command: 'scholar.citePublishedVersion', title: vscode.l10n.t('Cite the published version'), arguments: [{ key, bibUri }] };
    return fix;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
