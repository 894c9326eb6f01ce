// A workspace of two folders (the runner's --multi-root pass opens test/fixtures/multiroot): with no
// folder given, Resolve All runs one job per folder, each on its own storage, and search, the tree
// filter and Rebuild Index see both libraries.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, waitFor } from './util';
import type { JobSummary } from '../../src/host/controller';
import { bibEntry, closeAllEditors, record, scholarApi, startReplay, treeEntries } from './scholar';

// Real journal articles of test/fixtures/corpus, written without their DOI; one in each folder.
const ALPHA = { key: 'mr-alpha', doi: '10.1007/s10468-019-09889-1' };
const BETA = { key: 'mr-beta', doi: '10.1007/s00382-019-04712-5' };

function folders(): [vscode.WorkspaceFolder, vscode.WorkspaceFolder] {
  const f = vscode.workspace.workspaceFolders ?? [];
  assert.equal(f.length, 2, 'this pass must open a workspace of two folders');
  return [f[0]!, f[1]!];
}

const byKey = (folder: vscode.WorkspaceFolder, key: string) => path.join(folder.uri.fsPath, 'storage', 'by_key', key);

/** A search word from the record's title that the other record's title lacks. */
function wordOf(doi: string, other: string): string {
  const mine = String(record(doi).title[0]).toLowerCase().match(/[a-z]{6,}/g) ?? [];
  const theirs = String(record(other).title[0]).toLowerCase();
  const w = mine.find((x) => !theirs.includes(x));
  assert.ok(w, `no distinctive word in the title of ${doi}`);
  return w;
}

if (process.env.SCHOLAR_TEST_MULTI_ROOT === '1') {
  test('multi-root: Resolve All runs one job per folder, each with its own storage; search, the tree filter and Rebuild Index see both', async () => {
    const api = await scholarApi();
    const [alpha, beta] = folders();
    const replay = await startReplay();
    try {
      const files = [
        { folder: alpha, e: ALPHA },
        { folder: beta, e: BETA },
      ].map(({ folder, e }) => {
        const uri = vscode.Uri.joinPath(folder.uri, 'refs.bib');
        const text = `% Copied from test/fixtures/corpus (a Crossref record), DOI removed.\n\n${bibEntry(e.key, record(e.doi))}`;
        return { uri, text };
      });
      // Written until the project model has read them (see writeWorkspaceFile in scholar.ts for why a write is repeated).
      await waitFor(async () => {
        for (const f of files) if (api.project.bibDoc(f.uri)?.file.text !== f.text) fs.writeFileSync(f.uri.fsPath, f.text);
        await new Promise((r) => setTimeout(r, 300));
        return files.every((f) => api.project.bibDoc(f.uri)?.file.text === f.text);
      }, 30_000, 'Scholar to read both folders\u2019 refs.bib');
      for (const f of [alpha, beta]) assert.ok(!fs.existsSync(path.join(f.uri.fsPath, 'storage')), `${f.name} starts without storage`);

      const summary = (await vscode.commands.executeCommand('scholar.resolveAllDois')) as JobSummary | undefined;
      assert.ok(summary, 'the command returned no summary (see the Scholar log)');
      assert.equal(summary.jobs.length, 2, 'one job per workspace folder');
      assert.equal(summary.written, 2, `DOIs written: ${summary.written}; refused: ${JSON.stringify(summary.refused)}`);
      // Each entry is filed under its own folder's storage, and only there.
      assert.ok(fs.existsSync(path.join(byKey(alpha, ALPHA.key), 'metadata.json')), `${ALPHA.key} in ${alpha.name}/storage`);
      assert.ok(fs.existsSync(path.join(byKey(beta, BETA.key), 'metadata.json')), `${BETA.key} in ${beta.name}/storage`);
      assert.ok(!fs.existsSync(byKey(alpha, BETA.key)), `${BETA.key} must not be filed under ${alpha.name}'s storage`);
      assert.ok(!fs.existsSync(byKey(beta, ALPHA.key)), `${ALPHA.key} must not be filed under ${beta.name}'s storage`);
      for (const [f, e] of [[alpha, ALPHA], [beta, BETA]] as const) {
        assert.match(fs.readFileSync(vscode.Uri.joinPath(f.uri, 'refs.bib').fsPath, 'utf8'), new RegExp(`doi\\s*=\\s*\\{${e.doi.replace(/[./]/g, '\\$&')}\\}`, 'i'), `${e.key}'s DOI written in ${f.name}/refs.bib`);
      }
      assert.equal(api.controller.lastReport?.message, 'Scholar: 2 DOIs added.');
      // From the palette, but short: the progress was drawn on the library view.
      assert.deepEqual(api.controller.lastProgress, { place: 'view', viewId: 'scholar.library', automatic: false });
      // The tree and the hovers read each entry's metadata from its own folder's library.
      assert.equal(api.session.metadata(ALPHA.key)?.doi, ALPHA.doi, `${ALPHA.key}'s metadata (folder 1)`);
      assert.equal(api.session.metadata(BETA.key)?.doi, BETA.doi, `${BETA.key}'s metadata (folder 2)`);

      // Search (the dashboard's and the tree filter's) finds the entries of both libraries.
      const a = wordOf(ALPHA.doi, BETA.doi);
      const b = wordOf(BETA.doi, ALPHA.doi);
      assert.ok((await api.controller.searchHits(a, 50)).hits.some((h) => h.key === ALPHA.key), `search "${a}" finds ${ALPHA.key} (folder 1)`);
      assert.ok((await api.controller.searchHits(b, 50)).hits.some((h) => h.key === BETA.key), `search "${b}" finds ${BETA.key} (folder 2)`);
      const filtered = (await vscode.commands.executeCommand('scholar.searchLibrary', b)) as string[] | undefined;
      assert.deepEqual(filtered, [BETA.key], 'the tree filter finds the second folder\u2019s entry');
      assert.equal(treeEntries(api, files[1]!.uri).length, 1);
      assert.equal(treeEntries(api, files[0]!.uri).length, 0, 'the other folder\u2019s entry is filtered out');
      await vscode.commands.executeCommand('scholar.clearFilter');

      // Rebuild Index rebuilds both libraries from their own folders.
      const reports = (await vscode.commands.executeCommand('scholar.rebuildIndex')) as { folder: string; count: number; errors: unknown[] }[];
      assert.ok(Array.isArray(reports), `one report per folder, got ${JSON.stringify(reports)}`);
      assert.deepEqual(reports.map((r) => [r.folder, r.count, r.errors.length]), [[alpha.name, 1, 0], [beta.name, 1, 0]]);
      assert.ok((await api.controller.searchHits(b, 50)).hits.some((h) => h.key === BETA.key), 'after the rebuild the second folder\u2019s entry is still found');
    } finally {
      await closeAllEditors();
      await replay.dispose();
    }
  }, { timeoutMs: 120_000 });
}
