/** Upgrade Preprints and its quick fix, Cite the Published Version (the work is in Upgrades). */
import * as vscode from 'vscode';
import type { CommandsOf } from '../container';

export const upgradeCommands: CommandsOf<'scholar.upgradePreprints' | 'scholar.citePublishedVersion'> = ({ upgrades }) => ({
  'scholar.upgradePreprints': (arg) => upgrades.command(arg),
  'scholar.citePublishedVersion': async (arg) => {
    const n = arg as { key?: unknown; bibUri?: unknown } | undefined;
    if (typeof n?.key !== 'string' || !(n.bibUri instanceof vscode.Uri)) throw new Error(vscode.l10n.t('Cite the published version needs an entry'));
    return upgrades.apply(n.bibUri, [n.key]);
  },
});
