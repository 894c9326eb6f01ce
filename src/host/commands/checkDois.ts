/** Check Existing DOIs: a resolve of the entries that carry a DOI, without writing to the .bib. */
import * as vscode from 'vscode';
import type { CommandsOf } from '../container';

export const checkDoisCommands: CommandsOf<'scholar.checkDois'> = ({ project, controller, latex }) => ({
  'scholar.checkDois': async () => {
    await project.ready();
    const withDoi = new Set(project.bibDocs().flatMap((d) => d.file.entries.filter((e) => e.fields.get('doi')?.value.trim()).map((e) => e.key)));
    if (!withDoi.size) return void vscode.window.showInformationMessage(vscode.l10n.t('Scholar: no entry has a DOI to check.'));
    const summary = await controller.run('resolve', undefined, { checkExisting: true, writeBack: false, only: withDoi });
    if (!summary) return undefined;
    // The findings live in each entry's metadata.json (written by the job); the diagnostics read them there.
    let problems = 0;
    for (const r of summary.job.resolutions.values()) if (r.outcome === 'doi_unknown' || r.outcome === 'doi_mismatch') problems++;
    latex.updateSoon();
    void vscode.window.showInformationMessage(problems ? vscode.l10n.t('Scholar: {0} DOIs need a look (see the Problems view).', problems) : vscode.l10n.t('Scholar: every existing DOI checks out.'));
    return problems;
  },
});
