import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { errorCode } from '../../src/core/errors';
import { ScholarHttp, redactUrl, type HttpLogEvent } from '../../src/core/net/http';
import { backoffDelay, parseIntervalHeader, parseRetryAfter } from '../../src/core/net/policy';
import * as crossref from '../../src/core/sources/crossref';
import { startReplayServer, type ReplayServer } from '../../src/replay';

const EMAIL = 'tester@example.org';
let replay: ReplayServer;
const clients: ScholarHttp[] = [];

function client(extra: ConstructorParameters<typeof ScholarHttp>[0] = {}): ScholarHttp {
  const c = new ScholarHttp({ email: EMAIL, endpoints: replay.endpoints, ...extra });
  clients.push(c);
  return c;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return errorCode(err);
  }
  return 'OK';
}

before(async () => {
  replay = await startReplayServer();
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await replay.close();
});
beforeEach(() => {
  replay.setOptions({ faults: [], limits: {}, latencyMs: [0, 0] });
  replay.resetStats();
});

describe('policy helpers', () => {
  it('parses Retry-After seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('garbage'), undefined);
    assert.equal(parseIntervalHeader('1s'), 1000);
    assert.equal(parseIntervalHeader('250ms'), 250);
  });
  it('backoff grows and stays jittered within [exp/2, exp]', () => {
    const p = { backoffBaseMs: 100, backoffMaxMs: 10_000 };
    assert.equal(backoffDelay(0, p, () => 0), 50);
    assert.equal(backoffDelay(3, p, () => 1), 800);
    assert.equal(backoffDelay(20, p, () => 1), 10_000);
  });
  it('redacts email and keys from URLs', () => {
    const r = redactUrl('https://api.crossref.org/works?mailto=a%40b.c&query=x&api_key=SECRET');
    assert.ok(!r.includes('a%40b.c') && !r.includes('SECRET'));
    assert.ok(r.includes('query=x'));
  });
});

describe('identification', () => {
  it('sends the Scholar User-Agent and mailto, and never logs the email', async () => {
    const events: HttpLogEvent[] = [];
    const http = client({ log: (e) => events.push(e) });
    await crossref.workByDoi(http, '10.1073/pnas.1414271111');
    const entry = replay.stats().log.find((l) => l.path.includes('/works/'))!;
    assert.match(entry.ua ?? '', /^Scholar\/[^ ]+ \(https:\/\/github\.com\/scholar-vscode\/scholar; mailto:tester@example\.org\)$/);
    assert.ok(decodeURIComponent(entry.path).includes(`mailto=${EMAIL}`));
    assert.ok(events.length > 0);
    assert.ok(!JSON.stringify(events).includes(EMAIL));
  });
});

