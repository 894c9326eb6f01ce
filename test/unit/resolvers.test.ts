// Custom PDF resolvers in Zotero's format, against the replay server's library resolver (a real
// HTTP server on 127.0.0.1): the HTML and JSON modes, the configuration checks, and a fetch job
// that finds a closed-access paper only through a resolver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startReplayServer, type ReplayServer } from '../../src/replay/server';
import { ScholarHttp } from '../../src/core/net/http';
import { parseHtml, selectAll, textContent } from '../../src/core/resolvers/html';
import { jsPath } from '../../src/core/resolvers/jspath';
import { parseResolvers, resolvePdfUrls, resolverUrl } from '../../src/core/resolvers/zotero';
import { doiLink, proxiedUrl } from '../../src/core/attach/links';
import { Library } from '../../src/core/jobs/library';
import { Job } from '../../src/core/jobs/run';
import { parseBib } from '../../src/core/bib/parse';

const repo = path.resolve(__dirname, '../..');
let server: ReplayServer;
// Closed access in the replay corpus, and no preprint: the open-access sources find nothing.
const CLOSED = '10.1007/s00454-021-00282-8';

before(async () => {
  server = await startReplayServer({ fixturesDir: path.join(repo, 'test/fixtures') });
});
after(async () => {
  await server.close();
});

test('HTML selectors: ids, classes, attributes, descendant and child combinators, lists; unsupported syntax is refused', () => {
  const doc = parseHtml(`<!doctype html><html><head><meta name="citation_pdf_url" content="/a.pdf"><title>T &amp; U</title></head>
  <body><div class="results main"><p>Intro <a href=/x.html>x</a></p>
  <ul><li><a class="dl pdf" href="/one.pdf" data-kind='pdf'>One</a></li><li><a class="dl" href="/two.PDF">Two &lt;b&gt;</a></li></ul>
  <iframe id=pdf src="https://cdn.example/viewer.pdf"></iframe><img src="x.png"><br/></div>
  <script>var s = "<a id='pdf' href='/evil.pdf'>";</script></body></html>`);
  const attr = (sel: string, a: string) => selectAll(doc, sel).map((e) => e.attrs.get(a));
  assert.deepEqual(attr('#pdf', 'src'), ['https://cdn.example/viewer.pdf'], 'markup inside <script> is not parsed');
  assert.deepEqual(attr('a.dl', 'href'), ['/one.pdf', '/two.PDF']);
  assert.deepEqual(attr('a.dl.pdf', 'href'), ['/one.pdf']);
  assert.deepEqual(attr('div.results a[href$=".pdf"]', 'href'), ['/one.pdf']);
  assert.deepEqual(attr('ul > li > a[data-kind=pdf]', 'href'), ['/one.pdf']);
  assert.deepEqual(attr('div > a', 'href'), [], 'a child combinator does not match grandchildren');
  assert.deepEqual(attr('meta[name="citation_pdf_url"], iframe', 'content'), ['/a.pdf', undefined]);
  assert.equal(textContent(selectAll(doc, 'li a')[1]!), 'Two <b>');
  assert.equal(textContent(selectAll(doc, 'title')[0]!), 'T & U');
  assert.throws(() => selectAll(doc, 'a:first-child'), /unsupported selector/);
});

test('JSPath subset: property steps flatten arrays, .. descends, [n] picks, predicates are refused', () => {
  const data = { oa_locations: [{ url_for_pdf: 'https://a/1.pdf', host: { kind: 'repo' } }, { url_for_pdf: null }, { url_for_pdf: 'https://a/2.pdf' }], best: { url: 'https://b' } };
  assert.deepEqual(jsPath('.oa_locations.url_for_pdf', data), ['https://a/1.pdf', 'https://a/2.pdf']);
  assert.deepEqual(jsPath('.oa_locations[0].url_for_pdf', data), ['https://a/1.pdf']);
  assert.deepEqual(jsPath('.oa_locations.url_for_pdf[-1]', data), ['https://a/2.pdf']);
  assert.deepEqual(jsPath('..kind', data), ['repo']);
  assert.deepEqual(jsPath('.best.*', data), ['https://b']);
  assert.deepEqual(jsPath('.nothing.here', data), []);
  assert.throws(() => jsPath('.oa_locations{.host}', data), /predicates/);
});

test('resolver settings: Zotero’s examples are accepted as they are published, bad ones are refused with a reason', () => {
  // The pref holds a JSON string; the examples of zotero.org/support/kb/custom_pdf_resolvers.
  const pref = JSON.stringify([
    { name: 'My Paper Source', method: 'GET', url: 'https://example.com/{doi}', mode: 'html', selector: '#pdf-link', attribute: 'href', automatic: false },
    { name: 'Unpaywall', method: 'GET', url: 'https://api.unpaywall.org/v2/{doi}?email=me@example.com', mode: 'json', selector: '.oa_locations', mappings: { url: 'url_for_pdf', pageURL: 'url_for_landing_page' }, automatic: true },
  ]);
  const ok = parseResolvers(pref);
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.resolvers.map((r) => [r.name, r.mode, r.automatic]), [['My Paper Source', 'html', false], ['Unpaywall', 'json', true]]);
  assert.equal(resolverUrl(ok.resolvers[0]!, '10.1000/a b<c>'), 'https://example.com/10.1000/a%20b%3Cc%3E');
  const bad = parseResolvers([
    { name: 'no doi', url: 'https://x.example/', mode: 'html', selector: 'a' },
    { name: 'post', method: 'POST', url: 'https://x.example/{doi}', mode: 'json', selector: '.a' },
    { name: 'ftp', url: 'ftp://x.example/{doi}', mode: 'html', selector: 'a' },
    { name: 'css', url: 'https://x.example/{doi}', mode: 'html', selector: 'a:hover' },
    { name: 'mode', url: 'https://x.example/{doi}', mode: 'xml', selector: 'a' },
    'nonsense',
    { name: 'fine', url: 'https://x.example/{doi}', mode: 'html', selector: 'a' },
  ]);
  assert.deepEqual(bad.resolvers.map((r) => r.name), ['fine']);
  assert.equal(bad.errors.length, 6);
  assert.match(bad.errors.join('\n'), /"no doi": needs a "url" containing \{doi\}/);
  assert.match(bad.errors.join('\n'), /"post": method POST is not supported/);
  assert.match(bad.errors.join('\n'), /"css": unsupported selector/);
  assert.match(parseResolvers('{ not json').errors[0]!, /not valid JSON/);
});

