import * as vscode from 'vscode';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * `openExternal(Uri.file(…))` hands the path to the machine the window runs on; in a remote window
 * (SSH, WSL, a container, Codespaces) the PDF is on the other machine, so only Scholar's own viewer,
 * which reads the file through the extension host, can show it.
 */
export function systemViewerWorks(): boolean {
  return !vscode.env.remoteName;
}

/**
 * Shows a stored PDF inside VS Code with pdf.js, under the same CSP discipline as the dashboard:
 * no inline script, no remote content, resources only from dist/webview, media and the PDF's folder.
 */
export class PdfViewer implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  /** For tests: pages rendered per file. */
  readonly rendered = new Map<string, number>();
  private readonly waiters = new Map<string, ((pages: number) => void)[]>();

  constructor(private readonly extensionUri: vscode.Uri) {}

  whenRendered(file: string): Promise<number> {
    const n = this.rendered.get(file);
    if (n !== undefined) return Promise.resolve(n);
    return new Promise((r) => this.waiters.set(file, [...(this.waiters.get(file) ?? []), r]));
  }

  open(file: string, title: string): void {
    const existing = this.panels.get(file);
    if (existing) {
      existing.reveal();
      return;
    }
    const dir = vscode.Uri.file(path.dirname(file));
    const webviewDir = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel('scholar.pdf', title, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [webviewDir, vscode.Uri.joinPath(this.extensionUri, 'media'), dir],
    });
    const w = panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const csp = [
      "default-src 'none'",
      `style-src ${w.cspSource}`,
      `img-src ${w.cspSource} blob: data:`,
      `font-src ${w.cspSource}`,
      `connect-src ${w.cspSource}`,
      `script-src 'nonce-${nonce}'`,
      'worker-src blob:',
    ].join('; ');
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    w.html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<link rel="stylesheet" href="${w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'pdfViewer.css'))}">
<title>${esc(title)}</title></head>
<body><p id="status" role="status">Loading…</p>
<main id="root" data-pdf="${esc(w.asWebviewUri(vscode.Uri.file(file)).toString())}" data-worker="${esc(w.asWebviewUri(vscode.Uri.joinPath(webviewDir, 'pdf.worker.min.mjs')).toString())}"></main>
<script nonce="${nonce}" src="${w.asWebviewUri(vscode.Uri.joinPath(webviewDir, 'pdfViewer.js'))}"></script>
</body></html>`;
    w.onDidReceiveMessage((m: { type?: string; pages?: number }) => {
      if (m?.type === 'rendered' && typeof m.pages === 'number') {
        this.rendered.set(file, m.pages);
        for (const r of this.waiters.get(file) ?? []) r(m.pages);
        this.waiters.delete(file);
      }
    });
    panel.onDidDispose(() => {
      this.panels.delete(file);
      this.rendered.delete(file);
    });
    this.panels.set(file, panel);
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
  }
}