describe('retries', () => {
  it('waits out a 429 Retry-After (not sooner) and pauses the service', async () => {
    replay.setOptions({ faults: [{ kind: 'rateLimit', service: 'crossref', path: '/works/10.1073', retryAfter: '1', times: 1 }] });
    const http = client();
    const rec = await crossref.workByDoi(http, '10.1073/pnas.1414271111');
    assert.ok(rec?.title.startsWith('Developing functional'));
    const hits = replay.stats().log.filter((l) => l.path.includes('/works/10.1073'));
    assert.equal(hits.length, 2);
    assert.equal(hits[0].status, 429);
    assert.ok(hits[1].t - hits[0].t >= 980, `retried after ${hits[1].t - hits[0].t} ms`);
    const s = http.stats().crossref;
    assert.equal(s.status429, 1);
    assert.equal(s.retries, 1);
  });

  it('retries 5xx with backoff, not 404/400', async () => {
    replay.setOptions({ faults: [{ kind: 'status', status: 503, service: 'crossref', path: '10.1063', times: 2 }] });
    const http = client({ policies: { crossref: { backoffBaseMs: 20 } } });
    assert.ok(await crossref.workByDoi(http, '10.1063/1.4938384'));
    assert.equal(replay.stats().log.filter((l) => l.path.includes('10.1063')).length, 3);
    assert.equal(await crossref.workByDoi(http, '10.1371/notarealdoi'), null);
    assert.equal(replay.stats().log.filter((l) => l.path.includes('notarealdoi')).length, 1);
    replay.setOptions({ faults: [{ kind: 'status', status: 400, service: 'crossref', path: '10.1002' }] });
    const err = await crossref.workByDoi(http, '10.1002/jor.1100150407').catch((e) => e);
    assert.equal(err.code, 'E_HTTP_STATUS');
    assert.equal(err.details.status, 400);
    assert.equal(replay.stats().log.filter((l) => l.path.includes('10.1002')).length, 1);
  });

  it('maps connection resets to E_NETWORK after retrying', async () => {
    replay.setOptions({ faults: [{ kind: 'reset', service: 'crossref', path: '10.1109' }] });
    const http = client({ policies: { crossref: { backoffBaseMs: 5, maxRetries: 2 } } });
    assert.equal(await code(crossref.workByDoi(http, '10.1109/icdcsw.2003.1203662')), 'E_NETWORK');
    assert.equal(replay.stats().log.filter((l) => l.path.includes('10.1109')).length, 3);
  });

  it('times out slow headers with E_TIMEOUT', async () => {
    replay.setOptions({ faults: [{ kind: 'slowHeaders', service: 'crossref', delayMs: 1500 }] });
    const http = client({ policies: { crossref: { maxRetries: 0, timeouts: { headersMs: 200 } } } });
    assert.equal(await code(crossref.workByDoi(http, '10.1063/1.4938384')), 'E_TIMEOUT');
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures, fails fast, then half-opens and closes', async () => {
    replay.setOptions({ faults: [{ kind: 'status', status: 502, service: 'crossref' }] });
    const http = client({ policies: { crossref: { maxRetries: 0, breaker: { failureThreshold: 3, cooldownMs: 300 } } } });
    for (let i = 0; i < 3; i++) assert.equal(await code(crossref.workByDoi(http, '10.1063/1.4938384')), 'E_HTTP_STATUS');
    assert.equal(http.stats().crossref.circuit, 'open');
    const before = replay.stats().requests.crossref;
    assert.equal(await code(crossref.workByDoi(http, '10.1063/1.4938384')), 'E_CIRCUIT_OPEN');
    assert.equal(replay.stats().requests.crossref, before, 'no request sent while open');
    replay.setOptions({ faults: [] });
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(http.stats().crossref.circuit, 'half-open');
    assert.ok(await crossref.workByDoi(http, '10.1063/1.4938384'));
    assert.equal(http.stats().crossref.circuit, 'closed');
  });

  it('a failed half-open probe re-opens the circuit', async () => {
    replay.setOptions({ faults: [{ kind: 'status', status: 500, service: 'crossref' }] });
    const http = client({ policies: { crossref: { maxRetries: 0, breaker: { failureThreshold: 1, cooldownMs: 100 } } } });
    await code(crossref.workByDoi(http, '10.1063/1.4938384'));
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(await code(crossref.workByDoi(http, '10.1063/1.4938384')), 'E_HTTP_STATUS');
    assert.equal(http.stats().crossref.circuit, 'open');
  });
});

describe('cancellation', () => {
  it('stops queued and in-flight requests at once', async () => {
    replay.setOptions({ faults: [{ kind: 'slowHeaders', service: 'semanticScholar', delayMs: 3000 }] });
    const http = client();
    const ac = new AbortController();
    const dois = ['10.1073/pnas.1414271111', '10.1016/j.xgen.2025.100814', '10.1023/a:1007154515475', '10.1016/j.addr.2015.01.008'];
    const started = Date.now();
    const all = dois.map((d) => code(http.getJson('semanticScholar', `/graph/v1/paper/DOI:${d}`, { signal: ac.signal })));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(http.stats().semanticScholar.inFlight, 1);
    assert.equal(http.stats().semanticScholar.queued, 3);
    ac.abort();
    const codes = await Promise.all(all);
    assert.deepEqual(codes, ['E_ABORTED', 'E_ABORTED', 'E_ABORTED', 'E_ABORTED']);
    assert.ok(Date.now() - started < 1000, 'cancelled promptly');
    assert.equal(replay.stats().requests.semanticScholar, 1, 'queued requests never sent');
    assert.equal(http.stats().semanticScholar.inFlight, 0);
  });
});

