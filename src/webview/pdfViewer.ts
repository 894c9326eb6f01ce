// The PDF viewer webview: pdf.js renders each page to a canvas. The document and pdf.js's worker
// come from the extension's own resources (no remote content); the worker runs from a blob URL
// because a webview may not start a worker from another origin.
import * as pdfjsLib from 'pdfjs-dist';

interface VsCodeApi {
  postMessage(msg: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('root')!;
const status = document.getElementById('status')!;

function say(text: string): void {
  status.textContent = text;
}

async function main(): Promise<void> {
  const pdfUrl = root.dataset.pdf!;
  const workerUrl = root.dataset.worker!;
  const workerSource = await (await fetch(workerUrl)).text();
  const blobUrl = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
  pdfjsLib.GlobalWorkerOptions.workerPort = new Worker(blobUrl, { type: 'module' });
  const data = new Uint8Array(await (await fetch(pdfUrl)).arrayBuffer());
  // No scripting, no external links resolution: a PDF is shown, nothing in it runs.
  const doc = await pdfjsLib.getDocument({ data, isEvalSupported: false, enableXfa: false }).promise;
  say(`${doc.numPages} page${doc.numPages === 1 ? '' : 's'}`);
  const scale = Math.min(2, Math.max(1, window.devicePixelRatio || 1)) * 1.3;
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    const viewport = page.getViewport({ scale });
    const canvas = document.createElement('canvas');
    canvas.width = viewport.width;
    canvas.height = viewport.height;
    canvas.style.width = `${viewport.width / (scale / 1.3)}px`;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `Page ${n}`);
    root.append(canvas);
    await page.render({ canvasContext: canvas.getContext('2d')!, viewport }).promise;
  }
  vscode.postMessage({ type: 'rendered', pages: doc.numPages });
}

main().catch((err: unknown) => {
  say(`Could not show this PDF: ${err instanceof Error ? err.message : String(err)}`);
  vscode.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
});
