// The dashboard for screen-reader and keyboard users, in a real VS Code: during a run that sends a
// snapshot every 250 ms, only a short status line is live, and it changes a handful of times (the
// job starts, every tenth of the entries, the end), not with every snapshot.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import type { JobSummary } from '../../src/host/controller';
import { bibEntry, closeAllEditors, corpus, plainTitle, scholarApi, startReplay, writeWorkspaceFile } from './scholar';
import { sleep, test, waitFor } from './util';

const ENTRIES = 12;

test('dashboard accessibility: only the short status line and the search status are live, and the status line changes at most once a tenth of the job', async () => {
  const api = await scholarApi();
  const replay = await startReplay({ latencyMs: [200, 400] });
  try {
    const entries = corpus()
      .filter((r) => r.type === 'journal-article' && String(r.DOI).startsWith('10.1016/j.') && plainTitle(r) && (r.author?.length ?? 0) > 0)
      .slice(ENTRIES, 2 * ENTRIES)
      .map((r, i) => bibEntry(`a11y-${String(i + 1).padStart(2, '0')}`, r, { doi: true }));
    assert.equal(entries.length, ENTRIES);
    const uri = await writeWorkspaceFile(api, 'a11y/a11y.bib', entries.join('\n'));

    await vscode.commands.executeCommand('scholar.showDashboard');
    await Promise.race([api.dashboard.whenReady(), sleep(15_000).then(() => Promise.reject(new Error('the webview never said ready')))]);
    const seqBefore = api.dashboard.lastSnapshot?.seq ?? 0;
    const said = api.dashboard.announcements.length;

    const summary = (await vscode.commands.executeCommand('scholar.fetchPdfs', uri)) as JobSummary | undefined;
    assert.ok(summary, 'the fetch returned no summary');
    // This job's lines start with its first "running" one (a new panel first reads out the previous job).
    const thisJob = () => {
      const all = api.dashboard.announcements.slice(said);
      const start = all.findIndex((t) => /\(running\)\.$/.test(t));
      return start < 0 ? [] : all.slice(start);
    };
    const last = await waitFor(() => thisJob().find((t) => /\(done\)\.$/.test(t)), 10_000, 'the status line to say the job is done');
    const lines = thisJob();
    const snapshots = api.dashboard.lastSnapshot!.seq - seqBefore;

    // The regions a screen reader follows: the two status lines, never the rebuilt <main>.
    assert.deepEqual([...api.dashboard.liveRegions].sort(), ['job-status', 'search-status']);
    // Short, and a handful: the start, at most one per tenth of the entries, the end.
    for (const t of lines) assert.ok(t.length <= 120, `a long announcement: ${t}`);
    assert.ok(lines.length <= 10 + 3, `${lines.length} announcements for ${ENTRIES} entries: ${lines.join(' | ')}`);
    assert.ok(snapshots > lines.length, `${snapshots} snapshots, ${lines.length} announcements: the status line followed every snapshot`);
    assert.match(last, new RegExp(`^Fetch PDFs: ${ENTRIES} of ${ENTRIES} done`));
    // Nothing repeated: each announcement is news.
    for (let i = 1; i < lines.length; i++) assert.notEqual(lines[i], lines[i - 1]);
  } finally {
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 120_000 });
