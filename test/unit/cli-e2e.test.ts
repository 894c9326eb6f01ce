import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, cpSync, readFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main';
import { parseBib } from '../../src/core/bib/parse';
import { startReplayServer, type ReplayServer } from '../../src/replay/server';
import { sink, endpointFlags } from './cli-helpers';

const repo = path.resolve(__dirname, '../..');
let server: ReplayServer;

before(async () => {
  server = await startReplayServer({ fixturesDir: path.join(repo, 'test/fixtures') });
});
after(async () => {
  await server.close();
});


async function cli(cwd: string, ...args: string[]) {
  const out = sink();
  const err = sink();
  const endpoints = endpointFlags(server.endpoints);
  const code = await runCli([...args, ...endpoints, '--mailto', 'test@scholar.invalid'], { stdout: out.stream, stderr: err.stream, cwd, env: {}, signal: new AbortController().signal });
  return { code, stdout: out.text(), stderr: err.text() };
}

function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-cli-'));
  cpSync(path.join(repo, 'examples/thesis'), dir, { recursive: true });
  return dir;
}

test('resolve --dry-run prints a diff and changes nothing', async () => {
  const dir = project();
  const before = readFileSync(path.join(dir, 'refs.bib'), 'utf8');
  const r = await cli(dir, 'resolve', 'refs.bib', '--dry-run');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^--- a\/refs\.bib/m);
  assert.match(r.stdout, /^\+ {2}doi {5}= \{10\./m);
  assert.equal(readFileSync(path.join(dir, 'refs.bib'), 'utf8'), before);
});

test('resolve --json reports every entry and writes the accepted DOIs as added lines only', async () => {
  const dir = project();
  const beforeText = readFileSync(path.join(dir, 'refs.bib'), 'utf8');
  const r = await cli(dir, 'resolve', '.', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.entries.length, 27);
  const byKey = Object.fromEntries(out.entries.map((e: { key: string }) => [e.key, e]));
  assert.equal(byKey.broniatowski2017.outcome, 'accept');
  assert.equal(byKey.broniatowski2017.doi, '10.1002/sys.21414');
  assert.equal(byKey.knuth1984.outcome, 'skipped', 'the opted-out entry is left alone');
  assert.equal(byKey.makris2014.outcome, 'has_doi');
  assert.equal(byKey.turing1950.outcome, 'not_found');
  const afterText = readFileSync(path.join(dir, 'refs.bib'), 'utf8');
  // Removing the added doi lines (and the comma each added to the line before) gives the original back.
  const accepted = out.entries.filter((e: { outcome: string }) => e.outcome === 'accept');
  let restored = afterText;
  for (const e of accepted) restored = restored.replace(new RegExp(`,\\n {2}doi *= \\{${e.doi.replace(/[.()/]/g, '\\$&')}\\}\\n`), '\n');
  assert.equal(restored, beforeText);
  for (const e of accepted) assert.ok(existsSync(path.join(dir, 'storage/by_key', e.key, 'metadata.json')), `metadata for ${e.key}`);
});

test('fetch stores verified PDFs, reports failures per entry, and exits 1 when some failed', async () => {
  const dir = project();
  assert.equal((await cli(dir, 'resolve', '.')).code, 0);
  const r = await cli(dir, 'fetch', '.', '--json');
  const out = JSON.parse(r.stdout);
  assert.equal(r.code, out.entries.some((e: { outcome: string }) => e.outcome === 'failed') ? 1 : 0);
  const stored = out.entries.filter((e: { outcome: string }) => e.outcome === 'stored');
  assert.ok(stored.length >= 10, `stored ${stored.length}`);
  for (const e of stored) {
    const pdf = readFileSync(path.join(dir, 'storage/by_key', e.key, 'paper.pdf'));
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const meta = JSON.parse(readFileSync(path.join(dir, 'storage/by_key', e.key, 'metadata.json'), 'utf8'));
    assert.equal(meta.pdf.size, pdf.length);
    assert.ok(['doi', 'title'].includes(meta.pdf.verified));
  }
  for (const e of out.entries.filter((x: { outcome: string }) => x.outcome === 'failed')) assert.match(e.reason, /^E_[A-Z_]+$/);
  // A second run skips what is done.
  const again = JSON.parse((await cli(dir, 'fetch', '.', '--json')).stdout);
  assert.equal(again.entries.filter((e: { outcome: string }) => e.outcome === 'already_stored').length, stored.length);
  // The index can be rebuilt from the folders and searched.
  assert.equal((await cli(dir, 'index', 'rebuild')).code, 0);
  const s = await cli(dir, 'search', 'has:pdf', '--json');
  assert.equal(JSON.parse(s.stdout).hits.length, stored.length);
  assert.deepEqual(readdirSync(path.join(dir, 'storage/by_key')).filter((n) => n.startsWith('.')), []);
});

test("fetch falls back to the publisher's landing page when every open-access copy is gone", async () => {
  // makris2014 (PNAS): the replay's OpenAlex and Unpaywall PDF links answer 404; the DOI's landing
  // page names the PDF (citation_pdf_url). Unpaywall asked late (batching) must not hide that step.
  const dir = project();
  const r = await cli(dir, 'fetch', '.', '--json');
  const out = JSON.parse(r.stdout);
  const e = out.entries.find((x: { key: string }) => x.key === 'makris2014');
  assert.equal(e?.outcome, 'stored', JSON.stringify(e));
  const meta = JSON.parse(readFileSync(path.join(dir, 'storage/by_key/makris2014/metadata.json'), 'utf8'));
  assert.equal(meta.pdf.source, 'landingPage');
});

