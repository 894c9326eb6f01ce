/**
 * "Attach from Downloads": after the user saved a PDF through their library's site, find it among
 * the recent PDFs of their Downloads folder by what its text names, not by its file name
 * (publishers name files `1-s2.0-S0010…-main.pdf`).
 */
import { readdir, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkPdfFile } from './attach';
import type { PdfVerdict } from '../pdf/inspect';

export interface DownloadCandidate {
  file: string;
  mtimeMs: number;
  size: number;
  verdict: PdfVerdict;
}

export function defaultDownloadsFolder(env: NodeJS.ProcessEnv = process.env): string {
  // XDG's user-dirs (Linux desktops) may move it; the common case is ~/Downloads everywhere.
  return env.XDG_DOWNLOAD_DIR?.trim() || path.join(os.homedir(), 'Downloads');
}

export interface RecentOptions {
  /** Only files changed within this many ms (default 7 days). */
  maxAgeMs?: number;
  /** Look at this many newest PDFs at most (default 50). */
  limit?: number;
  now?: number;
}

/**
 * The recent PDFs in `folder` (not recursive), newest first, that name the entry's DOI or title.
 * Unreadable or broken files are skipped: a half-finished download is not an error here.
 */
export async function recentPdfsNaming(folder: string, expect: { doi?: string; title?: string }, opts: RecentOptions = {}): Promise<DownloadCandidate[]> {
  const now = opts.now ?? Date.now();
  const maxAge = opts.maxAgeMs ?? 7 * 24 * 3600_000;
  const names = await readdir(folder).catch(() => [] as string[]);
  const files: { file: string; mtimeMs: number; size: number }[] = [];
  for (const n of names) {
    if (!/\.pdf$/i.test(n)) continue;
    const file = path.join(folder, n);
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile() || now - st.mtimeMs > maxAge) continue;
    files.push({ file, mtimeMs: st.mtimeMs, size: st.size });
  }
  files.sort((a, b) => b.mtimeMs - a.mtimeMs);
  const out: DownloadCandidate[] = [];
  for (const f of files.slice(0, opts.limit ?? 50)) {
    try {
      const { verdict } = await checkPdfFile(f.file, expect);
      if (verdict === 'doi' || verdict === 'title') out.push({ ...f, verdict });
    } catch {
      // not a PDF, or still being written
    }
  }
  return out;
}
