// Proxies, certificates and unreachable services, against a real forward proxy (tinyproxy, started
// and stopped here) and real replay servers on loopback, one of them HTTPS with a test CA.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScholarHttp, type HttpLogEvent } from '../../src/core/net/http';
import type { NetIssue } from '../../src/core/net/issues';
import { describeNetIssue } from '../../src/core/net/issues';
import * as crossref from '../../src/core/sources/crossref';
import { startReplayServer, type ReplayServer } from '../../src/replay';
import { freePort, makeTestCa, startTinyproxy, type TestCa, type Tinyproxy } from './net-helpers';

const DOI = '10.1063/1.4938384';
let plain: ReplayServer;
let secure: ReplayServer;
let proxy: Tinyproxy;
let authProxy: Tinyproxy;
let ca: TestCa;
const clients: ScholarHttp[] = [];

function client(opts: ConstructorParameters<typeof ScholarHttp>[0]): ScholarHttp {
  const h = new ScholarHttp({ email: 'proxy@example.org', ...opts });
  clients.push(h);
  return h;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

before(async () => {
  ca = makeTestCa();
  [plain, secure, proxy, authProxy] = await Promise.all([
    startReplayServer(),
    startReplayServer({ tls: { key: ca.keyPem, cert: ca.certPem } }),
    startTinyproxy(),
    startTinyproxy({ auth: { user: 'alice', pass: 's3cret-pw' } }),
  ]);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all([plain.close(), secure.close(), proxy.stop(), authProxy.stop()]);
});

describe('through a forward proxy', () => {
  it('plain HTTP goes through the proxy as an absolute-form request (the proxy logs it)', async () => {
    const http = client({ endpoints: plain.endpoints, network: { httpProxy: proxy.url, httpsProxy: proxy.url } });
    const before = proxy.requests().length;
    const w = await crossref.workByDoi(http, DOI);
    assert.equal(w?.doi, DOI);
    const lines = proxy.requests().slice(before);
    assert.ok(lines.some((l) => l.startsWith(`GET ${plain.origin}/crossref/works/`)), lines.join('\n'));
    assert.equal(plain.stats().requests.crossref, 1);
  });

  it('HTTPS goes through CONNECT to a TLS server signed by a test CA', async () => {
    const http = client({ endpoints: secure.endpoints, network: { httpsProxy: proxy.url, ca: [ca.caPem] } });
    const before = proxy.requests().length;
    const w = await crossref.workByDoi(http, DOI);
    assert.equal(w?.doi, DOI);
    const port = new URL(secure.origin).port;
    const lines = proxy.requests().slice(before);
    assert.ok(lines.some((l) => l.startsWith(`CONNECT 127.0.0.1:${port} `)), lines.join('\n'));
    // The proxy saw only the tunnel, never the path: it is end-to-end TLS.
    assert.ok(!proxy.log().includes('/crossref/works/'.concat(DOI)), 'the proxy must not see the HTTPS path');
  });

  it('without the CA the certificate is refused once, as E_TLS naming the host', async () => {
    const http = client({ endpoints: secure.endpoints, network: { httpsProxy: proxy.url } });
    const issues: NetIssue[] = [];
    const scope = http.beginScope((i) => issues.push(i));
    assert.equal(await code(crossref.workByDoi(http, DOI)), 'E_TLS');
    assert.equal(await code(crossref.workByDoi(http, '10.1073/pnas.1414271111')), 'E_TLS');
    scope.end();
    assert.equal(issues.length, 1);
    assert.equal(issues[0].host, new URL(secure.origin).host);
    assert.match(describeNetIssue(issues[0], 'cli'), /TLS certificate not accepted/);
  });

  it('NO_PROXY hosts bypass the proxy, and the proxy log proves it', async () => {
    const plainHost = new URL(plain.origin).host;
    // Both services on loopback, one exempt by host:port: only the other appears in the proxy log.
    const http = client({
      endpoints: { crossref: plain.endpoints.crossref, openalex: secure.endpoints.openalex },
      network: { httpProxy: proxy.url, httpsProxy: proxy.url, noProxy: [plainHost], ca: [ca.caPem] },
    });
    const before = proxy.requests().length;
    const served = plain.stats().requests.crossref ?? 0;
    assert.equal((await crossref.workByDoi(http, DOI))?.doi, DOI);
    assert.ok((await http.getJson('openalex', `/works/https://doi.org/${DOI}`)) !== null);
    const lines = proxy.requests().slice(before);
    assert.equal(lines.filter((l) => l.includes(plainHost)).length, 0, lines.join('\n'));
    assert.equal(lines.filter((l) => l.startsWith(`CONNECT ${new URL(secure.origin).host}`)).length, 1, lines.join('\n'));
    assert.equal(plain.stats().requests.crossref, served + 1);
  });

  it('a proxy that wants credentials (407) gives one message per service naming the proxy', async () => {
    const http = client({ endpoints: { ...plain.endpoints, unpaywall: secure.endpoints.unpaywall }, network: { httpProxy: authProxy.url, httpsProxy: authProxy.url, ca: [ca.caPem] } });
    const issues: NetIssue[] = [];
    const scope = http.beginScope((i) => issues.push(i));
    // Plain HTTP (the proxy's 407 is the response) and HTTPS (the 407 answers the CONNECT).
    assert.equal(await code(crossref.workByDoi(http, DOI)), 'E_PROXY_AUTH');
    assert.equal(await code(crossref.workByDoi(http, '10.1073/pnas.1414271111')), 'E_PROXY_AUTH');
    assert.equal(await code(http.getJson('unpaywall', `/v2/${DOI}`)), 'E_PROXY_AUTH');
    scope.end();
    assert.deepEqual(issues.map((i) => i.service), ['crossref', 'unpaywall']);
    const text = describeNetIssue(issues[0], 'vscode');
    assert.ok(text.includes(`http://127.0.0.1:${authProxy.port}`), text);
    assert.match(text, /407/);
    assert.match(text, /http\.proxyAuthorization/);
  });

  it('wrong credentials in the proxy URL are refused and never appear in a message or a log', async () => {
    const logged: HttpLogEvent[] = [];
    const wrong = `http://alice:wrong-pw-42@127.0.0.1:${authProxy.port}`;
    const http = client({ endpoints: secure.endpoints, network: { httpsProxy: wrong, ca: [ca.caPem] }, log: (e) => logged.push(e) });
    const issues: NetIssue[] = [];
    const scope = http.beginScope((i) => issues.push(i));
    let err: unknown;
    try {
      await crossref.workByDoi(http, DOI);
    } catch (e) {
      err = e;
    }
    scope.end();
    assert.equal((err as { code?: string }).code, 'E_PROXY_AUTH');
    assert.equal(issues.length, 1);
    assert.equal(issues[0].proxy, `http://127.0.0.1:${authProxy.port}`);
    const everything = JSON.stringify({ text: describeNetIssue(issues[0], 'cli'), err: String(err), details: (err as { details?: unknown }).details, logged, issues });
    assert.ok(!everything.includes('wrong-pw-42'), 'credentials leaked');
    assert.ok(!everything.includes('alice'), 'the proxy user name leaked');
  });

  it('with the right credentials (in the URL, or as http.proxyAuthorization) the request goes through', async () => {
    const inUrl = client({ endpoints: plain.endpoints, network: { httpProxy: `http://alice:s3cret-pw@127.0.0.1:${authProxy.port}` } });
    assert.equal((await crossref.workByDoi(inUrl, DOI))?.doi, DOI);
    const header = client({
      endpoints: plain.endpoints,
      network: { httpProxy: authProxy.url, proxyAuthorization: `Basic ${Buffer.from('alice:s3cret-pw').toString('base64')}` },
    });
    assert.equal((await crossref.workByDoi(header, DOI))?.doi, DOI);
  });

  it('a proxy that cannot be reached is E_PROXY naming it, once per service', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const http = client({ endpoints: plain.endpoints, network: { httpProxy: dead } });
    const issues: NetIssue[] = [];
    const scope = http.beginScope((i) => issues.push(i));
    const t0 = Date.now();
    const codes = await Promise.all([DOI, '10.1073/pnas.1414271111', '10.1002/jor.1100150407'].map((d) => code(crossref.workByDoi(http, d))));
    scope.end();
    assert.deepEqual(codes, ['E_PROXY', 'E_PROXY', 'E_PROXY']);
    assert.equal(issues.length, 1);
    assert.equal(issues[0].proxy, dead);
    assert.match(describeNetIssue(issues[0], 'cli'), /cannot connect to the proxy: connection refused/);
    // Not retried with backoff: a refused connect is answered at once.
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
  });

  it('setNetwork switches to a new proxy for the next request, without a new client', async () => {
    const http = client({ endpoints: plain.endpoints });
    const before = proxy.requests().length;
    assert.equal((await crossref.workByDoi(http, DOI))?.doi, DOI);
    assert.equal(proxy.requests().length, before, 'direct first');
    http.setNetwork({ httpProxy: proxy.url });
    assert.equal((await crossref.workByDoi(http, DOI))?.doi, DOI);
    assert.equal(proxy.requests().length, before + 1, 'then through the proxy');
  });
});

