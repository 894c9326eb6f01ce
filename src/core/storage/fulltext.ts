/**
 * by_key/<folder>/fulltext.txt: one header line, then the text of paper.pdf as pdf.js reads it
 * (lines end with \n, pages are separated by \f\n). The header names the sha256 of the PDF the
 * text came from, so a text is used only beside that PDF: a replaced PDF makes its old text
 * stale without any other bookkeeping, and a rebuild from the folders can tell.
 *
 *   scholar-fulltext 1 sha256=<64 hex> pages=<n> truncated=<0|1>
 */
export const FULLTEXT_MAGIC = 'scholar-fulltext 1';

export interface FulltextRecord {
  sha256: string;
  pages: number;
  truncated: boolean;
  text: string;
}

export function formatFulltext(r: FulltextRecord): string {
  return `${FULLTEXT_MAGIC} sha256=${r.sha256} pages=${r.pages} truncated=${r.truncated ? 1 : 0}\n${r.text}`;
}

const HEADER_RE = /^scholar-fulltext 1 sha256=([0-9a-f]{64}) pages=(\d+) truncated=([01])$/;

/** The record in a file's content, or undefined when it is not one (hand-made, torn, another version). */
export function parseFulltext(content: string): FulltextRecord | undefined {
  const nl = content.indexOf('\n');
  const m = HEADER_RE.exec(nl < 0 ? content : content.slice(0, nl));
  if (!m) return undefined;
  return { sha256: m[1]!, pages: Number(m[2]), truncated: m[3] === '1', text: nl < 0 ? '' : content.slice(nl + 1) };
}

/** Only the header's sha256 (reads no further than the first line). */
export function fulltextSha(firstBytes: string): string | undefined {
  return /^scholar-fulltext 1 sha256=([0-9a-f]{64}) /.exec(firstBytes)?.[1];
}
