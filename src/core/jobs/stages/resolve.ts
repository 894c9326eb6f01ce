/**
 * The resolve stage shared by every job kind (Resolve, Fetch PDFs; Add and Upgrade can use it), and
 * the one place that reads what the user decided about an entry: its skip flag, "this entry has no
 * DOI", a DOI chosen or kept by hand, candidates rejected in review. Two copies of this stage once
 * drifted and a Fetch overwrote a "no DOI" decision; one stage cannot.
 */
import { existsSync } from 'node:fs';
import type { BibEntry } from '../../bib/parse';
import { entryArxivId, isValidDoi, normalizeDoi } from '../../doi';
import { hasOptOut } from '../../bib/edit';
import { resolveEntry, type ResolveResult } from '../../resolve/resolver';
import type { FallbackRule } from '../../resolve/plausible';
import { pdfPath } from '../../storage/layout';
import type { Metadata, MetadataPatch } from '../../storage/metadata';
import type { StageDef, StageResult } from '../../pipeline/pipeline';
import { SERVICE_DOWN_CODES } from '../../errors';
import type { Library } from '../library';
import type { FetchItem } from '../item';
import { JobIdLookups } from '../idLookups';

/**
 * What the user decided, strongest first. `rejected`: they turned down every candidate in review
 * (outcome not_found, source user), so a new search would only offer them again.
 */
export type UserDecision = 'opt_out' | 'no_doi' | 'manual' | 'rejected';

export function userDecision(entry: BibEntry, meta: Metadata | undefined): UserDecision | undefined {
  if (hasOptOut(entry)) return 'opt_out';
  const m = meta?.match;
  if (m?.outcome === 'no_doi') return 'no_doi';
  if (m?.outcome === 'manual') return 'manual';
  if (m?.outcome === 'not_found' && m.source === 'user') return 'rejected';
  return undefined;
}

/** How long a DOI found right stays checked: DOIs do not move, and a recheck costs a request per entry. */
export const DOI_CHECK_TTL_MS = 30 * 24 * 3600 * 1000;

const round3 = (x: number | undefined) => Math.round((x ?? 0) * 1000) / 1000;

/**
 * The `match` a resolver result leaves in metadata.json (accept, review, not found). Never called
 * for an entry with a user decision: the stage below does not resolve those.
 */
export function matchOf(r: ResolveResult): NonNullable<MetadataPatch['match']> {
  return {
    score: round3(r.score),
    outcome: r.outcome === 'accept' ? 'accepted' : r.outcome === 'review' ? 'review' : 'not_found',
    source: r.source,
    candidates: r.candidates.map((c) => ({ doi: c.doi, title: c.title, year: c.year, score: c.score, source: c.source })),
  };
}

export interface ResolveStageOptions {
  /** resolve: find or check DOIs and report them. fetch: find a DOI only when the entry needs one for its PDF. */
  kind: 'resolve' | 'fetch';
  concurrency: number;
  /** Resolve: also check entries that already have a DOI. */
  checkExisting?: boolean;
  /** Fetch: the entry has a way to its PDF without a DOI (its own url or file field). */
  hasOwnPdf?: (item: FetchItem) => boolean;
  /** Which entries the slow fallbacks are asked for (resolve/plausible.ts). */
  fallbackRule?: FallbackRule;
  /** The job's entries: the arXiv ids and DOIs they will be looked up by leave in batches when the stage starts. */
  items?: readonly FetchItem[];
}

const ARXIV_DOI = /^10\.48550\/arxiv\.(.+)$/i;

/** What the resolver will look up for each entry, as far as the entry and its metadata tell. */
function idsToLookUp(lib: Library, opts: ResolveStageOptions): { arxiv: string[]; dois: string[] } {
  const arxiv: string[] = [];
  const dois: string[] = [];
  for (const item of opts.items ?? []) {
    const meta = lib.index.get(item.key);
    if (userDecision(item.entry, meta)) continue;
    const raw = item.entry.fields.get('doi')?.value.trim();
    const doi = raw ? normalizeDoi(raw) : undefined;
    if (doi && isValidDoi(doi)) {
      if (opts.kind !== 'resolve' || !opts.checkExisting || freshCheck(meta, raw)) continue;
      const ax = ARXIV_DOI.exec(doi)?.[1];
      if (ax) arxiv.push(ax);
      else dois.push(doi);
      continue;
    }
    if (opts.kind === 'fetch' && meta?.doi) continue;
    const ax = entryArxivId(item.entry);
    if (ax) arxiv.push(ax);
  }
  return { arxiv, dois };
}

/** A DOI checked recently and unchanged since is not asked about again: re-runs stay cheap. */
function freshCheck(meta: Metadata | undefined, doiNow: string | undefined): boolean {
  return !!doiNow && !!meta?.doiCheck && meta.doiCheck.doi === normalizeDoi(doiNow) && Date.now() - Date.parse(meta.doiCheck.at) < DOI_CHECK_TTL_MS;
}

