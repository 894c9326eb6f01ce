/**
 * The dashboard's view of the session: a pure projection of the job's snapshot, the index's totals
 * and the services' rates. The dashboard renders it; it owns none of the models it shows.
 */
import { t } from './l10n';
import type { JobSnapshot } from '../../core/jobs/run';
import type { IndexStats } from '../../core/index/library';
import { errorLabel } from '../../core/errors';
import { emptySnapshot, type DashboardSnapshot, type ServiceView } from '../../shared/protocol';

export interface DashboardFacts {
  /** The running job's snapshot, else the last finished one's. */
  job?: JobSnapshot;
  /** Totals of the library the views show, if one is open. */
  library?: IndexStats;
  services: ServiceView[];
  trusted: boolean;
}

export function toDashboardSnapshot(f: DashboardFacts): Omit<DashboardSnapshot, 'seq'> {
  const s = f.job;
  const stats = f.library;
  return {
    job: s
      ? {
          id: s.id,
          kind: s.kind,
          state: s.state,
          title: s.kind === 'fetch' ? t('Fetch PDFs') : t('Resolve DOIs'),
          total: s.stats.total,
          done: s.stats.done,
          failed: s.stats.failed,
          elapsedMs: s.stats.elapsedMs,
          etaMs: s.stats.etaMs,
          outcomes: s.stats.outcomes,
        }
      : null,
    stages: s?.stats.stages.map((st) => ({ name: st.name, queued: st.queued, active: st.active, done: st.done, failed: st.failed, throughputPerMin: st.throughputPerMin })) ?? [],
    services: f.services,
    errors: s?.errors.map((e) => ({ reason: e.reason, label: errorLabel(e.reason), message: e.message, count: e.keys.length, permanent: e.permanent, keys: e.keys })) ?? [],
    activity: s?.activity.slice(-50) ?? [],
    throughput: s?.throughput.slice(-60) ?? [],
    library: stats ? { entries: stats.entries, withDoi: stats.withDoi, withPdf: stats.withPdf, needsReview: stats.byDoiStatus.review ?? 0 } : emptySnapshot().library,
    trusted: f.trusted,
  };
}
