// First run in a real VS Code: the getting-started walkthrough (its steps, their buttons' commands,
// each run as the button runs it), the one-time prompt when a job starts without a contact email,
// and the README's screenshots of a realistic project (examples/thesis: real Crossref works) in a
// light, a dark and a high-contrast theme.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JobSummary } from '../../src/host/controller';
import { NO_EMAIL_DISMISSED_KEY, WALKTHROUGH_ID } from '../../src/host/commands/firstRun';
import { bibEntry, closeAllEditors, corpus, EXTENSION_ID, plainTitle, repoRoot, scholarApi, showScholarView, startReplay, writeWorkspaceFile } from './scholar';
import { screenshot, sleep, test, waitFor, workspaceRoot } from './util';
import type { ScholarApi } from '../../src/host/extension';

const STEPS = ['scholar.contactEmail', 'scholar.resolve', 'scholar.review', 'scholar.fetch', 'scholar.library'];

interface Step {
  id: string;
  description: string;
  completionEvents?: string[];
}

function walkthrough(): { id: string; steps: Step[] } {
  const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { walkthroughs: { id: string; steps: Step[] }[] } };
  const w = pkg.contributes.walkthroughs.find((x) => `${EXTENSION_ID}#${x.id}` === WALKTHROUGH_ID);
  assert.ok(w, `no walkthrough ${WALKTHROUGH_ID}`);
  return w;
}

/** The buttons of a step: `[label](command:id)` links in its description. */
function buttons(step: Step): string[] {
  return [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]!);
}

/** examples/thesis copied into the workspace's thesis/ folder: a chapter citing 27 real works. */
async function thesisProject(api: ScholarApi): Promise<vscode.Uri> {
  const src = path.join(repoRoot(), 'examples', 'thesis');
  for (const f of ['main.tex', 'chapter2.tex']) await writeWorkspaceFile(api, `thesis/${f}`, fs.readFileSync(path.join(src, f), 'utf8'));
  const bib = path.join(workspaceRoot(), 'thesis', 'refs.bib');
  // Once resolved, the copy carries DOIs: keep it, as a user's project would.
  if (fs.existsSync(bib)) return vscode.Uri.file(bib);
  return writeWorkspaceFile(api, 'thesis/refs.bib', fs.readFileSync(path.join(src, 'refs.bib'), 'utf8'));
}

async function setTheme(theme: string | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('workbench').update('colorTheme', theme, vscode.ConfigurationTarget.Global);
  if (theme) await waitFor(() => vscode.workspace.getConfiguration('workbench').get('colorTheme') === theme, 5_000, `theme ${theme}`);
  await sleep(1_000); // the workbench and the webviews restyle
}

