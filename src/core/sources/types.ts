import type { ServiceName } from '../net/policy';
import type { WorkVersion } from '../match/version';

export type { ServiceName } from '../net/policy';

export interface Author {
  family: string;
  given?: string;
}

export interface OaLocation {
  pdfUrl?: string;
  landingUrl?: string;
  license?: string;
  version?: 'publishedVersion' | 'acceptedVersion' | 'submittedVersion';
  hostType?: string;
  /** Which service reported this location (e.g. `unpaywall`, `openalex`, `arxiv`). */
  source: string;
}

export interface WorkUpdate {
  /** Crossref update type: retraction, correction, erratum, new_version, expression_of_concern… */
  type: string;
  doi?: string;
  label?: string;
  date?: string;
}

export interface WorkRecord {
  source: ServiceName;
  doi?: string;
  title: string;
  subtitle?: string;
  authors: Author[];
  year?: number;
  venue?: string;
  /** Crossref-style type (journal-article, posted-content, proceedings-article…). */
  type?: string;
  /** The version the record states it is, where the source says so (else derived: match/version.ts). */
  version?: WorkVersion;
  volume?: string;
  /** Issue number (BibTeX `number`). */
  issue?: string;
  pages?: string;
  arxivId?: string;
  pmid?: string;
  isRetracted?: boolean;
  /** Notices that update this work (updated-by): retraction, correction… */
  updates?: WorkUpdate[];
  /** Other relations, e.g. `is-preprint-of`, `has-preprint`, `update-to:correction`. */
  relations?: { type: string; id: string }[];
  abstract?: string;
  publisher?: string;
  license?: string;
  oaLocations?: OaLocation[];
  /** The source's own relevance score. */
  score?: number;
}
