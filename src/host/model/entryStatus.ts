/**
 * What the views say about one entry (DOI state, PDF state, last failure), computed from the .bib
 * and the library's models. Pure: no `vscode`, no I/O, so the tree, the hovers and the commands
 * read one answer and a unit test can pin it down.
 */
import { t } from './l10n';
import type { EntryOutcome } from '../../core/jobs/run';
import type { Metadata } from '../../core/storage/metadata';

export interface EntryStatus {
  /** The DOI written in the .bib entry. */
  doi?: string;
  /** A DOI the library accepted that the .bib does not carry (not written, or undone). */
  libraryDoi?: string;
  doiState: 'found' | 'review' | 'not_found' | 'none' | 'no_doi';
  pdfState: 'stored' | 'failed' | 'pending' | 'none';
  failure?: string;
  meta?: Metadata;
}

export interface EntryFacts {
  /** The `doi` field of the entry in the .bib (trimmed), if any. */
  bibDoi?: string;
  /** The entry's metadata in the library index. */
  meta?: Metadata;
  /** Its outcome in the running job, if that job has reached it. */
  current?: EntryOutcome;
  /** Its last failure across jobs (the running job's first). */
  failure?: EntryOutcome;
  /** A fetch job is running that includes this entry. */
  inRunningFetch?: boolean;
}

export function entryStatus(f: EntryFacts): EntryStatus {
  const entryHasDoi = f.bibDoi?.trim() || undefined;
  const { meta, current, failure } = f;
  const outcome = meta?.match?.outcome;
  let doiState: EntryStatus['doiState'] = 'none';
  // The .bib is the truth for "has a DOI": after an undo the library may remember a DOI the file no longer has.
  // A DOI found wrong (and still the entry's) waits for the user as much as a doubtful one: both are under Needs review.
  const wrongDoi = !!entryHasDoi && (outcome === 'doi_unknown' || outcome === 'doi_mismatch') && meta?.match?.replaces === entryHasDoi;
  if (wrongDoi) doiState = 'review';
  else if (entryHasDoi) doiState = 'found';
  else if (outcome === 'no_doi') doiState = 'no_doi';
  else if (outcome === 'review' || current?.outcome === 'review') doiState = 'review';
  else if (outcome === 'not_found' || current?.outcome === 'not_found') doiState = 'not_found';
  let pdfState: EntryStatus['pdfState'] = 'none';
  if (meta?.pdf) pdfState = 'stored';
  else if (failure) pdfState = 'failed';
  else if (f.inRunningFetch && !current) pdfState = 'pending';
  return {
    doi: entryHasDoi,
    libraryDoi: !entryHasDoi && (outcome === 'accepted' || outcome === 'manual') ? meta?.doi : undefined,
    doiState,
    pdfState,
    failure: failure ? `${failure.reason}: ${failure.message ?? ''}` : undefined,
    meta,
  };
}

/**
 * The entry's state in words, for the tree's description and for screen readers: what the icon's
 * colour says, so that nobody needs to see the colour. Plain user words, never outcome names.
 */
export function entryStateText(st: Pick<EntryStatus, 'doiState' | 'pdfState' | 'failure'>): string {
  const doi = { found: t('has a DOI'), review: t('DOI needs your review'), not_found: t('no DOI found'), none: t('no DOI yet'), no_doi: t('marked as having no DOI') }[st.doiState];
  const pdf = { stored: t('PDF stored'), failed: t('PDF failed'), pending: t('PDF pending'), none: t('no PDF') }[st.pdfState];
  return `${doi}, ${pdf}`;
}
