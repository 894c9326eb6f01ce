import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { makePdf, startReplayServer, type ReplayServer } from '../../src/replay';

let replay: ReplayServer;
before(async () => {
  replay = await startReplayServer();
});
after(() => replay.close());

async function get(url: string, headers: Record<string, string> = {}) {
  const r = await request(url, { headers });
  const body = await r.body.text();
  return { status: r.statusCode, headers: r.headers, body };
}

describe('pdf writer', () => {
  it('writes a valid one-page PDF with a correct xref', () => {
    const pdf = makePdf({ title: 'A (test) title \\ with ünïcode', doi: '10.1/x' });
    const s = pdf.toString('latin1');
    assert.ok(s.startsWith('%PDF-1.4'));
    assert.ok(s.endsWith('%%EOF\n'));
    const startxref = Number(/startxref\n(\d+)\n%%EOF/.exec(s)![1]);
    assert.ok(s.slice(startxref).startsWith('xref'));
    const entries = [...s.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    entries.forEach((off, i) => assert.ok(s.slice(off).startsWith(`${i + 1} 0 obj`), `object ${i + 1}`));
    assert.match(s, /\(DOI: 10\.1\/x\) Tj/);
    assert.match(s, /\\\(test\\\)/);
  });
  it('pads to an exact size', () => {
    assert.equal(makePdf({ title: 'x' }, 123_457).length, 123_457);
  });
});

describe('replay server', () => {
  it('exposes one endpoint per service under its prefix', () => {
    assert.equal(replay.endpoints.semanticScholar, `${replay.origin}/s2`);
    assert.equal(replay.endpoints.crossref, `${replay.origin}/crossref`);
    assert.match(replay.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
  });
  it('generates Crossref list envelopes ranked by token overlap, honouring select', async () => {
    const r = await get(`${replay.endpoints.crossref}/works?query.bibliographic=${encodeURIComponent('Evaluation of Ascertainment Bias')}&rows=2&select=DOI,title`);
    const j = JSON.parse(r.body);
    assert.equal(j['message-type'], 'work-list');
    assert.equal(j.message.items.length, 2);
    assert.deepEqual(Object.keys(j.message.items[0]).sort(), ['DOI', 'title']);
  });
  it('serves added works in every service shape and a landing page + PDF', async () => {
    replay.addWorks([{ doi: '10.5555/Replay.1', title: 'Synthetic work about replay servers', authors: [{ family: 'Doe', given: 'J.' }], year: 2022, oa: 'gold', venue: 'J. Replay' }]);
    const cr = JSON.parse((await get(`${replay.endpoints.crossref}/works/10.5555%2Freplay.1`)).body);
    assert.equal(cr.message.DOI, '10.5555/Replay.1');
    const oa = JSON.parse((await get(`${replay.endpoints.openalex}/works/https://doi.org/10.5555%2Freplay.1`)).body);
    assert.equal(oa.best_oa_location.pdf_url, `${replay.origin}/pdf/10.5555/replay.1.pdf`);
    const up = JSON.parse((await get(`${replay.endpoints.unpaywall}/v2/10.5555/replay.1?email=a@b.c`)).body);
    assert.equal(up.oa_status, 'gold');
    const s2 = JSON.parse((await get(`${replay.endpoints.semanticScholar}/graph/v1/paper/DOI:10.5555/replay.1?fields=title,openAccessPdf`)).body);
    assert.equal(s2.title, 'Synthetic work about replay servers');
    const land = await get(`${replay.origin}/landing/10.5555/replay.1`);
    assert.match(land.body, /<meta name="citation_pdf_url" content="http:\/\/127\.0\.0\.1:\d+\/pdf\/10\.5555\/replay\.1\.pdf">/);
    const pdf = await get(`${replay.origin}/pdf/10.5555/replay.1.pdf`);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.ok(pdf.body.startsWith('%PDF-'));
  });
  it('answers over-limit requests with 429 + Retry-After and counts violations', async () => {
    replay.setOptions({ limits: { openalex: { requests: 3, intervalMs: 1000, concurrency: 10 } } });
    replay.resetStats();
    const rs = await Promise.all(Array.from({ length: 6 }, () => request(`${replay.endpoints.openalex}/works/https://doi.org/10.1063%2F1.4938384`)));
    const statuses = await Promise.all(rs.map(async (r) => (await r.body.dump(), r.statusCode)));
    assert.equal(statuses.filter((s) => s === 429).length, 3);
    assert.ok(rs.find((r) => r.statusCode === 429)!.headers['retry-after']);
    assert.equal(replay.stats().violations.openalex, 3);
    replay.setOptions({ limits: {} });
  });
  it('injects 5xx for the first k attempts only', async () => {
    replay.setOptions({ faults: [{ kind: 'status', status: 500, doi: '10.1002/jor.1100150407', times: 2 }] });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await get(`${replay.endpoints.crossref}/works/10.1002/jor.1100150407`)).status);
    assert.deepEqual(codes, [500, 500, 200]);
    replay.setOptions({ faults: [] });
  });
  it('serves recorded bodies byte for byte', async () => {
    const r = await get(`${replay.endpoints.crossref}/works/10.1371/notarealdoi`);
    assert.equal(r.status, 404);
    assert.equal(r.body, 'Resource not found.');
    const s = await get(`${replay.endpoints.semanticScholar}/graph/v1/paper/search/match?query=askldjrq3rjaw938h`);
    assert.equal(s.status, 404);
    assert.equal(s.body.trimEnd(), '{"error":"Title match not found"}');
  });
});

describe('replay server with publisher hosts', () => {
  it('serves each PDF from one of its hosts and enforces the PDF limit per host', async () => {
    const hosts = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
    const r = await startReplayServer({ pdfHosts: hosts, limits: { pdf: { requests: 1, intervalMs: 60_000, concurrency: 1 } } });
    try {
      const works = Array.from({ length: 12 }, (_, i) => ({ doi: `10.5555/hosts.${i}`, title: `Work ${i} on many hosts`, authors: [{ family: 'Roe', given: 'A.' }], year: 2021, oa: 'gold' as const, venue: 'J. Hosts' }));
      r.addWorks(works);
      const urls: string[] = [];
      for (const w of works) {
        const o = JSON.parse((await get(`${r.endpoints.openalex}/works/doi:${w.doi}`)).body);
        urls.push(o.best_oa_location.pdf_url);
      }
      const used = new Set(urls.map((u) => new URL(u).hostname));
      // The DOIs are spread over the hosts, every URL on the server's port.
      assert.deepEqual([...used].sort(), hosts);
      for (const u of urls) assert.equal(new URL(u).port, new URL(r.origin).port);
      // One PDF per host per minute: the first on each host is served, the second on a host is refused.
      const seen = new Set<string>();
      for (const u of urls) {
        const host = new URL(u).hostname;
        const res = await get(u);
        assert.equal(res.status, seen.has(host) ? 429 : 200, `${u}`);
        if (res.status === 200) assert.ok(res.body.startsWith('%PDF-'));
        seen.add(host);
      }
      assert.equal(r.stats().requests.pdf, 12);
      assert.equal(r.stats().violations.pdf, 12 - hosts.length);
    } finally {
      await r.close();
    }
  });
});
