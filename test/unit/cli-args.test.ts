import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../src/cli/args';
import { runCli } from '../../src/cli/main';
import { cliNetwork } from '../../src/cli/commands';
import { sink } from './cli-helpers';


test('parses a command with its flags', () => {
  const o = parseArgs(['fetch', 'refs.bib', '--storage', 'lib', '--endpoint', 'crossref=http://127.0.0.1:9/cr/', '--endpoint=arxiv=https://mirror.example/arxiv', '--mailto', 'a@b.org', '--json', '--dry-run']);
  assert.equal(o.command, 'fetch');
  assert.deepEqual(o.positionals, ['refs.bib']);
  assert.equal(o.storage, 'lib');
  assert.deepEqual(o.endpoints, { crossref: 'http://127.0.0.1:9/cr', arxiv: 'https://mirror.example/arxiv' });
  assert.equal(o.mailto, 'a@b.org');
  assert.equal(o.json, true);
  assert.equal(o.dryRun, true);
});

test('defaults the storage folder to ./storage', () => {
  assert.equal(parseArgs(['check']).storage, 'storage');
});

test('rejects unknown services, non-http endpoints and bad emails with E_USAGE', () => {
  for (const argv of [
    ['fetch', 'a.bib', '--endpoint', 'google=http://x'],
    ['fetch', 'a.bib', '--endpoint', 'crossref=file:///etc/passwd'],
    ['fetch', 'a.bib', '--endpoint', 'crossref'],
    ['fetch', 'a.bib', '--mailto', 'nobody'],
    ['frobnicate'],
    ['fetch'],
    ['index', 'drop'],
    ['search'],
    ['fetch', 'a.bib', '--storage'],
  ]) {
    assert.throws(() => parseArgs(argv), (e: unknown) => (e as { code?: string }).code === 'E_USAGE', argv.join(' '));
  }
});

test('--help prints the contract and exits 0; a usage error exits 2 with a one-line reason', async () => {
  const out = sink();
  const err = sink();
  const io = { stdout: out.stream, stderr: err.stream, cwd: process.cwd(), env: {}, signal: new AbortController().signal };
  assert.equal(await runCli(['--help'], io), 0);
  for (const word of ['resolve', 'fetch', 'check', 'index rebuild', 'search', '--storage', '--endpoint', '--mailto', '--json', '--dry-run']) {
    assert.ok(out.text().includes(word), `help mentions ${word}`);
  }
  assert.equal(await runCli(['fetch'], io), 2);
  assert.match(err.text(), /^scholar: fetch takes one \.bib file or folder\n/);
});

test('--proxy and --limit: parsed, validated, listed in --help', async () => {
  const o = parseArgs(['resolve', 'a.bib', '--proxy', 'http://user:secret@proxy.example:3128', '--limit', 'crossref=20/5', '--limit=semanticScholar=0.5', '--limit', 'pdf=4']);
  assert.equal(o.proxy, 'http://user:secret@proxy.example:3128/');
  assert.deepEqual(o.limits, { crossref: { requestsPerSecond: 20, concurrency: 5 }, semanticScholar: { requestsPerSecond: 0.5 }, pdf: { requestsPerSecond: 4 } });
  assert.equal(parseArgs(['resolve', 'a.bib', '--proxy', 'none']).proxy, null);
  assert.equal(parseArgs(['resolve', 'a.bib', '--proxy', 'proxy.example:8080']).proxy, 'http://proxy.example:8080/');
  assert.equal(parseArgs(['resolve', 'a.bib']).proxy, undefined);
  for (const argv of [
    ['resolve', 'a.bib', '--limit', 'google=3'],
    ['resolve', 'a.bib', '--limit', 'crossref=0'],
    ['resolve', 'a.bib', '--limit', 'crossref=fast'],
    ['resolve', 'a.bib', '--limit', 'crossref=3/0'],
    ['resolve', 'a.bib', '--proxy', 'socks5://127.0.0.1:1080'],
  ]) {
    assert.throws(() => parseArgs(argv), (e: unknown) => (e as { code?: string }).code === 'E_USAGE', argv.join(' '));
  }
  // A rejected proxy URL is named without its credentials.
  assert.throws(() => parseArgs(['resolve', 'a.bib', '--proxy', 'ftp://user:secret@p.example']), (e: unknown) => !String((e as Error).message).includes('secret'));
  const out = sink();
  const io = { stdout: out.stream, stderr: sink().stream, cwd: process.cwd(), env: {}, signal: new AbortController().signal };
  assert.equal(await runCli(['--help'], io), 0);
  for (const word of ['--proxy URL|none', '--limit SERVICE=RATE[/CONCURRENCY]', 'HTTPS_PROXY', 'NO_PROXY', 'semanticScholar']) assert.ok(out.text().includes(word), `help mentions ${word}`);
});

test('proxy from the environment: either case, HTTPS_PROXY falling back to HTTP_PROXY, --proxy none ignores it', () => {
  assert.deepEqual(cliNetwork({}, { HTTPS_PROXY: 'http://p.example:1', NO_PROXY: 'localhost,.internal' }), { httpProxy: undefined, httpsProxy: 'http://p.example:1/', noProxy: ['localhost', '.internal'] });
  assert.deepEqual(cliNetwork({}, { http_proxy: 'http://q.example:2', no_proxy: '*' }), { httpProxy: 'http://q.example:2/', httpsProxy: 'http://q.example:2/', noProxy: ['*'] });
  // Lower case wins, as curl reads it.
  assert.equal(cliNetwork({}, { https_proxy: 'http://lower.example:1', HTTPS_PROXY: 'http://upper.example:1' }).httpsProxy, 'http://lower.example:1/');
  assert.deepEqual(cliNetwork({ proxy: null }, { HTTPS_PROXY: 'http://p.example:1' }), {});
  assert.equal(cliNetwork({ proxy: 'http://flag.example:9/' }, { HTTPS_PROXY: 'http://p.example:1' }).httpProxy, 'http://flag.example:9/');
});
