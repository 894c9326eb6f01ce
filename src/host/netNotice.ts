// One notification per job for the services Scholar stopped asking (unreachable, proxy, TLS, or
// OpenAlex's budget), with the way to fix it: the per-entry failures stay in the log and the
// dashboard, where they are retryable.
import * as vscode from 'vscode';
import { describeNetIssue, type NetIssue } from '../core/net/issues';
import type { Log } from './log';

/** How long to wait for the other services of the same outage, so that one notification names them all. */
const GATHER_MS = 400;

export interface NetNotice {
  text: string;
  actions: string[];
  issues: NetIssue[];
}

/** A per-job collector: the first issue schedules the notification; later ones of the same job only go to the log. */
export function netIssueNotifier(log: Log, shown: (n: NetNotice) => void): (issue: NetIssue) => void {
  const issues: NetIssue[] = [];
  let scheduled = false;
  return (issue) => {
    issues.push(issue);
    log.warn(describeNetIssue(issue, 'vscode'));
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      const first = issues[0];
      const others = issues.slice(1);
      const names = [...new Set(others.map((i) => (i.service === 'pdf' ? i.host : i.service)))];
      const text = vscode.l10n.t('Scholar: {0}{1}', describeNetIssue(first, 'vscode'), names.length ? vscode.l10n.t(' Also not reachable or refused: {0} (see the log).', names.join(', ')) : '');
      const keyIssue = issues.some((i) => i.code === 'E_QUOTA_EXHAUSTED' || i.code === 'E_KEY_REQUIRED');
      const netIssue = issues.some((i) => i.code !== 'E_QUOTA_EXHAUSTED' && i.code !== 'E_KEY_REQUIRED');
      const actions = [...(netIssue ? [vscode.l10n.t('Open Settings')] : []), ...(keyIssue ? [vscode.l10n.t('Set API Key')] : []), vscode.l10n.t('Show Log')];
      const notice = { text, actions, issues: issues.slice() };
      shown(notice);
      void vscode.window.showWarningMessage(text, ...actions).then((a) => {
        if (a === vscode.l10n.t('Open Settings')) void vscode.commands.executeCommand('workbench.action.openSettings', first.proxy ? 'http.proxy' : '@id:http.proxy @id:http.noProxy @id:http.proxyStrictSSL @id:http.systemCertificates');
        if (a === vscode.l10n.t('Set API Key')) void vscode.commands.executeCommand('scholar.setApiKey');
        if (a === vscode.l10n.t('Show Log')) void vscode.commands.executeCommand('scholar.showLog');
      });
    }, GATHER_MS);
  };
}
