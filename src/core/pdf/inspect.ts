/**
 * Checks that a downloaded file is a complete PDF and, where it has a text layer, that it is the
 * paper we asked for. The header and trailer are read here; the text of the first pages comes
 * from pdf.js in a worker thread (./text.ts), the same text the full-text index gets, so kerned
 * TJ arrays, ToUnicode maps, CID fonts and ligatures read as the page shows them.
 *
 * When pdf.js cannot read a file, the small content-stream reader below is the fallback. It can
 * confirm a PDF but never condemn one: it splits kerned words and ignores ToUnicode, so a
 * "mismatch" from its text is reported as "unverified" (a mismatch is permanent).
 */
import { open } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { ScholarError, isAbortError } from '../errors';
import { normalizeForMatch } from '../bib/latex';
import { sharedPdfTextPool, type PdfText, type PdfTextPool } from './text';

export interface PdfFacts {
  size: number;
  pages: number | null;
  /** Text of the first pages, normalised for matching ('' when there is no text layer). */
  text: string;
  /** Where `text` came from: pdf.js, or the fallback reader when pdf.js could not read the file. */
  textFrom: 'pdfjs' | 'raw';
  /** With `fullText`: the whole text pdf.js read, for the full-text index (one pass over the file for both). */
  fullText?: PdfText;
}

export interface InspectOptions {
  /** Default: the process's shared pool. */
  pool?: PdfTextPool;
  signal?: AbortSignal;
  /** Read every page (up to the full-text limits), not only the first ones, and return the text as `fullText`. */
  fullText?: boolean;
}

/** The title and the DOI are on the first page; the second covers a cover sheet some repositories add. */
const CHECK_PAGES = 2;

const HEAD = 1024;
const TAIL = 2048;
/** Enough of a file to see its first pages; larger files are read only at both ends plus this. */
const SCAN_LIMIT = 8 * 1024 * 1024;

export async function inspectPdf(path: string, opts: InspectOptions = {}): Promise<PdfFacts> {
  const size = await checkEnds(path);
  try {
    const t = await (opts.pool ?? sharedPdfTextPool()).extract(path, opts.fullText ? { signal: opts.signal } : { maxPages: CHECK_PAGES, maxChars: 200_000, signal: opts.signal });
    // Only the first pages identify the paper: a later page may cite another paper's DOI.
    const first = opts.fullText ? t.text.split('\f\n', CHECK_PAGES).join('\f\n').slice(0, 200_000) : t.text;
    if (t.pages) return { size, pages: t.pages, text: normalizeForMatch(first), textFrom: 'pdfjs', ...(opts.fullText ? { fullText: t } : {}) };
    const raw = await inspectRaw(path, size);
    return { ...raw, text: normalizeForMatch(first), textFrom: 'pdfjs', ...(opts.fullText ? { fullText: t } : {}) };
  } catch (err) {
    if (isAbortError(err) || opts.signal?.aborted) throw err;
    return inspectRaw(path, size);
  }
}

/** The header and the trailer: a file that is not a PDF, or was cut short, fails here without being parsed. */
async function checkEnds(path: string): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 64) throw new ScholarError('E_NOT_PDF', `not a PDF: only ${size} bytes`);
    const head = Buffer.alloc(Math.min(HEAD, size));
    await fh.read(head, 0, head.length, 0);
    if (head.indexOf('%PDF-') < 0) {
      const looksHtml = /<(!doctype|html|head|body)/i.test(head.toString('latin1'));
      throw new ScholarError('E_NOT_PDF', looksHtml ? 'an HTML page was served instead of a PDF' : 'not a PDF (no %PDF- header)');
    }
    const tail = Buffer.alloc(Math.min(TAIL, size));
    await fh.read(tail, 0, tail.length, size - tail.length);
    if (tail.lastIndexOf('%%EOF') < 0) throw new ScholarError('E_PDF_TRUNCATED', 'the PDF is incomplete (no %%EOF trailer)');
    return size;
  } finally {
    await fh.close();
  }
}

/** The fallback reader's page count and text (read only when pdf.js could not read the file: it costs a pass over the bytes). */
async function inspectRaw(path: string, size: number): Promise<PdfFacts> {
  const fh = await open(path, 'r');
  try {
    const body = Buffer.alloc(Math.min(size, SCAN_LIMIT));
    await fh.read(body, 0, body.length, 0);
    return { size, pages: countPages(body), text: extractText(body), textFrom: 'raw' };
  } finally {
    await fh.close();
  }
}

function countPages(buf: Buffer): number | null {
  const s = buf.toString('latin1');
  // The page tree root carries the total in /Count; take the largest (nested trees have smaller ones).
  let max = 0;
  for (const m of s.matchAll(/\/Type\s*\/Pages\b[^>]*?\/Count\s+(\d+)|\/Count\s+(\d+)[^>]*?\/Type\s*\/Pages\b/g)) {
    max = Math.max(max, Number(m[1] ?? m[2]));
  }
  if (max > 0) return max;
  const leaves = s.match(/\/Type\s*\/Page\b(?!s)/g)?.length ?? 0;
  return leaves > 0 ? leaves : null;
}

function decodePdfString(lit: string): string {
  return lit.replace(/\\([nrtbf()\\]|[0-7]{1,3})/g, (_, e: string) => {
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' } as Record<string, string>)[e] ?? e;
  });
}

