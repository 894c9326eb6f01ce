/**
 * The pdf.js text extractor, run in a worker thread (bundled as dist/pdfTextWorker.js) so that
 * parsing a PDF never runs on the extension host's event loop. It reads the file itself: only a
 * path goes in and only text comes out.
 *
 * pdf.js is told not to start a worker of its own: the worker module is imported here and handed
 * to it through `globalThis.pdfjsWorker`, so its parser runs in this thread.
 */
import { parentPort } from 'node:worker_threads';
import { setPriority } from 'node:os';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as pdfjsWorker from 'pdfjs-dist/legacy/build/pdf.worker.mjs';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { joinTextItems, type TextRequest, type TextResponse } from './textItems';

(globalThis as { pdfjsWorker?: unknown }).pdfjsWorker = pdfjsWorker;

// On Linux the nice value belongs to a thread, and pid 0 means this thread: extraction then gives
// way to the extension host's own thread when the cores are busy. Elsewhere the call would lower
// the whole process, so it is not made.
if (process.platform === 'linux') {
  try {
    setPriority(0, 10);
  } catch {
    // not permitted (some containers): run at the normal priority
  }
}

async function extract(req: TextRequest): Promise<TextResponse> {
  const bytes = await readFile(req.path);
  // The text is tied to these bytes: the writer stores it only beside a PDF with this hash.
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const task = getDocument({ data, isEvalSupported: false, disableFontFace: true, useSystemFonts: false, verbosity: 0, stopAtErrors: false });
  const doc = await task.promise;
  try {
    const pages: string[] = [];
    let chars = 0;
    const last = Math.min(doc.numPages, req.maxPages ?? Infinity);
    for (let p = 1; p <= last && chars < req.maxChars; p++) {
      const page = await doc.getPage(p);
      const content = await page.getTextContent();
      const text = joinTextItems(content.items as { str?: string; hasEOL?: boolean }[]);
      pages.push(text);
      chars += text.length;
      page.cleanup();
    }
    let text = pages.join('\f\n');
    const truncated = text.length > req.maxChars || last < doc.numPages;
    if (text.length > req.maxChars) text = text.slice(0, req.maxChars);
    return { id: req.id, ok: true, pages: doc.numPages, text, truncated, sha256 };
  } finally {
    await doc.destroy();
  }
}

parentPort!.on('message', (req: TextRequest) => {
  extract(req).then(
    (r) => parentPort!.postMessage(r),
    (err: unknown) => parentPort!.postMessage({ id: req.id, ok: false, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) } satisfies TextResponse),
  );
});