test('first run: the walkthrough has its five steps, each with a declared button and a completion event, and every button runs', async () => {
  const api = await scholarApi();
  const w = walkthrough();
  assert.deepEqual(w.steps.map((s) => s.id), STEPS);
  const registered = new Set(await vscode.commands.getCommands(true));
  for (const s of w.steps) {
    assert.ok(buttons(s).length > 0, `${s.id} has no button`);
    for (const c of buttons(s)) assert.ok(registered.has(c), `${s.id}: ${c} is not a registered command`);
    assert.ok(s.completionEvents?.length, `${s.id} has no completion event`);
  }
  const email = w.steps.find((s) => s.id === 'scholar.contactEmail')!;
  assert.match(email.description, /Unpaywall/, 'the email step does not say why');
  assert.deepEqual(email.completionEvents, ['onSettingChanged:scholar.contactEmail']);

  const replay = await startReplay({ latencyMs: [5, 20] });
  const cfg = () => vscode.workspace.getConfiguration('scholar');
  const failuresBefore = api.commandFailures.length;
  try {
    // The walkthrough opens from the palette command.
    await vscode.commands.executeCommand('scholar.gettingStarted');
    await screenshot('walkthrough', undefined, { belowTitleBar: true });

    // 1. The email: the button's command stores it in the user settings; a malformed one is refused.
    assert.equal(await vscode.commands.executeCommand('scholar.setContactEmail', 'reader@example.org'), 'reader@example.org');
    await waitFor(() => cfg().inspect<string>('contactEmail')?.globalValue === 'reader@example.org', 5_000, 'the email in the user settings');
    await vscode.commands.executeCommand('scholar.setContactEmail', 'not an address');
    assert.equal(api.commandFailures.length, failuresBefore + 1, 'a malformed email was accepted');
    assert.equal(cfg().inspect<string>('contactEmail')?.globalValue, 'reader@example.org', 'a malformed email replaced the stored one');
    // Without an argument the button asks; closing the box changes nothing.
    const asked = Promise.resolve(vscode.commands.executeCommand('scholar.setContactEmail'));
    await sleep(500);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.equal(await asked, undefined);
    assert.equal(cfg().inspect<string>('contactEmail')?.globalValue, 'reader@example.org');

    // 2. Resolve All DOIs on a thesis project.
    const bib = await thesisProject(api);
    const resolved = (await vscode.commands.executeCommand('scholar.resolveAllDois', bib)) as JobSummary | undefined;
    assert.ok(resolved && resolved.job.kind === 'resolve', 'Resolve All DOIs returned no summary');
    await waitFor(() => /doi\s*=/.test(fs.readFileSync(bib.fsPath, 'utf8')), 10_000, 'a DOI written into thesis/refs.bib');

    // 3. Review: with no entry named, the button asks which one; closing the pick ends it quietly.
    const review = Promise.resolve(vscode.commands.executeCommand('scholar.review'));
    await sleep(500);
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await review;

    // 4. Fetch PDFs.
    const fetched = (await vscode.commands.executeCommand('scholar.fetchPdfs', bib)) as JobSummary | undefined;
    assert.ok(fetched && fetched.job.kind === 'fetch', 'Fetch PDFs returned no summary');
    assert.ok((fetched.job.snapshot().stats.outcomes.stored ?? 0) > 0, `no PDF stored: ${JSON.stringify(fetched.job.snapshot().stats.outcomes)}`);

    // 5. Open the library: the Scholar view becomes visible.
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    assert.equal(await vscode.commands.executeCommand('scholar.openLibrary'), true);
    await waitFor(() => api.tree.isVisible, 5_000, 'the library view to show');
    assert.equal(api.commandFailures.length, failuresBefore + 1, `commands failed: ${JSON.stringify(api.commandFailures.slice(failuresBefore))}`);
  } finally {
    await vscode.commands.executeCommand('notifications.clearAll');
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 180_000 });

test('first run: a job without a contact email prompts once, saying Unpaywall is skipped, and never again once dismissed', async () => {
  const api = await scholarApi();
  const replay = await startReplay({ latencyMs: [5, 20] });
  const cfg = () => vscode.workspace.getConfiguration('scholar');
  const record = corpus().find((r) => String(r.DOI).startsWith('10.1016/j.') && plainTitle(r) && (r.author?.length ?? 0) > 0)!;
  try {
    await cfg().update('contactEmail', undefined, vscode.ConfigurationTarget.Global);
    await waitFor(() => cfg().inspect<string>('contactEmail')?.globalValue === undefined, 5_000, 'the email to be unset');
    await api.firstRun.resetForTests({ dismissal: true });
    const uri = await writeWorkspaceFile(api, 'first-run/no-email.bib', bibEntry('noemail-1', record, { doi: true }));

    await vscode.commands.executeCommand('scholar.fetchPdfs', uri);
    assert.equal(api.firstRun.prompts.length, 1, 'no prompt when a job started without an email');
    assert.match(api.firstRun.prompts[0]!, /Unpaywall.*skipped/);
    assert.match(api.firstRun.prompts[0]!, /Crossref/);
    await screenshot('first-run-no-email', undefined, { belowTitleBar: true });

    // Once per window: a second job does not prompt again while the first prompt is undecided.
    await vscode.commands.executeCommand('scholar.fetchPdfs', uri);
    assert.equal(api.firstRun.prompts.length, 1, 'the second job prompted again');
    assert.equal(api.firstRun.dismissed, false);

    // Closing the notification dismisses it, and globalState remembers that.
    await vscode.commands.executeCommand('notifications.clearAll');
    await waitFor(() => api.firstRun.dismissed, 10_000, 'the dismissal to be stored');
    assert.equal(await api.firstRun.lastAnswer, undefined);

    // A later window (the per-window flag forgotten, globalState kept) is not asked again.
    await api.firstRun.resetForTests({ dismissal: false });
    assert.equal(api.firstRun.dismissed, true, `${NO_EMAIL_DISMISSED_KEY} was lost`);
    await vscode.commands.executeCommand('scholar.fetchPdfs', uri);
    assert.equal(api.firstRun.prompts.length, 0, 'prompted again after the dismissal');

    // With an email there is nothing to say, dismissed or not.
    await api.firstRun.resetForTests({ dismissal: true });
    await cfg().update('contactEmail', 'reader@example.org', vscode.ConfigurationTarget.Global);
    await waitFor(() => cfg().inspect<string>('contactEmail')?.globalValue === 'reader@example.org', 5_000, 'the email to be set');
    await vscode.commands.executeCommand('scholar.fetchPdfs', uri);
    assert.equal(api.firstRun.prompts.length, 0, 'prompted although an email is set');
  } finally {
    // Later tests (and their screenshots) must not meet the prompt.
    await api.firstRun.resetForTests({ dismissal: false });
    await vscode.commands.executeCommand('notifications.clearAll');
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 120_000 });

test('first run: screenshots of a thesis project in light, dark and high-contrast themes', async () => {
  const api = await scholarApi();
  const replay = await startReplay({ latencyMs: [5, 20] });
  const themeBefore = vscode.workspace.getConfiguration('workbench').inspect<string>('colorTheme')?.globalValue;
  try {
    const bib = await thesisProject(api);
    await vscode.commands.executeCommand('scholar.resolveAllDois', bib);
    const fetched = (await vscode.commands.executeCommand('scholar.fetchPdfs', bib)) as JobSummary | undefined;
    assert.ok(fetched, 'the fetch returned no summary');
    await vscode.commands.executeCommand('notifications.clearAll');
    const chapter = await vscode.workspace.openTextDocument(vscode.Uri.file(path.join(path.dirname(bib.fsPath), 'chapter2.tex')));

    for (const [theme, name] of [
      ['Default Light Modern', 'light'],
      ['Default Dark Modern', 'dark'],
      ['Default High Contrast', 'high-contrast'],
    ] as const) {
      await setTheme(theme);
      await closeAllEditors();
      // The library beside the chapter that cites it.
      await vscode.window.showTextDocument(chapter, { viewColumn: vscode.ViewColumn.One });
      await showScholarView();
      await vscode.commands.executeCommand('notifications.clearAll');
      await screenshot(`thesis-library-${name}`, undefined, { belowTitleBar: true });
      // The dashboard after the fetch, with its search box answering a query.
      api.dashboard.showSearch('entropy');
      await waitFor(() => (api.dashboard.lastRendered?.query === 'entropy' ? true : undefined), 15_000, 'the search results');
      await screenshot(`thesis-dashboard-${name}`, undefined, { belowTitleBar: true });
    }
  } finally {
    await setTheme(themeBefore);
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 240_000 });