describe('unreachable services', () => {
  it('a closed port and an unresolvable host: one issue per service, later requests fail at once', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const http = client({ endpoints: { crossref: `${closed}/crossref`, unpaywall: 'http://scholar-offline.invalid/unpaywall' } });
    const issues: NetIssue[] = [];
    const scope = http.beginScope((i) => issues.push(i));
    const codes = await Promise.all([
      ...[DOI, '10.1073/pnas.1414271111'].map((d) => code(crossref.workByDoi(http, d))),
      ...[DOI, '10.1073/pnas.1414271111'].map((d) => code(http.getJson('unpaywall', `/v2/${d}`))),
    ]);
    scope.end();
    assert.deepEqual(codes, ['E_UNREACHABLE', 'E_UNREACHABLE', 'E_UNREACHABLE', 'E_UNREACHABLE']);
    assert.deepEqual(issues.map((i) => [i.service, i.host]).sort(), [
      ['crossref', new URL(closed).host],
      ['unpaywall', 'scholar-offline.invalid'],
    ]);
    const lines = issues.map((i) => describeNetIssue(i, 'cli')).join('\n');
    assert.match(lines, /connection refused \(ECONNREFUSED\)/);
    assert.match(lines, /DNS lookup failed \((ENOTFOUND|EAI_AGAIN)\)/);
    assert.match(lines, /offline, or behind a proxy\? Set HTTPS_PROXY/);
    // Once the job's scope ended, the next job asks again (the entries stay retryable).
    const again = http.beginScope();
    assert.equal(await code(crossref.workByDoi(http, DOI)), 'E_UNREACHABLE');
    assert.equal(again.issues.length, 1);
    again.end();
  });
});
