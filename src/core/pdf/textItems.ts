/** What goes between the pdf.js text worker and its pool, and how pdf.js's text items become text. */

export interface TextRequest {
  id: number;
  path: string;
  /** Pages to read from the first (all when absent). */
  maxPages?: number;
  /** Characters to keep; reading stops at the page that passes it. */
  maxChars: number;
}

export type TextResponse =
  | { id: number; ok: true; pages: number; text: string; truncated: boolean; sha256: string }
  | { id: number; ok: false; message: string };

/** Ligature code points pdf.js gives when a font's ToUnicode maps a glyph to them. */
const LIGATURES: Record<string, string> = { '\ufb00': 'ff', '\ufb01': 'fi', '\ufb02': 'fl', '\ufb03': 'ffi', '\ufb04': 'ffl', '\ufb05': 'st', '\ufb06': 'st' };

/**
 * One page's text. pdf.js already joins the kerned pieces of a TJ array into words and marks the
 * ends of lines; what is left is to undo the hyphenation TeX adds at a line's end ("in-\nverted"),
 * so that a word broken across lines is found as one word.
 */
export function joinTextItems(items: readonly { str?: string; hasEOL?: boolean }[]): string {
  let out = '';
  for (const it of items) {
    if (typeof it.str !== 'string') continue;
    out += it.str;
    if (it.hasEOL) out += '\n';
  }
  return out
    .replace(/[\ufb00-\ufb06]/g, (c) => LIGATURES[c] ?? c)
    .replace(/\u00ad/g, '')
    .replace(/(\p{Ll})-\n(\p{Ll})/gu, '$1$2')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