describe('size, redirects, encoding', () => {
  it('cuts an oversized body at the cap with E_TOO_LARGE (streamed and declared)', async () => {
    replay.setOptions({ faults: [{ kind: 'huge', service: 'crossref', bytes: 6 * 1024 * 1024 }] });
    const http = client();
    const err = await crossref.workByDoi(http, '10.1063/1.4938384').catch((e) => e);
    assert.equal(err.code, 'E_TOO_LARGE');
    assert.equal(err.details.limit, 5 * 1024 * 1024);
    replay.setOptions({ faults: [{ kind: 'huge', service: 'crossref', bytes: 6 * 1024 * 1024, declareLength: true }] });
    assert.equal(await code(crossref.workByDoi(http, '10.1063/1.4938384')), 'E_TOO_LARGE');
  });

  it('rejects redirects to file: and redirect loops', async () => {
    const http = client();
    replay.setOptions({ faults: [{ kind: 'redirectFile', service: 'pdf' }] });
    assert.equal(await code(http.request('pdf', `${replay.endpoints.pdf}/10.1063/1.4938384.pdf`, { kind: 'pdf' })), 'E_REDIRECT_SCHEME');
    replay.setOptions({ faults: [{ kind: 'redirectLoop', service: 'pdf' }] });
    assert.equal(await code(http.request('pdf', `${replay.endpoints.pdf}/10.1063/1.4938384.pdf`, { kind: 'pdf' })), 'E_REDIRECT_LOOP');
  });

  it('rejects a gzip bomb with E_DECODED_TOO_LARGE', async () => {
    replay.setOptions({ faults: [{ kind: 'gzipBomb', service: 'openalex', bytes: 32 * 1024 * 1024 }] });
    const http = client();
    assert.equal(await code(http.getJson('openalex', '/works/https://doi.org/10.1063%2F1.4938384')), 'E_DECODED_TOO_LARGE');
  });

  it('follows doi.org redirects and keeps Accept', async () => {
    const http = client();
    const res = await http.request('doi', '/10.1073/pnas.1414271111', { headers: { accept: 'application/x-bibtex' }, kind: 'text' });
    assert.match(res.text(), /@article\{/);
    assert.match(res.url, /\/crossref\/v1\/works\//);
  });
});

describe('download', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('streams a PDF to a file with progress and hash', async () => {
    replay.setOptions({ pdfBytes: 300_000 });
    const http = client();
    const dest = path.join(tmp, 'a.pdf');
    const progress: number[] = [];
    const r = await http.download(`${replay.endpoints.pdf}/10.1063/1.4938384.pdf`, dest, { expect: 'pdf', onProgress: (n) => progress.push(n) });
    const buf = fs.readFileSync(dest);
    assert.equal(buf.length, 300_000);
    assert.equal(r.bytes, 300_000);
    assert.equal(r.sha256, createHash('sha256').update(buf).digest('hex'));
    assert.ok(buf.subarray(0, 5).toString() === '%PDF-' && buf.toString('latin1').trimEnd().endsWith('%%EOF'));
    assert.ok(progress.length > 0 && progress[progress.length - 1] === 300_000);
    replay.setOptions({ pdfBytes: undefined });
  });

  it('refuses HTML served as application/pdf and oversize downloads, leaving no file', async () => {
    const http = client();
    const dest = path.join(tmp, 'b.pdf');
    replay.setOptions({ faults: [{ kind: 'htmlAsPdf', service: 'pdf' }] });
    assert.equal(await code(http.download(`${replay.endpoints.pdf}/10.1063/1.4938384.pdf`, dest, { expect: 'pdf' })), 'E_NOT_PDF');
    assert.ok(!fs.existsSync(dest));
    replay.setOptions({ faults: [{ kind: 'huge', service: 'pdf', bytes: 3 * 1024 * 1024 }] });
    assert.equal(await code(http.download(`${replay.endpoints.pdf}/10.1063/1.4938384.pdf`, dest, { maxBytes: 1024 * 1024 })), 'E_TOO_LARGE');
    assert.ok(!fs.existsSync(dest));
  });
});

describe('header adaptation', () => {
  it('lowers Crossref limits from x-rate-limit-* and x-concurrency-limit', async () => {
    replay.setOptions({ limits: { crossref: { requests: 4, intervalMs: 1000, concurrency: 2 } } });
    const http = client();
    await crossref.workByDoi(http, '10.1063/1.4938384');
    const s = http.stats().crossref;
    assert.deepEqual(s.limits.rate, { requests: 4, intervalMs: 1000 });
    assert.equal(s.limits.concurrency, 2);
    assert.equal(s.limits.adaptedFromHeaders, true);
  });
});
