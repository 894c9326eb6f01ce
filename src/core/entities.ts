/**
 * The one decoder of character references for the text Scholar reads out of markup: the arXiv Atom
 * feed, landing pages and resolver pages. One pass, so `&amp;lt;` stays `&lt;` and `&#38;lt;`
 * stays `&lt;` (chained replaces decode those twice). Numeric references outside Unicode decode to
 * nothing instead of throwing; HTML's habit of dropping the `;` of numeric references is accepted.
 */
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#[xX]([0-9a-fA-F]+);?|#(\d+);?|(amp|lt|gt|quot|apos|nbsp);)/g, (_all: string, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name) return NAMED[name]!;
    const n = hex !== undefined ? parseInt(hex, 16) : Number(dec);
    return Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '';
  });
}
