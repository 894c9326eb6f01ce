/**
 * A job's arXiv and Crossref identifier lookups in batches (issue 17): arXiv's `id_list` takes many
 * ids in one query (1 request per 3 s), Crossref's `filter=doi:A,doi:B` many DOIs in one list
 * request. The ids a job will ask about are known when it starts, so they leave at once; the gates
 * pace the batches, and a failed batch is halved down to single ids (src/core/pipeline/batcher.ts).
 */
import type { ScholarHttp } from '../net/http';
import type { WorkRecord } from '../sources/types';
import * as arxiv from '../sources/arxiv';
import * as crossref from '../sources/crossref';
import type { IdLookups } from '../resolve/lookups';
import { BatchLookup } from './batchLookup';

/** arXiv ids per `id_list` query: about 1.5 KB of URL, and one Atom feed of 100 entries. */
export const ARXIV_BATCH_MAX = 100;

/** Ids are matched back by arXiv's own form: lower case, no version. */
const arxivKey = (id: string) => id.trim().toLowerCase().replace(/v\d+$/, '');

export class JobIdLookups implements IdLookups {
  private readonly arxiv: BatchLookup;
  private readonly crossref: BatchLookup;

  constructor(private readonly http: ScholarHttp) {
    this.arxiv = new BatchLookup(
      {
        size: ARXIV_BATCH_MAX,
        maxWaitMs: 50,
        run: async (ids, signal) => new Map((await arxiv.byIds(http, ids, signal)).flatMap((r) => (r.arxivId ? [[arxivKey(r.arxivId), r] as const] : []))),
      },
      (id) => !id.includes(','),
    );
    this.crossref = new BatchLookup(
      {
        size: crossref.CROSSREF_BATCH_MAX,
        maxWaitMs: 50,
        run: (dois, signal) => crossref.worksByDois(http, dois, signal),
      },
      crossref.crossrefBatchable,
    );
  }

  /** Sends the ids the job will ask about, in batches, now. */
  prime(ids: { arxiv: Iterable<string>; dois: Iterable<string> }, signal: AbortSignal): void {
    this.arxiv.prime([...new Set([...ids.arxiv].map(arxivKey))], signal);
    this.crossref.prime([...new Set([...ids.dois].map((d) => d.toLowerCase()))], signal);
  }

  async arxivById(id: string, signal?: AbortSignal): Promise<WorkRecord[]> {
    const r = await this.arxiv.get(arxivKey(id), signal ?? new AbortController().signal, async () => null);
    if (r) return [r];
    // Not in the batch's answer: arXiv may know the id written another way (an old-style id, a
    // version it renamed). "arXiv has no such paper" is a verdict, so it is only taken from arXiv
    // asked about this id alone.
    return arxiv.byIds(this.http, [id], signal);
  }

  async crossrefByDoi(doi: string, signal?: AbortSignal): Promise<WorkRecord | null> {
    return (await this.crossref.get(doi.toLowerCase(), signal ?? new AbortController().signal, () => crossref.workByDoi(this.http, doi, signal))) ?? null;
  }
}
