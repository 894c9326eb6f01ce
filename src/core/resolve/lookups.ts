/**
 * The identifier lookups a resolve makes: an arXiv id at arXiv, a DOI at Crossref. A job answers
 * them in batches (`src/core/jobs/idLookups.ts`); a lone resolve asks one at a time.
 */
import type { ScholarHttp } from '../net/http';
import type { WorkRecord } from '../sources/types';
import * as arxiv from '../sources/arxiv';
import * as crossref from '../sources/crossref';

export interface IdLookups {
  /** arXiv's records for one id (its own first, as `arxiv.byIds` returns them); [] when arXiv has none. */
  arxivById(id: string, signal?: AbortSignal): Promise<WorkRecord[]>;
  /** Crossref's record of one DOI; null when Crossref does not know it. */
  crossrefByDoi(doi: string, signal?: AbortSignal): Promise<WorkRecord | null>;
}

export function singleLookups(http: ScholarHttp): IdLookups {
  return {
    arxivById: (id, signal) => arxiv.byIds(http, [id], signal),
    crossrefByDoi: (doi, signal) => crossref.workByDoi(http, doi, signal),
  };
}
