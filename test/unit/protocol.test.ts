// The dashboard's inbound messages: everything the webview sends is validated before the host uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_QUERY_LENGTH, parseWebviewMessage } from '../../src/shared/protocol';

test('valid messages pass with only their known fields', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready', extra: 1 }), { type: 'ready' });
  assert.deepEqual(parseWebviewMessage({ type: 'command', command: 'retryReason', reason: 'E_TIMEOUT' }), { type: 'command', command: 'retryReason', reason: 'E_TIMEOUT' });
  assert.deepEqual(parseWebviewMessage({ type: 'search', id: 3, query: 'entropy year:2000..' }), { type: 'search', id: 3, query: 'entropy year:2000..' });
  assert.deepEqual(parseWebviewMessage({ type: 'open', key: 'knuth:1984', what: 'pdf' }), { type: 'open', key: 'knuth:1984', what: 'pdf' });
  assert.deepEqual(parseWebviewMessage({ type: 'searchRendered', id: 0, query: '', keys: [] }), { type: 'searchRendered', id: 0, query: '', keys: [] });
});

test('malformed or hostile messages are dropped', () => {
  const bad: unknown[] = [
    null,
    'ready',
    { type: 'command', command: 'rm -rf' },
    { type: 'command', command: 'retryReason', reason: '<script>' }, // kept, but without the reason
    { type: 'search', id: -1, query: 'x' },
    { type: 'search', id: 1.5, query: 'x' },
    { type: 'search', id: 1, query: 'x'.repeat(MAX_QUERY_LENGTH + 1) },
    { type: 'search', id: 1, query: { toString: () => 'x' } },
    { type: 'open', key: '', what: 'pdf' },
    { type: 'open', key: 'k', what: 'file:///etc/passwd' },
    { type: 'open', key: 'k'.repeat(1001), what: 'bib' },
    { type: 'searchRendered', id: 1, query: 'q', keys: [1, 2] },
    { type: 'searchRendered', id: 1, keys: ['a'] },
  ];
  for (const m of bad) {
    const r = parseWebviewMessage(m);
    if (r?.type === 'command') assert.equal(r.reason, undefined, JSON.stringify(m));
    else assert.equal(r, undefined, JSON.stringify(m));
  }
});

test('the live status report is validated like every other message', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'announced', text: 'Fetch PDFs: 3 of 12 done (running).', live: ['job-status', 'search-status'], x: 1 }), {
    type: 'announced',
    text: 'Fetch PDFs: 3 of 12 done (running).',
    live: ['job-status', 'search-status'],
  });
  for (const bad of [
    { type: 'announced', text: 3, live: [] },
    { type: 'announced', text: 'x', live: 'job-status' },
    { type: 'announced', text: 'x', live: [1] },
    { type: 'announced', text: 'x'.repeat(1001), live: [] },
  ]) assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
});