test('check finds undefined citations and exits 1', async () => {
  const dir = project();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(dir, 'extra.tex'), 'See \\cite{nosuchkey2020}.\n');
  const r = await cli(dir, 'check', '.', '--json');
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout);
  assert.ok(out.findings.some((f: { code: string; key?: string }) => f.code === 'W_UNDEFINED_CITATION' && f.key === 'nosuchkey2020'));
});

test('a missing file is a one-line error and exit code 2', async () => {
  const r = await cli(tmpdir(), 'fetch', 'does-not-exist.bib');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^scholar: no such file or folder: .*does-not-exist\.bib \(E_NOT_FOUND\)\n$/);
});

/** A .bib of labelled-set entries that carry a DOI: two of each wrong kind, and four right ones. */
function existingDoiProject(): { dir: string; labels: Record<string, { doi: string; kind: string; inputDoi: string }> } {
  const lab = path.join(repo, 'test/fixtures/labelled');
  const text = readFileSync(path.join(lab, 'labelled.bib'), 'utf8');
  const all = JSON.parse(readFileSync(path.join(lab, 'labels.json'), 'utf8')) as Record<string, { doi: string; kind: string; inputDoi: string }>;
  const file = parseBib(text);
  const perKind = new Map<string, number>();
  const picked: string[] = [];
  const labels: Record<string, { doi: string; kind: string; inputDoi: string }> = {};
  for (const e of file.entries) {
    const l = all[e.key];
    if (!l?.kind.startsWith('existing-')) continue;
    const n = perKind.get(l.kind) ?? 0;
    if (n >= (l.kind === 'existing-right' ? 4 : 2)) continue;
    perKind.set(l.kind, n + 1);
    picked.push(text.slice(e.span.start, e.span.end));
    labels[e.key] = l;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-cli-doi-'));
  writeFileSync(path.join(dir, 'refs.bib'), `% entries from test/fixtures/labelled\n\n${picked.join('\n\n')}\n`);
  return { dir, labels };
}

test('resolve reports every wrong DOI by default and changes none; --fix-existing repairs them and changes nothing else', async () => {
  const { dir, labels } = existingDoiProject();
  const bib = path.join(dir, 'refs.bib');
  const before = readFileSync(bib, 'utf8');
  const wrong = Object.entries(labels).filter(([, l]) => l.kind !== 'existing-right');
  assert.ok(wrong.length >= 8, 'two of each wrong kind');

  const r = await cli(dir, 'resolve', 'refs.bib', '--json');
  const out = JSON.parse(r.stdout);
  const byKey = Object.fromEntries(out.entries.map((e: { key: string }) => [e.key, e]));
  for (const [key, l] of Object.entries(labels)) {
    if (l.kind === 'existing-right') assert.equal(byKey[key].outcome, 'has_doi', `${key}: a right DOI is kept`);
    else {
      assert.ok(['doi_unknown', 'doi_mismatch'].includes(byKey[key].outcome), `${key} (${l.kind}): ${byKey[key].outcome} ${byKey[key].message}`);
      assert.equal(byKey[key].replacement?.doi, l.doi, `${key}: the replacement found is the right DOI`);
    }
  }
  assert.equal(readFileSync(bib, 'utf8'), before, 'without --fix-existing no DOI is rewritten');

  const dry = await cli(dir, 'resolve', 'refs.bib', '--fix-existing', '--dry-run');
  assert.match(dry.stdout, /^-  doi = \{/m);
  assert.equal(readFileSync(bib, 'utf8'), before, '--dry-run changes nothing');

  const fixed = await cli(dir, 'resolve', 'refs.bib', '--fix-existing', '--json');
  assert.equal(fixed.code, 0, fixed.stderr);
  const after = readFileSync(bib, 'utf8');
  // The diff checker: the files differ only inside the doi values of the repaired entries, each now the label.
  const a = parseBib(before);
  const b = parseBib(after);
  assert.equal(b.entries.length, a.entries.length);
  let rebuilt = after;
  for (const e of [...b.entries].reverse()) {
    const old = a.entries.find((x) => x.key === e.key)!;
    const l = labels[e.key];
    const now = e.fields.get('doi')!;
    if (l.kind === 'existing-right') assert.equal(now.value, old.fields.get('doi')!.value);
    else assert.equal(now.value, l.doi, `${e.key} repaired`);
    rebuilt = rebuilt.slice(0, now.valueSpan.start) + before.slice(old.fields.get('doi')!.valueSpan.start, old.fields.get('doi')!.valueSpan.end) + rebuilt.slice(now.valueSpan.end);
  }
  assert.equal(rebuilt, before, 'only the bytes of the repaired doi values differ');

  // Run again: every DOI now checks out, nothing more is changed.
  const again = JSON.parse((await cli(dir, 'resolve', 'refs.bib', '--fix-existing', '--json')).stdout);
  for (const e of again.entries) assert.equal(e.outcome, 'has_doi', `${e.key}: ${e.message}`);
  assert.equal(readFileSync(bib, 'utf8'), after);
});
