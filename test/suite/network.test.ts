// Networks in a real VS Code: Scholar's requests follow VS Code's `http.proxy` (through a real
// tinyproxy, whose own log is the evidence) and its changes without a reload, and a job that finds
// its services unreachable says so once, with Open Settings and Show Log.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import { test, waitFor } from './util';
import type { JobSummary } from '../../src/host/controller';
import { bibEntry, closeAllEditors, record, scholarApi, SERVICES, startReplay, writeWorkspaceFile } from './scholar';
import { freePort, startTinyproxy } from '../unit/net-helpers';

const http = () => vscode.workspace.getConfiguration('http');

test('network: http.proxy routes every request through the proxy, and clearing it goes direct without a reload', async () => {
  const api = await scholarApi();
  const proxy = await startTinyproxy();
  const replay = await startReplay();
  const before = http().inspect<string>('proxy')?.globalValue;
  try {
    await http().update('proxy', proxy.url, vscode.ConfigurationTarget.Global);
    await waitFor(() => http().inspect<string>('proxy')?.globalValue === proxy.url, 10_000, 'http.proxy to apply');
    const uri = await writeWorkspaceFile(api, 'network/via-proxy.bib', bibEntry('net-proxied2019', record('10.1007/s10468-019-09889-1')));
    const s1 = (await vscode.commands.executeCommand('scholar.resolveAllDois', uri)) as JobSummary | undefined;
    assert.ok(s1, 'the resolve command returned no summary');
    assert.equal(s1.written, 1, JSON.stringify(s1.job.snapshot().stats.outcomes));
    const through = proxy.requests().filter((l) => l.startsWith(`GET ${replay.server.origin}/crossref/`));
    assert.ok(through.length >= 1, `the proxy saw no Crossref request:\n${proxy.log()}`);
    const served = replay.server.stats().log.length;
    assert.equal(proxy.requests().filter((l) => l.startsWith(`GET ${replay.server.origin}/`)).length, served, 'every request the server saw went through the proxy');

    // Cleared: the next job goes direct, in the same window, without a reload.
    await http().update('proxy', undefined, vscode.ConfigurationTarget.Global);
    await waitFor(() => !http().inspect<string>('proxy')?.globalValue, 10_000, 'http.proxy to clear');
    const seen = proxy.requests().length;
    const uri2 = await writeWorkspaceFile(api, 'network/direct.bib', bibEntry('net-direct2019', record('10.1007/s00382-019-04712-5')));
    const s2 = (await vscode.commands.executeCommand('scholar.resolveAllDois', uri2)) as JobSummary | undefined;
    assert.equal(s2?.written, 1);
    assert.ok(replay.server.stats().log.length > served, 'the second job reached the server');
    assert.equal(proxy.requests().length, seen, 'nothing more went through the proxy');
  } finally {
    await http().update('proxy', before, vscode.ConfigurationTarget.Global);
    await closeAllEditors();
    await replay.dispose();
    await proxy.stop();
  }
}, { timeoutMs: 120_000 });

test('network: with every service unreachable, one notification with Open Settings and Show Log, and the entries stay retryable', async () => {
  const api = await scholarApi();
  const replay = await startReplay();
  const cfg = () => vscode.workspace.getConfiguration('scholar');
  const closed = `http://127.0.0.1:${await freePort()}`;
  try {
    for (const s of SERVICES) await cfg().update(`endpoints.${s}`, `${closed}/${s}`, vscode.ConfigurationTarget.Global);
    await waitFor(() => cfg().inspect<string>('endpoints.crossref')?.globalValue === `${closed}/crossref`, 10_000, 'the dead endpoints to apply');
    const keys = ['net-off-a2019', 'net-off-b2019', 'net-off-c2016'];
    const dois = ['10.1007/s10468-019-09889-1', '10.1007/s00382-019-04712-5', '10.1007/s10827-016-0622-8'];
    const uri = await writeWorkspaceFile(api, 'network/offline.bib', keys.map((k, i) => bibEntry(k, record(dois[i]))).join('\n'));
    const noticesBefore = api.session.netNotices.length;
    const t0 = Date.now();
    const summary = (await vscode.commands.executeCommand('scholar.resolveAllDois', uri)) as JobSummary | undefined;
    assert.ok(summary);
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    await waitFor(() => api.session.netNotices.length > noticesBefore, 5000, 'the notification');
    await new Promise((r) => setTimeout(r, 1000));
    const notices = api.session.netNotices.slice(noticesBefore);
    assert.equal(notices.length, 1, JSON.stringify(notices));
    assert.deepEqual(notices[0].actions, ['Open Settings', 'Show Log']);
    assert.match(notices[0].text, /cannot be reached: connection refused/);
    assert.match(notices[0].text, /http\.proxy/);
    assert.equal(notices[0].issues[0].host, new URL(closed).host);
    assert.deepEqual(summary.job.failedEntries().map((e) => e.key).sort(), [...keys].sort(), 'every entry failed and can be retried');
  } finally {
    await closeAllEditors();
    await replay.dispose();
  }
}, { timeoutMs: 60_000 });
