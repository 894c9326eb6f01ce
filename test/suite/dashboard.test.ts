// The dashboard webview in a real VS Code: the ready handshake, full snapshots during a fetch run
// (a running job with per-stage counts) and after it (done, with totals), and how it and the
// library tree look in a dark and a light theme.
import * as vscode from 'vscode';
import { errorLabel } from '../../src/core/errors';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { screenshot, sleep, test, waitFor, workspaceRoot } from './util';
import type { JobSummary } from '../../src/host/controller';
import { bibEntry, closeAllEditors, corpus, keyDir, plainTitle, scholarApi, showScholarView, startReplay, treeEntries, writeWorkspaceFile } from './scholar';

const ENTRIES = 12;

/** A dozen real journal articles with their DOI, chosen deterministically from the corpus. */
function dashboardEntries(): { key: string; text: string }[] {
  return corpus()
    .filter((r) => r.type === 'journal-article' && String(r.DOI).startsWith('10.1016/j.') && plainTitle(r) && (r.author?.length ?? 0) > 0)
    .slice(0, ENTRIES)
    .map((r, i) => {
      const key = `dash-${String(i + 1).padStart(2, '0')}`;
      return { key, text: bibEntry(key, r, { doi: true }) };
    });
}

async function setTheme(theme: string | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('workbench').update('colorTheme', theme, vscode.ConfigurationTarget.Global);
  if (theme) await waitFor(() => vscode.workspace.getConfiguration('workbench').get('colorTheme') === theme, 5_000, `theme ${theme}`);
  await sleep(1_000); // the workbench and the webview restyle
}