/** TeX's OT1 (0x0B–0x0F) and T1 (0x1B–0x1F) fonts put the f-ligatures on these codes; nothing else shows them as text. */
const LIGATURES: Record<string, string> = { '\x0b': 'ff', '\x0c': 'fi', '\x0d': 'fl', '\x0e': 'ffi', '\x0f': 'ffl', '\x1b': 'ff', '\x1c': 'fi', '\x1d': 'fl', '\x1e': 'ffi', '\x1f': 'ffl' };

/**
 * The text a content stream shows, in order. Strings inside one TJ array are joined as they are
 * drawn: pdfTeX kerns inside words ("[(T)83(ransformer)]TJ"), so only a large negative adjustment
 * (a word space) separates words; each show or positioning operator ends a word.
 */
function textOfContent(content: string): string {
  let out = '';
  const n = content.length;
  let inArray = false;
  let i = 0;
  while (i < n) {
    const c = content[i]!;
    if (c === '(') {
      let depth = 1;
      let j = i + 1;
      let raw = '';
      while (j < n && depth > 0) {
        const d = content[j]!;
        if (d === '\\') {
          raw += d + (content[j + 1] ?? '');
          j += 2;
          continue;
        }
        if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
        raw += d;
        j++;
      }
      out += decodePdfString(raw);
      i = j + 1;
    } else if (c === '<' && content[i + 1] !== '<') {
      const j = content.indexOf('>', i);
      if (j < 0) break;
      const hex = content.slice(i + 1, j).replace(/\s/g, '');
      if (/^[0-9A-Fa-f]*$/.test(hex) && hex.length % 2 === 0) out += Buffer.from(hex, 'hex').toString('latin1').replace(/\0/g, '');
      i = j + 1;
    } else if (c === '[') {
      inArray = true;
      i++;
    } else if (c === ']') {
      inArray = false;
      i++;
    } else if (/[-+.\d]/.test(c)) {
      const m = /^[-+]?(?:\d+\.?\d*|\.\d+)/.exec(content.slice(i, i + 32));
      if (!m) {
        i++;
        continue;
      }
      if (inArray && Number(m[0]) < -180) out += ' ';
      i += m[0].length;
    } else if (/[A-Za-z'"*]/.test(c)) {
      const m = /^[A-Za-z'"*]+/.exec(content.slice(i, i + 16))!;
      const op = m[0];
      if (/^(T[jJdDm*]|'|"|ET|BT)$/.test(op)) out += ' ';
      i += op.length;
    } else if (c === '%') {
      const j = content.indexOf('\n', i);
      i = j < 0 ? n : j + 1;
    } else {
      i++;
    }
  }
  return out.replace(/[\x0b-\x0f\x1b-\x1f]/g, (ch) => LIGATURES[ch] ?? ' ');
}

function extractText(buf: Buffer): string {
  const parts: string[] = [];
  let pos = 0;
  let streams = 0;
  const limit = 40;
  while (streams < limit) {
    const start = buf.indexOf('stream', pos, 'latin1');
    if (start < 0) break;
    const dictStart = buf.lastIndexOf('<<', start, 'latin1');
    const dict = dictStart >= 0 ? buf.toString('latin1', dictStart, start) : '';
    let dataStart = start + 6;
    if (buf[dataStart] === 0x0d) dataStart++;
    if (buf[dataStart] === 0x0a) dataStart++;
    const end = buf.indexOf('endstream', dataStart, 'latin1');
    if (end < 0) break;
    pos = end + 9;
    streams++;
    if (/\/Subtype\s*\/Image|\/Type\s*\/XRef|\/Type\s*\/ObjStm|\/Length1|\/FontFile/.test(dict)) continue;
    let data = buf.subarray(dataStart, end);
    if (/\/FlateDecode/.test(dict)) {
      try {
        data = inflateSync(data, { maxOutputLength: 4 * 1024 * 1024 });
      } catch {
        continue;
      }
    } else if (/\/Filter/.test(dict)) continue;
    const content = data.toString('latin1');
    if (!/T[jJ]/.test(content)) continue;
    parts.push(textOfContent(content));
    if (parts.join(' ').length > 20_000) break;
  }
  return normalizeForMatch(parts.join(' '));
}

export type PdfVerdict = 'doi' | 'title' | 'unverified' | 'mismatch';

/**
 * Does the PDF's text name the entry? The DOI printed on the first page is the strongest sign;
 * otherwise most of the title's words. No text layer (a scan) gives "unverified", not "mismatch".
 */
export function verifyPdfText(facts: PdfFacts, expect: { doi?: string; title?: string }): PdfVerdict {
  const v = verdictOfText(facts.text, expect);
  return v === 'mismatch' && facts.textFrom === 'raw' ? 'unverified' : v;
}

function verdictOfText(text: string, expect: { doi?: string; title?: string }): PdfVerdict {
  if (!text || text.length < 40) return 'unverified';
  if (expect.doi) {
    const doi = normalizeForMatch(expect.doi);
    // As whole tokens: the DOI 10.1000/abc is not named by a page that prints 10.1000/abcd.
    if (doi && ` ${text} `.includes(` ${doi} `)) return 'doi';
  }
  if (expect.title) {
    const words = normalizeForMatch(expect.title)
      .split(' ')
      .filter((w) => w.length >= 4);
    if (words.length === 0) return 'unverified';
    const hay = new Set(text.split(' '));
    // A word the page splits ("Th eory" from a reader that misses a kern) is still found in the
    // text with its spaces removed; only longer words, where such a hit is no accident.
    let squashed: string | undefined;
    const found = words.filter((w) => hay.has(w) || (w.length >= 6 && (squashed ??= text.replace(/ /g, '')).includes(w))).length;
    if (found / words.length >= 0.7) return 'title';
  }
  return 'mismatch';
}
