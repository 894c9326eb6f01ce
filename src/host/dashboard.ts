import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { parseWebviewMessage, type DashboardSnapshot, type HostToWebview, type SearchHitView, type WebviewToHost } from '../shared/protocol';
import type { Log } from './log';

export const DASHBOARD_VIEW_TYPE = 'scholar.dashboard';

export interface DashboardHandlers {
  command(msg: Extract<WebviewToHost, { type: 'command' }>): void;
  search(query: string): Promise<{ hits: SearchHitView[]; error?: string }>;
  open(key: string, what: 'pdf' | 'bib'): void;
}

export interface SnapshotSource {
  snapshot(): Omit<DashboardSnapshot, 'seq'>;
  onDidChange: vscode.Event<void>;
}

/**
 * The dashboard panel: one per window, restored after a reload by the serializer. The host sends
 * nothing before the webview says `ready`, then full snapshots, throttled so that a run of
 * thousands of entries never floods the webview.
 */
export class Dashboard implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private readonly disposables: vscode.Disposable[] = [];
  /** For tests: the last snapshot sent, and a promise for the ready handshake. */
  lastSnapshot: DashboardSnapshot | undefined;
  private readyWaiters: (() => void)[] = [];
  /** For tests: what the webview last reported as rendered search results. */
  lastRendered: { id: number; query: string; keys: string[]; snippets?: string[] } | undefined;
  private pendingQuery: string | undefined;
  /** For tests: what the webview's live status line said, in order, and the ids of its aria-live regions. */
  readonly announcements: string[] = [];
  liveRegions: string[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly source: SnapshotSource,
    private readonly handlers: DashboardHandlers,
    private readonly log: Log,
    private readonly minIntervalMs = 250,
  ) {
    this.disposables.push(source.onDidChange(() => this.schedule()));
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => {
          this.attach(panel);
        },
      }),
    );
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  get isReady(): boolean {
    return this.ready;
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal(undefined, false);
      return;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, vscode.l10n.t('Scholar Dashboard'), vscode.ViewColumn.Active, this.options());
    this.attach(panel);
  }

  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'scholar.svg');
    panel.webview.html = this.html(panel.webview);
    panel.webview.onDidReceiveMessage((raw) => {
      const msg = parseWebviewMessage(raw);
      if (!msg) {
        this.log.warn('dashboard: dropped an invalid message from the webview');
        return;
      }
      this.receive(msg);
    }, undefined, this.disposables);
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.ready = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
    }, undefined, this.disposables);
  }

  /** Opens the dashboard with `query` in its library search box, and runs it. */
  showSearch(query: string): void {
    this.lastRendered = undefined;
    this.show();
    if (this.ready) this.post({ type: 'setQuery', query });
    else this.pendingQuery = query;
  }

  private receive(msg: WebviewToHost): void {
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        for (const w of this.readyWaiters.splice(0)) w();
        this.send();
        if (this.pendingQuery !== undefined) this.post({ type: 'setQuery', query: this.pendingQuery });
        this.pendingQuery = undefined;
        return;
      case 'command':
        this.handlers.command(msg);
        return;
      case 'search': {
        const t0 = performance.now();
        this.handlers.search(msg.query).then(
          (r) => this.post({ type: 'searchResults', id: msg.id, query: msg.query, hits: r.hits, error: r.error, ms: Math.round((performance.now() - t0) * 10) / 10 }),
          (err: unknown) => {
            this.log.error('dashboard search', err instanceof Error ? err : new Error(String(err)));
            this.post({ type: 'searchResults', id: msg.id, query: msg.query, hits: [], ms: 0, error: vscode.l10n.t('The search failed; see the Scholar log.') });
          },
        );
        return;
      }
      case 'open':
        this.handlers.open(msg.key, msg.what);
        return;
      case 'searchRendered':
        this.lastRendered = { id: msg.id, query: msg.query, keys: msg.keys, snippets: msg.snippets };
        return;
      case 'announced':
        if (this.announcements.length < 1000) this.announcements.push(msg.text);
        this.liveRegions = msg.live;
        return;
    }
  }

  private post(msg: HostToWebview): void {
    if (this.panel) void this.panel.webview.postMessage(msg);
  }

  private schedule(): void {
    if (!this.panel || !this.ready || this.timer) return;
    const wait = Math.max(0, this.lastSent + this.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, wait);
  }

  private send(): void {
    if (!this.panel || !this.ready) return;
    const snapshot: DashboardSnapshot = { ...this.source.snapshot(), seq: ++this.seq };
    this.lastSnapshot = snapshot;
    this.lastSent = Date.now();
    this.post({ type: 'snapshot', snapshot });
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'dashboard.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'dashboard.css'));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `img-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Scholar Dashboard</title>
</head>
<body>
<main id="root"><p>Loading…</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
