/**
 * The one sentence a user reads when a job they started ends, and how its progress is shown. Pure:
 * no `vscode`, so the wording is pinned by test/unit/host-model.test.ts. The job's outcome names
 * (`accept`, `has_doi`, `stored_unverified`, …) are the core's vocabulary and never reach the user.
 */

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
    if (f.writeBack) push(f.written, 'DOI added', 'DOIs added');
    else push(o('accept'), 'DOI found', 'DOIs found');
  } else {
    push(o('stored') + o('stored_unverified'), 'PDF stored', 'PDFs stored');
    push(o('already_stored'), 'PDF was already stored', 'PDFs were already stored');
  }
  push(o('review'), 'needs your review', 'need your review');
  push(o('doi_unknown') + o('doi_mismatch'), 'DOI looks wrong', 'DOIs look wrong');
  push(o('not_found'), 'not found', 'not found');
  if (f.kind === 'resolve') push(o('has_doi'), 'already had its DOI', 'already had their DOIs');
  push(o('failed'), f.kind === 'fetch' ? 'PDF could not be fetched' : 'could not be looked up', f.kind === 'fetch' ? 'PDFs could not be fetched' : 'could not be looked up');
  push(o('skipped'), 'skipped', 'skipped');
  push(f.refused, 'DOI not written (the entry changed meanwhile)', 'DOIs not written (the entries changed meanwhile)');
  const body = parts.length ? `${parts.join(', ')}.` : f.kind === 'fetch' ? 'no PDF to fetch.' : 'no DOI to look up.';
  const message = `Scholar: ${f.cancelled ? 'cancelled; ' : ''}${body}`;
  const actions: JobReport['actions'] = [];
  if (o('review') + o('doi_unknown') + o('doi_mismatch') > 0) actions.push('Review');
  if (o('failed') > 0) actions.push('Show Dashboard');
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
