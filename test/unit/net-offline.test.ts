// No network, and OpenAlex's 2026 terms: one line per service that cannot be asked, the job ends
// promptly, other sources carry on, and what failed this way is retried by the next run.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/main';
import { ScholarHttp } from '../../src/core/net/http';
import type { NetIssue } from '../../src/core/net/issues';
import * as openalex from '../../src/core/sources/openalex';
import { startReplayServer, type ReplayServer } from '../../src/replay/server';
import { freePort } from './net-helpers';
import { sink } from './cli-helpers';

const repo = path.resolve(__dirname, '../..');
const SERVICES = ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi'];
let replay: ReplayServer;

before(async () => {
  replay = await startReplayServer({ fixturesDir: path.join(repo, 'test/fixtures') });
});
after(async () => {
  await replay.close();
});


async function cli(cwd: string, endpoints: Record<string, string>, args: string[], env: Record<string, string> = {}) {
  const out = sink();
  const err = sink();
  const flags = Object.entries(endpoints).flatMap(([n, u]) => ['--endpoint', `${n}=${u}`]);
  const t0 = Date.now();
  const code = await runCli([...args, ...flags, '--mailto', 'test@scholar.invalid'], { stdout: out.stream, stderr: err.stream, cwd, env, signal: new AbortController().signal });
  return { code, stdout: out.text(), stderr: err.text(), ms: Date.now() - t0 };
}

function thesis(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-offline-'));
  cpSync(path.join(repo, 'examples/thesis'), dir, { recursive: true });
  return dir;
}

describe('no network', () => {
  it('a 27-entry resolve ends in under 10 s with one line per unreachable service, and the next run retries', async () => {
    const dir = thesis();
    const before = readFileSync(path.join(dir, 'refs.bib'), 'utf8');
    assert.equal((before.match(/^@/gm) ?? []).length, 27);
    const closed = `http://127.0.0.1:${await freePort()}`;
    // A closed port for most services, an unresolvable host for the others (.invalid never resolves).
    const dead: Record<string, string> = {};
    for (const s of SERVICES) dead[s] = s === 'unpaywall' || s === 'semanticScholar' ? `http://${s.toLowerCase()}.scholar-offline.invalid` : `${closed}/${s}`;
    const r = await cli(dir, dead, ['resolve', '.']);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    const serviceLines = lines.filter((l) => l.startsWith('scholar: '));
    // One line per service that was asked, each naming its host, the cause and the fix.
    assert.ok(serviceLines.length >= 1 && serviceLines.length <= SERVICES.length, r.stderr);
    assert.equal(new Set(serviceLines).size, serviceLines.length, 'no line twice');
    for (const l of serviceLines) assert.match(l, /cannot be reached: (connection refused \(ECONNREFUSED\)|DNS lookup failed \((ENOTFOUND|EAI_AGAIN)\)).*offline, or behind a proxy\? Set HTTPS_PROXY/);
    assert.ok(serviceLines.some((l) => l.includes(new URL(closed).host)));
    assert.ok(!/^ {2}failed: /m.test(r.stderr), `no line per entry:\n${r.stderr}`);
    assert.match(r.stderr, /^ {2}\d+ entries not resolved because a service could not be asked/m);
    assert.ok(lines.length <= serviceLines.length + 3, r.stderr);
    assert.equal(readFileSync(path.join(dir, 'refs.bib'), 'utf8'), before, 'nothing written');

    // Back online: the same command resolves the entries that failed (nothing remembered them as "not found").
    const live = Object.fromEntries(SERVICES.map((s) => [s, (replay.endpoints as Record<string, string>)[s]]));
    const again = await cli(dir, live, ['resolve', '.', '--json']);
    const report = JSON.parse(again.stdout) as { entries: { outcome: string }[]; servicesDown: unknown[] };
    assert.deepEqual(report.servicesDown, []);
    assert.equal(report.entries.filter((e) => e.outcome === 'failed').length, 0, again.stderr);
    assert.ok(report.entries.filter((e) => e.outcome === 'accept').length > 0);
  });

  it('--json names the failed entries with the code, retryable, and the services once', async () => {
    const dir = thesis();
    const closed = `http://127.0.0.1:${await freePort()}`;
    const dead = Object.fromEntries(SERVICES.map((s) => [s, `${closed}/${s}`]));
    const r = await cli(dir, dead, ['fetch', '.', '--json']);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    const report = JSON.parse(r.stdout) as { entries: { outcome: string; reason: string | null; permanent: boolean | null }[]; servicesDown: NetIssue[] };
    const failed = report.entries.filter((e) => e.outcome === 'failed');
    assert.ok(failed.length > 0);
    for (const e of failed) {
      assert.ok(['E_UNREACHABLE'].includes(e.reason ?? ''), JSON.stringify(e));
      assert.equal(e.permanent, false);
    }
    assert.equal(new Set(report.servicesDown.map((i) => i.service)).size, report.servicesDown.length);
  });
});

