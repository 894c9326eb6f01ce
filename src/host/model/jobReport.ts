/**
 * The one sentence a user reads when a job they started ends, and how its progress is shown. Pure:
 * no `vscode`, so the wording is pinned by test/unit/host-model.test.ts. The job's outcome names
 * (`accept`, `has_doi`, `stored_unverified`, …) are the core's vocabulary and never reach the user.
 */

import { t } from './l10n';

export interface JobReportFacts {
  kind: 'resolve' | 'fetch';
  /** Outcome name → count, summed over the jobs of one command (one per workspace folder). */
  outcomes: Record<string, number>;
  /** DOIs written into the .bib files. */
  written: number;
  /** DOIs found but not written because the entry changed while the job ran. */
  refused: number;
  /** Whether write-back was asked for (Resolve without it only finds DOIs). */
  writeBack: boolean;
  cancelled: boolean;
}

export interface JobReport {
  message: string;
  /** Buttons worth offering: entries to review, failures to look at. */
  /** Which buttons to offer, by their English name (the host shows them translated). */
  actions: ('Review' | 'Show Dashboard')[];
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function jobReport(f: JobReportFacts): JobReport {
  const o = (k: string) => f.outcomes[k] ?? 0;
  const parts: string[] = [];
  const push = (n: number, one: string, many: string) => {
    if (n > 0) parts.push(count(n, one, many));
  };
  if (f.kind === 'resolve') {
    if (f.writeBack) push(f.written, t('DOI added'), t('DOIs added'));
    else push(o('accept'), t('DOI found'), t('DOIs found'));
  } else {
    push(o('stored') + o('stored_unverified'), t('PDF stored'), t('PDFs stored'));
    push(o('already_stored'), t('PDF was already stored'), t('PDFs were already stored'));
  }
  push(o('review'), t('needs your review'), t('need your review'));
  push(o('doi_unknown') + o('doi_mismatch'), t('DOI looks wrong'), t('DOIs look wrong'));
  push(o('not_found'), t('not found'), t('not found'));
  if (f.kind === 'resolve') push(o('has_doi'), t('already had its DOI'), t('already had their DOIs'));
  push(o('failed'), f.kind === 'fetch' ? t('PDF could not be fetched') : t('could not be looked up'), f.kind === 'fetch' ? t('PDFs could not be fetched') : t('could not be looked up'));
  push(o('skipped'), 'skipped', 'skipped');
  push(f.refused, t('DOI not written (the entry changed meanwhile)'), t('DOIs not written (the entries changed meanwhile)'));
  const body = parts.length ? `${parts.join(', ')}.` : f.kind === 'fetch' ? t('no PDF to fetch.') : t('no DOI to look up.');
  const message = t('Scholar: {0}{1}', f.cancelled ? 'cancelled; ' : '', body);
  const actions: JobReport['actions'] = [];
  if (o('review') + o('doi_unknown') + o('doi_mismatch') > 0) actions.push('Review');
  if (o('failed') > 0) actions.push('Show Dashboard'); // l10n-ignore: the button's id, shown translated by the host
  return { message, actions };
}

/**
 * Where a job's progress is drawn. The library view's title bar (and the status bar item, always)
 * is enough for a job that ends soon or that nobody asked for; a notification with a Cancel button
 * only for a long job the user started from the palette, who may not have the view open.
 * "Long": more than LONG_JOB_ENTRIES entries — at the services' published rates (Crossref about
 * 10 requests a second shared by every lookup, Unpaywall and the PDF hosts slower) 50 entries take
 * tens of seconds, which is when someone wants a visible Cancel.
 */
export const LONG_JOB_ENTRIES = 50;

export type ProgressPlace = 'view' | 'notification';

export function progressPlace(opts: { entries: number; fromPalette: boolean; automatic: boolean }): ProgressPlace {
  return !opts.automatic && opts.fromPalette && opts.entries > LONG_JOB_ENTRIES ? 'notification' : 'view';
}
