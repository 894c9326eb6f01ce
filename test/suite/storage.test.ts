// Two processes on one storage folder: the CLI fetching into the workspace's storage while VS Code
// has the library open. What the CLI writes, the editor's index picks up, and the tree shows it.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { test, waitFor } from './util';
import { bibEntry, record, repoRoot, scholarApi, startReplay, storageRoot, writeWorkspaceFile, SERVICES } from './scholar';

test('storage: PDFs stored by the CLI in another process appear in the editor\u2019s library', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  try {
    const key = 'cli-miranda2020';
    const uri = await writeWorkspaceFile(api, 'cli/cli.bib', bibEntry(key, record('10.1002/aqc.3262'), { doi: true }));
    // The editor has the library open (as after any job), with nothing stored for this key yet.
    const folder = vscode.workspace.getWorkspaceFolder(uri)!;
    const index = await api.session.indexFor(folder);
    assert.ok(index, 'the library did not open');
    assert.equal(index.get(key)?.pdf, undefined);

    const args = [path.join(repoRoot(), 'dist/cli.js'), 'fetch', uri.fsPath, '--storage', storageRoot(), '--mailto', 'scholar-tests@example.org', '--json'];
    for (const s of SERVICES) args.push('--endpoint', `${s}=${replay.server.endpoints[s]}`);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0, `the CLI exited with ${code}: ${out}`);
    assert.equal(JSON.parse(out).entries[0].outcome, 'stored');

    await waitFor(() => api.tree.status(key).pdfState === 'stored', 20_000, 'the tree to show the PDF the CLI stored');
    // OpenAlex has this gold PDF, so Unpaywall (the fallback since issue 17) is not asked.
    assert.equal(api.session.metadata(key)?.pdf?.source, 'openalex');
  } finally {
    await replay.dispose();
  }
}, { timeoutMs: 90_000 });
