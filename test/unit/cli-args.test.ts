import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../src/cli/args';
import { runCli } from '../../src/cli/main';
import { Writable } from 'node:stream';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

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