const hasVerifiedPdf = (meta: Metadata | undefined) => !!meta?.pdf && (meta.pdf.verified === 'doi' || meta.pdf.verified === 'title' || meta.pdf.verified === 'manual');

export function resolveStage(lib: Library, opts: ResolveStageOptions): StageDef<FetchItem> {
  const next = (item: FetchItem): StageResult<FetchItem> => ({ kind: 'next', item });
  const fail = (item: FetchItem, reason: string, message: string, permanent: boolean): StageResult<FetchItem> => ({ kind: 'fail', item, reason, message, permanent });
  const canFetchWithoutDoi = (item: FetchItem) => !!item.arxivId || !!opts.hasOwnPdf?.(item);
  const lookups = new JobIdLookups(lib.http);
  let primed = false;

  return {
    name: 'resolve',
    concurrency: opts.concurrency,
    async run(item, ctx) {
      if (!primed) {
        primed = true;
        lookups.prime(idsToLookUp(lib, opts), ctx.signal);
      }
      const meta = lib.index.get(item.key);
      const decision = userDecision(item.entry, meta);
      if (opts.kind === 'resolve') {
        if (decision === 'opt_out') {
          // Reported like the resolver reports it, so the CLI and the review list say why.
          const r: ResolveResult = { key: item.key, outcome: 'skipped', why: 'the entry opts out (scholar = {skip})', candidates: [] };
          item.resolve = r;
          ctx.emit({ type: 'result', key: item.key, stage: 'resolve', data: r });
        }
        if (decision) return { kind: 'done', item, outcome: 'skipped' };
        const fresh = freshCheck(meta, item.entry.fields.get('doi')?.value.trim());
        const r = await resolveEntry(lib.http, item.file, item.entry, { signal: ctx.signal, checkExisting: opts.checkExisting && !fresh, lookups, fallbackRule: opts.fallbackRule });
        item.resolve = r;
        ctx.emit({ type: 'result', key: item.key, stage: 'resolve', data: r });
        if (r.outcome === 'failed') {
          const e = r.errors?.[0];
          return fail(item, e?.code ?? 'E_RESOLVE_FAILED', r.why, false);
        }
        return { kind: 'done', item, outcome: r.outcome };
      }

      if (decision === 'opt_out') return { kind: 'done', item, outcome: 'skipped' };
      // A PDF the user attached and chose to keep (`manual`) is their decision: a fetch never replaces it.
      if (hasVerifiedPdf(meta) && existsSync(pdfPath(lib.root, item.key))) return { kind: 'done', item, outcome: 'already_stored' };
      const doiRaw = item.entry.fields.get('doi')?.value;
      item.arxivId = entryArxivId(item.entry);
      // A DOI a resolve found wrong would fetch another paper (or nothing): it waits for the user.
      const m = meta?.match;
      if (doiRaw && (m?.outcome === 'doi_unknown' || m?.outcome === 'doi_mismatch') && m.replaces === doiRaw.trim()) {
        return fail(item, 'E_DOI_WRONG', `the entry's DOI ${m.outcome === 'doi_unknown' ? 'does not exist' : 'names another work'}; review it first`, true);
      }
      if (doiRaw && isValidDoi(normalizeDoi(doiRaw))) {
        item.doi = normalizeDoi(doiRaw);
        return next(item);
      }
      if (meta?.doi && m?.outcome !== 'review') {
        item.doi = meta.doi;
        return next(item);
      }
      // Any decision stands: no fetch resolves again, so nothing here can replace it.
      if (decision) {
        if (!canFetchWithoutDoi(item)) return fail(item, 'E_NO_DOI', decision === 'no_doi' ? 'marked as having no DOI' : decision === 'rejected' ? 'you rejected the candidates found for this entry' : 'no DOI chosen for this entry', true);
        return next(item);
      }
      const r = await resolveEntry(lib.http, item.file, item.entry, { signal: ctx.signal, lookups, fallbackRule: opts.fallbackRule });
      item.resolve = r;
      if (r.outcome === 'accept' && r.doi) {
        item.doi = r.doi;
        item.work = r.work;
      }
      item.arxivId ??= r.arxivId;
      if (!item.doi && !canFetchWithoutDoi(item)) {
        if (r.outcome === 'failed') return fail(item, r.errors?.find((e) => (SERVICE_DOWN_CODES as readonly string[]).includes(e.code))?.code ?? 'E_RESOLVE_FAILED', r.why, false);
        return fail(item, 'E_NO_DOI', r.outcome === 'review' ? 'the DOI needs review first' : 'no DOI found for this entry', true);
      }
      return next(item);
    },
  };
}
