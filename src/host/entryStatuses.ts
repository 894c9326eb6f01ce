import type { ProjectModel } from './project';
import type { Session } from './session';
import { entryStatus, type EntryStatus } from './model/entryStatus';

/**
 * Reads an entry's status from the models (the .bib through the project, the index and the jobs
 * through the session). The tree, the hovers and the commands all ask here; none of them owns it.
 */
export class EntryStatuses {
  constructor(
    private readonly session: Session,
    private readonly project: ProjectModel,
  ) {}

  of(key: string): EntryStatus {
    const job = this.session.currentJob;
    return entryStatus({
      bibDoi: this.project.findEntry(key)?.entry.fields.get('doi')?.value,
      meta: this.session.metadata(key),
      current: job?.results.get(key),
      failure: this.session.lastFailure(key),
      inRunningFetch: job?.kind === 'fetch' && this.session.inCurrentJob(key),
    });
  }
}
