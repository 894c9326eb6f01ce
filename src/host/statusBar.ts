import * as vscode from 'vscode';
import type { Session } from './session';

/** A status bar item while a job runs: progress, and a click opens the dashboard. */
export class JobStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('scholar.job', vscode.StatusBarAlignment.Left, 50);
  private timer: NodeJS.Timeout | undefined;
  private readonly sub: vscode.Disposable;

  constructor(private readonly session: Session) {
    this.item.name = vscode.l10n.t('Scholar job');
    this.item.command = 'scholar.showDashboard';
    this.sub = session.onDidChange(() => this.updateSoon());
  }

  private updateSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, 250);
  }

  update(): void {
    const job = this.session.currentJob;
    if (!job) {
      this.item.hide();
      return;
    }
    const s = job.snapshot();
    const done = s.stats.done + s.stats.failed;
    const verb = s.kind === 'fetch' ? 'PDFs' : 'DOIs';
    this.item.text = vscode.l10n.t('$({0}) Scholar {1} {2}/{3}', s.state === 'paused' ? 'debug-pause' : 'sync~spin', verb, done, s.stats.total);
    this.item.tooltip = vscode.l10n.t('Scholar: {0} — {1} done, {2} failed. Click for the dashboard.', s.kind === 'fetch' ? vscode.l10n.t('fetching PDFs') : vscode.l10n.t('resolving DOIs'), s.stats.done, s.stats.failed);
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.sub.dispose();
    this.item.dispose();
  }
}