describe("OpenAlex's usage budget and key", () => {
  const TITLE = 'Sinusoidal order pattern in liquid crystal';

  it('reads X-RateLimit-* and, once searches are unaffordable, stops searching but keeps the free lookups', async () => {
    replay.setOptions({ openalexBudget: { anonymousUsd: 0.002 } });
    replay.resetStats();
    const http = new ScholarHttp({ endpoints: replay.endpoints });
    const issues: NetIssue[] = [];
    const scope = http.beginScope((i) => issues.push(i));
    try {
      await openalex.searchByTitle(http, TITLE);
      await openalex.searchByTitle(http, TITLE);
      const b = http.stats().openalex.budget!;
      assert.equal(b.limitUsd, 0.002);
      assert.equal(b.remainingUsd, 0);
      assert.ok(b.resetSeconds! > 0);
      const sent = replay.stats().requests.openalex;
      await assert.rejects(openalex.searchByTitle(http, TITLE), (e: { code?: string }) => e.code === 'E_QUOTA_EXHAUSTED');
      assert.equal(replay.stats().requests.openalex, sent, 'the third search is not sent');
      assert.ok((await openalex.workByDoi(http, '10.1063/1.4938384')) !== null, 'singleton lookups are free and go on');
      assert.equal(replay.stats().status429.openalex ?? 0, 0);
      assert.equal(issues.length, 1);
      assert.equal(issues[0].code, 'E_QUOTA_EXHAUSTED');
    } finally {
      scope.end();
      await http.close();
      replay.setOptions({ openalexBudget: undefined });
    }
  });

  it('a 429 for a spent allowance stops OpenAlex for the rest of the job, said once', async () => {
    replay.setOptions({ openalexBudget: { anonymousUsd: 0.0015 } });
    replay.resetStats();
    const http = new ScholarHttp({ endpoints: replay.endpoints });
    const issues: NetIssue[] = [];
    const scope = http.beginScope((i) => issues.push(i));
    try {
      await openalex.searchByTitle(http, TITLE);
      await assert.rejects(openalex.searchByTitle(http, TITLE), (e: { code?: string }) => e.code === 'E_QUOTA_EXHAUSTED');
      assert.equal(replay.stats().status429.openalex, 1, 'not retried');
      const sent = replay.stats().requests.openalex;
      await assert.rejects(openalex.workByDoi(http, '10.1063/1.4938384'), (e: { code?: string }) => e.code === 'E_QUOTA_EXHAUSTED');
      assert.equal(replay.stats().requests.openalex, sent, 'nothing more is sent to OpenAlex');
      assert.equal(issues.length, 1);
      assert.match(issues[0].cause, /daily allowance used up/);
    } finally {
      scope.end();
      await http.close();
      replay.setOptions({ openalexBudget: undefined });
    }
  });

  it('a refusal for lack of a key: resolve carries on with the other sources and says once how to add a key', async () => {
    replay.setOptions({ openalexBudget: { requireKey: true, validKeys: ['good-key'] } });
    try {
      const live = Object.fromEntries(SERVICES.map((s) => [s, (replay.endpoints as Record<string, string>)[s]]));
      const r = await cli(thesis(), live, ['resolve', '.', '--json']);
      const report = JSON.parse(r.stdout) as { entries: { outcome: string }[]; servicesDown: NetIssue[] };
      assert.deepEqual(report.servicesDown.map((i) => [i.service, i.code]), [['openalex', 'E_KEY_REQUIRED']]);
      assert.equal((r.stderr.match(/OpenAlex/g) ?? []).length, 1, r.stderr);
      assert.match(r.stderr, /set OPENALEX_API_KEY/);
      assert.ok(report.entries.filter((e) => e.outcome === 'accept').length > 0, 'Crossref still resolves');
      // A wrong key is named as such.
      const http = new ScholarHttp({ endpoints: replay.endpoints, apiKeys: { openalex: 'bad-key' } });
      const scope = http.beginScope();
      await assert.rejects(openalex.workByDoi(http, '10.1063/1.4938384'), (e: { code?: string }) => e.code === 'E_KEY_REQUIRED');
      assert.match(scope.issues[0].cause, /the API key was not accepted/);
      scope.end();
      await http.close();
      // With a valid key from the environment, nothing is refused.
      const ok = await cli(thesis(), live, ['resolve', '.', '--json'], { OPENALEX_API_KEY: 'good-key' });
      assert.deepEqual((JSON.parse(ok.stdout) as { servicesDown: unknown[] }).servicesDown, []);
    } finally {
      replay.setOptions({ openalexBudget: undefined });
    }
  });
});
