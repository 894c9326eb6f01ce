/** One entry on its way through a job's stages; each stage fills in what it found. */
import type { BibEntry, BibFile } from '../bib/parse';
import type { WorkRecord } from '../sources/types';
import type { ResolveResult } from '../resolve/resolver';
import type { PdfVerdict } from '../pdf/inspect';
import type { PdfText } from '../pdf/text';

export type PdfSourceName = 'entry' | 'unpaywall' | 'openalex' | 'arxiv' | 'semanticScholar' | 'landingPage';
export const ALL_PDF_SOURCES: readonly PdfSourceName[] = ['entry', 'unpaywall', 'openalex', 'arxiv', 'semanticScholar', 'landingPage'];

export interface PdfCandidate {
  url: string;
  /** One of the built-in sources, or `resolver:<name>` for a custom (Zotero-format) resolver. */
  source: PdfSourceName | `resolver:${string}`;
  license?: string;
  version?: string;
}

export interface FetchItem {
  key: string;
  bibPath: string;
  file: BibFile;
  entry: BibEntry;
  doi?: string;
  arxivId?: string;
  work?: WorkRecord;
  resolve?: ResolveResult;
  candidates?: PdfCandidate[];
  /** `text`: what pdf.js read when the file was checked, for the full-text index (not read twice). */
  download?: { tempPath: string; sha256: string; size: number; pages?: number; candidate: PdfCandidate; verified: PdfVerdict; text?: PdfText };
  /** Outcomes of candidates tried, for the error message when none worked. */
  tried?: string[];
  /** Unpaywall was asked (it is the fallback when OpenAlex has no PDF URL). */
  unpaywallAsked?: boolean;
  /** OpenAlex knows the work and lists no open-access location: Unpaywall, which answers from OpenAlex's data, is not asked. */
  openalexClosed?: boolean;
  /** Semantic Scholar and the landing page were asked. */
  secondTierTried?: boolean;
  /** A source could not be asked in this job (unreachable, or out of budget): the code it failed with. */
  downCode?: string;
}