test('dashboard: ready handshake, a running job with stages during a fetch, done with totals after it; dark and light themes', async () => {
  const api = await scholarApi();
  // Latency on every call so that the run lasts a few seconds and can be watched.
  const replay = await startReplay({ latencyMs: [200, 400] });
  const themeBefore = vscode.workspace.getConfiguration('workbench').inspect<string>('colorTheme')?.globalValue;
  try {
    const entries = dashboardEntries();
    assert.equal(entries.length, ENTRIES);
    const uri = await writeWorkspaceFile(api, 'dashboard/dashboard.bib', entries.map((e) => e.text).join('\n'));

    await vscode.commands.executeCommand('scholar.showDashboard');
    assert.ok(api.dashboard.isOpen, 'the dashboard panel did not open');
    await Promise.race([api.dashboard.whenReady(), sleep(15_000).then(() => Promise.reject(new Error('the webview never said ready')))]);
    assert.ok(api.dashboard.isReady);
    // The host answers `ready` with a full snapshot.
    const first = await waitFor(() => api.dashboard.lastSnapshot, 5_000, 'the first snapshot');
    assert.ok(first.seq >= 1);

    const run = Promise.resolve(vscode.commands.executeCommand('scholar.fetchPdfs', uri)) as Promise<JobSummary | undefined>;
    const running = await waitFor(
      () => {
        const s = api.dashboard.lastSnapshot;
        return s?.job?.state === 'running' && s.job.kind === 'fetch' && s.job.total === ENTRIES && s.stages.some((st) => st.active + st.done > 0) ? s : undefined;
      },
      30_000,
      'a snapshot of the running fetch',
      50,
    );
    const stageNames = running.stages.map((s) => s.name);
    for (const name of ['enrich', 'locate', 'download']) assert.ok(stageNames.includes(name), `stages ${stageNames.join(', ')} lack ${name}`);
    assert.ok(running.seq > first.seq, 'snapshots carry an increasing sequence number');
    // Rates are computed over a sliding window; a library reopened after the settings changed once gave negative ones.
    for (const s of running.services) assert.ok(s.ratePerSec >= 0, `${s.service}: rate ${s.ratePerSec}`);
    // The tree marks only the entries of the running job as pending, not every entry of the workspace.
    const refs = vscode.Uri.file(path.join(workspaceRoot(), 'refs.bib'));
    for (const { node, item } of treeEntries(api, refs)) {
      assert.notEqual((item.iconPath as vscode.ThemeIcon).id, 'loading~spin', `${node.key} is not in the job but shows as pending`);
    }
    assert.ok(
      treeEntries(api, uri).some(({ item }) => (item.iconPath as vscode.ThemeIcon).id === 'loading~spin'),
      'no entry of the running job shows as pending',
    );
    await screenshot('dashboard-running');

    const summary = await run;
    assert.ok(summary, 'the fetch returned no summary');
    const done = await waitFor(
      () => {
        const s = api.dashboard.lastSnapshot;
        return s?.job?.state === 'done' && s.job.done + s.job.failed === ENTRIES ? s : undefined;
      },
      10_000,
      'a snapshot of the finished job',
      50,
    );
    assert.ok(done.seq > running.seq);
    assert.equal(done.job!.total, ENTRIES);
    const stored = entries.filter((e) => fs.existsSync(path.join(keyDir(e.key), 'paper.pdf'))).length;
    assert.ok(stored > 0, 'no PDF stored');
    assert.equal(done.job!.outcomes.stored ?? 0, stored, `outcomes ${JSON.stringify(done.job!.outcomes)} vs ${stored} PDFs on disk`);
    assert.equal(done.job!.done, stored, 'done counts the stored PDFs');
    assert.equal(done.job!.failed, ENTRIES - stored);
    assert.equal(done.errors.reduce((n, e) => n + e.count, 0), ENTRIES - stored, 'every failure is grouped under a reason');
    // Each group is headed by the registry's label, the code kept for the tooltip (title=code in the webview).
    for (const e of done.errors) assert.equal(e.label, errorLabel(e.reason), `${e.reason} is labelled "${e.label}"`);
    assert.ok(done.services.some((s) => s.service === 'openalex' && s.requests > 0), 'no per-service status');
    assert.ok(done.activity.some((a) => /Finished/.test(a.text)), 'no "Finished" activity');
    for (const s of done.services) assert.ok(s.ratePerSec >= 0, `${s.service}: rate ${s.ratePerSec}`);
    assert.ok(done.library.withPdf >= stored, `library totals ${JSON.stringify(done.library)}`);
    await vscode.commands.executeCommand('notifications.clearAll');
    await screenshot('dashboard-done');

    for (const [theme, name] of [
      ['Default Dark Modern', 'dark'],
      ['Default Light Modern', 'light'],
    ] as const) {
      await setTheme(theme);
      await vscode.commands.executeCommand('scholar.showDashboard');
      await screenshot(`dashboard-${name}`);
      await showScholarView();
      await screenshot(`library-${name}`);
    }
  } finally {
    await setTheme(themeBefore);
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 180_000 });

test('dashboard: the library search box runs queries through the index and renders the ranked results as text', async () => {
  const api = await scholarApi();
  const folder = vscode.workspace.workspaceFolders![0]!;
  const lib = await api.session.library(folder);
  // Entries written through the library's own writer, one with a hostile title.
  const hostile = '<img src=x onerror="alert(1)"> Searchable hostile title';
  await lib.writer.writeMetadata('search-a', { title: 'Quasicrystal lattices in searchable alloys', authors: [{ family: 'Shechtman', given: 'Dan' }], year: 1984 });
  await lib.writer.writeMetadata('search-b', { title: 'Searchable defects', abstract: 'Quasicrystal order without periodicity.', authors: [{ family: 'Levine' }], year: 1986 });
  await lib.writer.writeMetadata('search-c', { title: hostile, year: 2020 });
  await lib.writer.flush();

  const rendered = async (query: string) => {
    api.dashboard.showSearch(query);
    const r = await waitFor(() => (api.dashboard.lastRendered?.query === query ? api.dashboard.lastRendered : undefined), 15_000, `results of ${query}`);
    return r.keys;
  };
  try {
    // Ranked: a title hit above an abstract hit; the same order as the index itself.
    const quasi = await rendered('quasicryst');
    assert.deepEqual(quasi, ['search-a', 'search-b']);
    assert.deepEqual(quasi, lib.index.search('quasicryst', { limit: 50 }).map((h) => h.key));
    // The totals above the search box count the library the search ran on.
    await waitFor(() => ((api.dashboard.lastSnapshot?.library.entries ?? 0) >= lib.index.stats().entries ? true : undefined), 5_000, 'library totals in the snapshot');
    assert.deepEqual(await rendered('searchable year:..1985'), ['search-a']);
    assert.deepEqual(await rendered('searchable -author:shecht'), lib.index.search('searchable -author:shecht', { limit: 50 }).map((h) => h.key));
    // A hostile title is found and shown as text (the screenshot shows the markup literally).
    assert.deepEqual(await rendered('"hostile title"'), ['search-c']);
    await screenshot('dashboard-search');
    // A malformed query is answered with an error, not an exception; an empty one clears the list.
    assert.deepEqual(await rendered('year:abc'), []);
    assert.deepEqual(await rendered(''), []);
  } finally {
    await closeAllEditors();
  }
}, { timeoutMs: 90_000 });
