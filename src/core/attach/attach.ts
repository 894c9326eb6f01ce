/**
 * Attach a PDF the user has (a file they downloaded through their library, one from Zotero or a
 * folder) to an entry. The file is copied, never moved, into a worker temp inside the entry's
 * folder, checked like a download, and handed to the single writer, which renames it to paper.pdf.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { errorMessage, isAbortError, ScholarError } from '../errors';
import { inspectPdf, verifyPdfText, type PdfFacts, type PdfVerdict } from '../pdf/inspect';
import { downloadTempPath } from '../storage/layout';
import type { Metadata, MetadataPatch, PdfVerification } from '../storage/metadata';
import type { Library } from '../jobs/library';
import { extractFulltext, type FulltextOutcome } from '../fulltext/extract';

export interface AttachTarget {
  key: string;
  doi?: string;
  title?: string;
  /** Written with the PDF when the library does not know the entry yet (title, year, DOI from the .bib). */
  patch?: MetadataPatch;
}

export interface AttachOptions {
  /** Where the file came from: `user` (picked or dropped), `downloads`, `zotero`, `folder`. */
  source: string;
  /** Recorded as the PDF's origin; a file path is shown as `file:<name>`, never the full path. */
  origin?: string;
  /** Keep a PDF that names neither the DOI nor the title (recorded as verified `manual`). */
  acceptMismatch?: boolean;
  /** Replace a PDF the entry already has. */
  replace?: boolean;
  /**
   * Extract the stored PDF's text for full-text search (pdf.js in the worker pool, written by the
   * same writer) before returning (default true). An import passes false and extracts its PDFs
   * together at the end.
   */
  fulltext?: boolean;
  signal?: AbortSignal;
}

export type AttachResult =
  | {
      status: 'stored';
      verified: PdfVerification;
      meta: Metadata;
      sha256: string;
      size: number;
      /** What became of its text (absent when not asked); a failure leaves the PDF stored. */
      fulltext?: FulltextOutcome | { failed: string };
    }
  /** The file is a PDF but names neither the DOI nor the title; nothing was changed. */
  | { status: 'mismatch'; verdict: PdfVerdict }
  /** The entry has a PDF already; nothing was changed. */
  | { status: 'exists'; verified: PdfVerification };

async function sha256Of(file: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h, { signal });
  return h.digest('hex');
}

/**
 * Checks a file without copying it: a PDF (header, trailer) and what its text names. `fullText`:
 * read every page, not only the first ones, and keep the text for the full-text index.
 */
export async function checkPdfFile(file: string, expect: { doi?: string; title?: string }, opts: { fullText?: boolean } = {}): Promise<{ facts: PdfFacts; verdict: PdfVerdict }> {
  let st;
  try {
    st = await stat(file);
  } catch {
    throw new ScholarError('E_NOT_FOUND', `no such file: ${file}`, { file });
  }
  if (!st.isFile()) throw new ScholarError('E_NOT_PDF', `not a file: ${file}`, { file });
  const facts = await inspectPdf(file, { fullText: opts.fullText });
  return { facts, verdict: verifyPdfText(facts, expect) };
}

export async function attachPdf(lib: Library, target: AttachTarget, file: string, opts: AttachOptions): Promise<AttachResult> {
  const known = lib.index.get(target.key);
  const existing = known?.pdf;
  if (existing && !opts.replace) return { status: 'exists', verified: existing.verified };
  // Check the user's file where it is first: a bad file never enters storage.
  // One pdf.js pass: the identity check and, when asked for, the full-text index.
  const { facts, verdict } = await checkPdfFile(file, target, { fullText: opts.fulltext !== false });
  if ((verdict === 'mismatch' || verdict === 'unverified') && !opts.acceptMismatch) return { status: 'mismatch', verdict };
  // A download of the same key by a fetch job (this process or another) must not race the attach.
  const lock = await lib.locks.tryLock(target.key);
  if (!lock) throw new ScholarError('E_LOCKED', `another Scholar process is working on ${target.key}; try again in a moment`, { key: target.key });
  const temp = await downloadTempPath(lib.root, target.key, 'pdf');
  let released = false;
  try {
    await copyFile(file, temp);
    const size = (await stat(temp)).size;
    if (size !== facts.size) throw new ScholarError('E_PDF_CHANGED', `${path.basename(file)} changed while it was being copied`, { file });
    const sha256 = await sha256Of(temp, opts.signal);
    const verified: PdfVerification = verdict === 'doi' || verdict === 'title' ? verdict : 'manual';
    // One metadata write: the PDF, what the .bib says about the entry, and who put the file there
    // (beside where each metadata field came from).
    const meta = await lib.writer.commitPdf(
      target.key,
      temp,
      {
        sourceUrl: opts.origin ?? `file:${path.basename(file)}`,
        source: opts.source,
        sha256,
        size,
        pages: facts.pages ?? undefined,
        retrievedAt: new Date().toISOString(),
        verified,
      },
      // The .bib's fields only for an entry the library does not know: never over what a service supplied.
      [...(target.patch && !known ? [target.patch] : []), { provenance: { pdf: opts.source } }],
    );
    await lock.release();
    released = true;
    // After the lock: extraction reads the stored file only, and a slow PDF must not hold the key.
    if (opts.fulltext === false) return { status: 'stored', verified, meta, sha256, size };
    const fulltext = await extractFulltext(lib, target.key, opts.signal, facts.fullText).catch((err: unknown): { failed: string } => {
      if (isAbortError(err)) throw err;
      return { failed: errorMessage(err) };
    });
    return { status: 'stored', verified, meta, sha256, size, fulltext };
  } catch (err) {
    // commitPdf renamed the temp away on success; anything left is ours to remove.
    await rm(temp, { force: true });
    throw err;
  } finally {
    if (!released) await lock.release();
  }
}
