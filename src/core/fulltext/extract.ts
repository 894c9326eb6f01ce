/**
 * Full text of stored PDFs: extracted with pdf.js in the worker pool (../pdf/text.ts), written by
 * the single writer beside the paper. Used after a verified download (the fetch job's commit) and
 * for PDFs stored before (`scholar index --fulltext`, Scholar: Extract Full Text of Stored PDFs).
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { errorMessage, isAbortError } from '../errors';
import { sharedPdfTextPool, type PdfText, type PdfTextPool } from '../pdf/text';
import { isKeyFolderName } from '../storage/keys';
import { FULLTEXT_FILE, METADATA_FILE, pdfPath, storagePaths } from '../storage/layout';
import { validateMetadata, type Metadata } from '../storage/metadata';
import type { StorageWriter } from '../storage/writer';
import { fulltextSha } from '../storage/fulltext';

export interface FulltextDeps {
  root: string;
  writer: Pick<StorageWriter, 'writeFulltext'>;
  /** Default: the process's shared pool. */
  pool?: PdfTextPool;
}

/** `empty`: pdf.js read the PDF and found no text (a scan); stored as such, so it is not asked again. */
export type FulltextOutcome = 'stored' | 'empty' | 'no_pdf' | 'stale';

async function readMeta(root: string, key: string): Promise<Metadata | undefined> {
  try {
    return validateMetadata(JSON.parse(await fsp.readFile(path.join(path.dirname(pdfPath(root, key)), METADATA_FILE), 'utf8')));
  } catch {
    return undefined;
  }
}

/** Extracts the text of `key`'s paper.pdf and stores it. pdf.js failures reject with E_PDF_TEXT. */
export async function extractFulltext(deps: FulltextDeps, key: string, signal?: AbortSignal, known?: PdfText): Promise<FulltextOutcome> {
  const meta = await readMeta(deps.root, key);
  if (!meta?.pdf) return 'no_pdf';
  // `known`: the text already read from these bytes (the fetch's identity check), when its hash says so.
  const t = known && known.sha256 === meta.pdf.sha256 ? known : await (deps.pool ?? sharedPdfTextPool()).extract(pdfPath(deps.root, key), { signal });
  // The file on disk is not the one metadata vouches for (being replaced right now): leave it.
  if (t.sha256 !== meta.pdf.sha256) return 'stale';
  try {
    await deps.writer.writeFulltext(key, { sha256: t.sha256, pages: t.pages, truncated: t.truncated, text: t.text });
  } catch (err) {
    if ((err as { code?: string }).code === 'E_FULLTEXT_STALE') return 'stale';
    throw err;
  }
  return t.text.trim() ? 'stored' : 'empty';
}

/** Keys whose stored PDF has no text beside it, or a text of another PDF, in folder order. */
export async function keysMissingFulltext(root: string, signal?: AbortSignal): Promise<string[]> {
  const byKey = storagePaths(root).byKey;
  const folders = (await fsp.readdir(byKey, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && isKeyFolderName(e.name)).map((e) => e.name);
  folders.sort();
  const out: string[] = [];
  for (const folder of folders) {
    signal?.throwIfAborted();
    let meta: Metadata;
    try {
      meta = validateMetadata(JSON.parse(await fsp.readFile(path.join(byKey, folder, METADATA_FILE), 'utf8')));
    } catch {
      continue;
    }
    if (!meta.pdf) continue;
    const head = await readHead(path.join(byKey, folder, FULLTEXT_FILE));
    if (head !== undefined && fulltextSha(head) === meta.pdf.sha256) continue;
    out.push(meta.key);
  }
  return out;
}

async function readHead(file: string): Promise<string | undefined> {
  const fh = await fsp.open(file, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const buf = Buffer.alloc(128);
    const { bytesRead } = await fh.read(buf, 0, 128, 0);
    return buf.toString('utf8', 0, bytesRead);
  } finally {
    await fh.close();
  }
}

export interface FulltextReport {
  total: number;
  stored: number;
  empty: number;
  skipped: number;
  failed: { key: string; message: string }[];
}

/**
 * Extracts the text of every stored PDF that has none (or a stale one). Keeps the pool's worker
 * busy with one request queued behind the running one; a PDF pdf.js cannot read is reported and
 * the others go on.
 */
export async function extractMissingFulltext(
  deps: FulltextDeps,
  opts: { signal?: AbortSignal; keys?: string[]; onProgress?: (done: number, total: number, key: string) => void } = {},
): Promise<FulltextReport> {
  const keys = opts.keys ?? (await keysMissingFulltext(deps.root, opts.signal));
  const report: FulltextReport = { total: keys.length, stored: 0, empty: 0, skipped: 0, failed: [] };
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < keys.length) {
      opts.signal?.throwIfAborted();
      const key = keys[next++]!;
      try {
        const r = await extractFulltext(deps, key, opts.signal);
        if (r === 'stored') report.stored++;
        else if (r === 'empty') report.empty++;
        else report.skipped++;
      } catch (err) {
        if (isAbortError(err) || opts.signal?.aborted) throw err;
        report.failed.push({ key, message: errorMessage(err) });
      }
      opts.onProgress?.(++done, keys.length, key);
    }
  };
  await Promise.all([lane(), lane()]);
  return report;
}
