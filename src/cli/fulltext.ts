/** `scholar index fulltext`: the text of stored PDFs that have none yet; and how `search` prints a snippet. */
import * as path from 'node:path';
import type { CliOptions } from './args';
import type { CliIO } from './io';
import { LibraryIndex } from '../core/index/library';
import type { Snippet } from '../core/index/fullText';
import { StorageWriter } from '../core/storage/writer';
import { startupCleanup } from '../core/storage/locks';
import { extractMissingFulltext } from '../core/fulltext/extract';
import { sharedPdfTextPool } from '../core/pdf/text';

export async function runIndexFulltext(opts: CliOptions, io: CliIO): Promise<number> {
  const storage = path.resolve(io.cwd, opts.storage);
  await startupCleanup(storage);
  const index = await LibraryIndex.open(storage);
  const writer = await StorageWriter.open(storage, { index });
  const pool = sharedPdfTextPool();
  try {
    let lastShown = 0;
    const report = await extractMissingFulltext(
      { root: storage, writer, pool },
      {
        signal: io.signal,
        onProgress: (done, total, key) => {
          if (opts.quiet || opts.json) return;
          const now = Date.now();
          if (done === total || now - lastShown > 1000) {
            lastShown = now;
            io.stderr.write(`fulltext: ${done}/${total} (${key})\n`);
          }
        },
      },
    );
    const saved = writer.saveIndex();
    await writer.close();
    await saved;
    if (opts.json) io.stdout.write(JSON.stringify({ command: 'index fulltext', ...report }, null, 2) + '\n');
    else {
      io.stderr.write(`fulltext: ${report.stored} extracted, ${report.empty} without text, ${report.failed.length} unreadable, of ${report.total} PDFs without text\n`);
      for (const f of report.failed) io.stderr.write(`  ${f.key}: ${f.message}\n`);
    }
    return report.failed.length ? 1 : 0;
  } finally {
    await pool.close();
    index.close();
  }
}

/** `…before [hit] after…` on one line. */
export function snippetLine(s: Snippet): string {
  return `${s.before}[${s.hit}]${s.after}`;
}
