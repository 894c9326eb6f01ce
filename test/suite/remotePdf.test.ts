// Remote windows: code-server is one (the extension host and the files are on the server, the
// window in a browser), like Remote-SSH, WSL and Codespaces. There `scholar.pdf.viewer: system`
// cannot hand a server path to the viewer of the machine in front of the user, so Open PDF shows
// Scholar's own viewer; in a local window the system viewer is used as configured.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { closeAllEditors, keyDir, repoRoot, scholarApi, startReplay, writeWorkspaceFile } from './scholar';
import { sleep, test } from './util';

test('remote: with scholar.pdf.viewer set to system, Open PDF in a remote window shows Scholar’s viewer instead', async () => {
  const api = await scholarApi();
  const replay = await startReplay({ latencyMs: [5, 20] });
  const cfg = () => vscode.workspace.getConfiguration('scholar');
  const viewerBefore = cfg().inspect<string>('pdf.viewer')?.globalValue;
  try {
    // One real entry of examples/thesis whose open-access PDF the replay server has.
    const thesis = fs.readFileSync(path.join(repoRoot(), 'examples', 'thesis', 'refs.bib'), 'utf8');
    const entry = /@article\{xiong2022,[\s\S]*?\n\}\n/.exec(thesis)?.[0];
    assert.ok(entry, 'xiong2022 is not in examples/thesis/refs.bib');
    const uri = await writeWorkspaceFile(api, 'remote/remote.bib', entry);
    await vscode.commands.executeCommand('scholar.resolveAllDois', uri);
    await vscode.commands.executeCommand('scholar.fetchPdfs', uri);
    const file = path.join(keyDir('xiong2022'), 'paper.pdf');
    assert.ok(fs.existsSync(file), 'the fetch stored no PDF for xiong2022');

    await cfg().update('pdf.viewer', 'system', vscode.ConfigurationTarget.Global);
    api.pdfViewer.rendered.delete(file);
    const opened = await vscode.commands.executeCommand('scholar.openPdf', 'xiong2022');
    if (vscode.env.remoteName) {
      assert.ok(opened instanceof vscode.Uri && opened.fsPath === file, `Open PDF returned ${String(opened)}`);
      const pages = await Promise.race([api.pdfViewer.whenRendered(file), sleep(30_000).then(() => -1)]);
      assert.ok(pages >= 1, `Scholar's viewer rendered ${pages} pages in the remote window (${vscode.env.remoteName})`);
    } else {
      // A local window: the system viewer got the file (openExternal answers true or false), Scholar's did not.
      assert.equal(typeof opened, 'boolean', `Open PDF returned ${String(opened)}`);
      await sleep(1_000);
      assert.equal(api.pdfViewer.rendered.has(file), false, "Scholar's viewer opened although the system viewer was asked for");
    }
    assert.deepEqual(vscode.extensions.getExtension('scholar-dev.scholar')!.packageJSON.extensionKind, ['workspace']);
  } finally {
    await cfg().update('pdf.viewer', viewerBefore, vscode.ConfigurationTarget.Global);
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 120_000 });
