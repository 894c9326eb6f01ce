import * as vscode from 'vscode';
import type { Session } from './session';

/** A status bar item while a job runs: progress, and a click opens the dashboard. */
export class JobStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('scholar.job', vscode.StatusBarAlignment.Left, 50);
  private timer: NodeJS.Timeout | undefined;
  private readonly sub: vscode.Disposable;

  constructor(private readonly session: Session) {
    this.item.name = 'Scholar job';
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
    this.item.text = `$(${s.state === 'paused' ? 'debug-pause' : 'sync~spin'}) Scholar ${verb} ${done}/${s.stats.total}`;
    this.item.tooltip = `Scholar: ${s.kind === 'fetch' ? 'fetching PDFs' : 'resolving DOIs'} — ${s.stats.done} done, ${s.stats.failed} failed. Click for the dashboard.`;
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.sub.dispose();
    this.item.dispose();
  }
}
