import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../src/cli/args';

const usageError = (argv: string[]): string => {
  try {
    parseArgs(argv);
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'E_USAGE');
    return (err as Error).message;
  }
  assert.fail(`no usage error for ${argv.join(' ')}`);
};

test('a flag whose value was forgotten says so, also when the next word is another flag', () => {
  assert.equal(usageError(['fetch', 'refs.bib', '--storage']), '--storage needs a value');
  assert.equal(usageError(['fetch', 'refs.bib', '--bib', '--json']), '--bib needs a value');
  // An inline value may be anything, even empty or dash-led.
  assert.equal(parseArgs(['fetch', 'refs.bib', '--storage=--odd']).storage, '--odd');
  assert.equal(parseArgs(['fetch', 'refs.bib', '--storage', '-']).storage, '-');
});

test('unknown options are named as written, in the order written, before later problems', () => {
  assert.equal(usageError(['fetch', '--bogus=1', 'x.bib', '--storage']), 'unknown option --bogus=1');
  assert.equal(usageError(['-hx']), 'unknown option -hx');
  assert.equal(usageError(['-5']), 'unknown option -5');
  assert.equal(usageError(['resolve', '--', 'x.bib']), 'unknown option --');
  assert.equal(usageError(['frobnicate']), 'unknown command frobnicate');
});

test('--help wins wherever it stands once the words before it are valid; repeatable flags accumulate', () => {
  assert.equal(parseArgs(['fetch', '-h', '--bogus']).command, 'help');
  assert.equal(parseArgs(['--json=yes', '--help']).command, 'help');
  const o = parseArgs(['fetch', 'x.bib', '--limit', 'crossref=20/5', '--limit=openalex=3', '--endpoint', 'doi=http://127.0.0.1:9/', '--json']);
  assert.deepEqual(o.limits, { crossref: { requestsPerSecond: 20, concurrency: 5 }, openalex: { requestsPerSecond: 3 } });
  assert.deepEqual(o.endpoints, { doi: 'http://127.0.0.1:9' });
  assert.equal(o.json, true);
  assert.deepEqual(o.positionals, ['x.bib']);
});