test('links: EZproxy ($@) and OpenAthens ({url}) templates, and a custom DOI link base', () => {
  const doi = doiLink('10.1007/s00454-021-00282-8');
  assert.equal(doi, 'https://doi.org/10.1007/s00454-021-00282-8');
  assert.equal(proxiedUrl('https://login.ezproxy.example.edu/login?url=$@', doi), 'https://login.ezproxy.example.edu/login?url=https://doi.org/10.1007/s00454-021-00282-8');
  assert.equal(proxiedUrl('https://go.openathens.net/redirector/example.edu?url={url}', doi), 'https://go.openathens.net/redirector/example.edu?url=https%3A%2F%2Fdoi.org%2F10.1007%2Fs00454-021-00282-8');
  assert.equal(proxiedUrl('https://proxy.example.org/login?qurl=', doi), 'https://proxy.example.org/login?qurl=https%3A%2F%2Fdoi.org%2F10.1007%2Fs00454-021-00282-8');
  assert.equal(doiLink('10.1000/x y', 'https://dx.doi.org'), 'https://dx.doi.org/10.1000/x%20y');
  assert.equal(doiLink('10.1000/xy', 'https://resolver.example.edu/openurl?id=doi:{doi}&sid=scholar'), 'https://resolver.example.edu/openurl?id=doi:10.1000/xy&sid=scholar');
  assert.throws(() => proxiedUrl('', doi), /not set/);
  assert.throws(() => proxiedUrl('javascript:alert(1)//$@', doi), /http or https/);
  assert.throws(() => doiLink('10.1/x', 'file:///etc/'), /http or https/);
});

test('a Zotero-format HTML resolver and a JSON one find the PDF on the replay server, through the HTTP client', async () => {
  const http = new ScholarHttp({});
  try {
    const { resolvers } = parseResolvers([
      { name: 'Library HTML', method: 'GET', url: `${server.origin}/resolver/html/{doi}`, mode: 'html', selector: 'div.result a#pdf-link', attribute: 'href', automatic: true },
      { name: 'Library API', method: 'GET', url: `${server.origin}/resolver/json/{doi}`, mode: 'json', selector: '.results', mappings: { url: 'pdf', pageURL: 'page' } },
      { name: 'Library API paths', method: 'GET', url: `${server.origin}/resolver/json/{doi}`, mode: 'json', selector: '.links[1].href' },
    ]);
    const want = [`${server.origin}/pdf/${CLOSED}.pdf`];
    for (const r of resolvers) assert.deepEqual(await resolvePdfUrls(http, r, CLOSED), want, r.name);
    assert.deepEqual(await resolvePdfUrls(http, resolvers[0]!, '10.9999/not-in-the-corpus'), [], 'a 404 means no PDF, not an error');
    // Requests went to the resolver's host lane (per-host limits of PDF downloads).
    assert.ok(Object.keys(http.stats()).some((k) => k === `pdf:${new URL(server.origin).host}`), JSON.stringify(Object.keys(http.stats())));
  } finally {
    await http.close();
  }
});

test('fetch: an entry without an open-access copy gets its PDF through a custom resolver, recorded as that resolver', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-resolver-'));
  const text = `@article{closed2021,\n  title = {Placeholder},\n  doi = {${CLOSED}},\n}\n`;
  const file = parseBib(text);
  const entries = file.entries.map((entry) => ({ key: entry.key, bibPath: path.join(dir, 'refs.bib'), file, entry }));
  const endpoints = Object.fromEntries(Object.entries(server.endpoints));
  const run = async (resolvers: ReturnType<typeof parseResolvers>['resolvers']) => {
    const lib = await Library.open(path.join(dir, `storage-${resolvers.length}`), { http: { email: 'test@scholar.invalid', endpoints }, fsync: false });
    try {
      const job = new Job(lib, { kind: 'fetch', entries, fetch: { resolvers, sources: ['unpaywall', 'openalex', 'arxiv', 'landingPage'] } });
      await job.run();
      return { result: job.results.get('closed2021')!, meta: lib.index.get('closed2021') };
    } finally {
      await lib.close();
    }
  };
  const without = await run([]);
  assert.equal(without.result.outcome, 'failed');
  assert.equal(without.result.reason, 'E_NO_PDF');
  server.resetStats();
  const { resolvers } = parseResolvers([{ name: 'Library HTML', url: `${server.origin}/resolver/html/{doi}`, mode: 'html', selector: '#pdf-link', attribute: 'href' }]);
  const withR = await run(resolvers);
  assert.equal(withR.result.outcome, 'stored', JSON.stringify(withR.result));
  assert.equal(withR.meta?.pdf?.source, 'resolver:Library HTML');
  assert.equal(withR.meta?.pdf?.sourceUrl, `${server.origin}/pdf/${CLOSED}.pdf`);
  assert.equal(withR.meta?.pdf?.verified, 'doi');
  assert.equal(server.stats().requests.resolver, 1, 'the resolver was asked once, and the server counted it as its own service');
});
