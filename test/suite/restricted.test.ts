// Restricted Mode (an untrusted folder). This file is loaded only by the runner's --restricted pass,
// which opens the workspace without trusting it: Scholar must read and show, send nothing, write nothing.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { test, waitFor, workspaceRoot } from './util';
import { scholarApi, SERVICES } from './scholar';

// Registered only in the --restricted pass: in the ordinary pass the folder is trusted and the other
// tests run instead.
if (process.env.SCHOLAR_TEST_RESTRICTED === '1') test('restricted: in an untrusted folder Scholar shows the library and hovers but sends no request and writes nothing', async () => {
  assert.equal(vscode.workspace.isTrusted, false, 'this pass must run in Restricted Mode');
  const api = await scholarApi();
  // A capture server as every endpoint: any request Scholar made would land here.
  let requests = 0;
  const capture = http.createServer((_req, res) => {
    requests++;
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(capture.address() as AddressInfo).port}`;
  const cfg = vscode.workspace.getConfiguration('scholar');
  try {
    for (const s of SERVICES) await cfg.update(`endpoints.${s}`, url, vscode.ConfigurationTarget.Global);
    await api.project.ready();
    // It reads and shows: the tree lists the .bib and its entries, and a hover works.
    await waitFor(() => api.tree.getChildren().some((n) => n.kind === 'bib'), 10_000, 'the .bib in the tree');
    const bibNode = api.tree.getChildren().find((n) => n.kind === 'bib')!;
    assert.ok(api.tree.getChildren(bibNode).length >= 4);
    const tex = vscode.Uri.file(path.join(workspaceRoot(), 'main.tex'));
    const doc = await vscode.workspace.openTextDocument(tex);
    const at = doc.getText().indexOf('glashow');
    const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', tex, doc.positionAt(at + 2))) as vscode.Hover[];
    assert.ok(hovers.length > 0, 'a hover on a cited key');
    // It sends nothing and writes nothing, whatever is asked.
    for (const c of ['scholar.resolveAllDois', 'scholar.fetchPdfs', 'scholar.rebuildIndex', 'scholar.checkDois', 'scholar.upgradePreprints']) {
      await vscode.commands.executeCommand(c, vscode.Uri.file(path.join(workspaceRoot(), 'refs.bib')));
    }
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(requests, 0, 'no request reached the capture server');
    assert.ok(!fs.existsSync(path.join(workspaceRoot(), 'storage')), 'no storage folder was created');
    assert.doesNotMatch(fs.readFileSync(path.join(workspaceRoot(), 'refs.bib'), 'utf8'), /scholar/i);
  } finally {
    for (const s of SERVICES) await cfg.update(`endpoints.${s}`, undefined, vscode.ConfigurationTarget.Global);
    capture.close();
  }
}, { timeoutMs: 60_000 });
