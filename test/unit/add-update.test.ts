// Add and Update cores: identifiers, keys, the file's style, the conservative comparison rules,
// minimal edits; and the CLI (`scholar add`, `scholar update`) against the replay server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli } from '../../src/cli/main';
import { parseBib } from '../../src/core/bib/parse';
import { applyEdits } from '../../src/core/bib/edit';
import { classifyIdentifier, doiFromLandingPage, splitIdentifiers } from '../../src/core/add/ids';
import { keyFromPattern, uniqueKey, validateKeyPattern } from '../../src/core/add/key';
import { recordFromCsl, type BibRecord } from '../../src/core/add/record';
import { detectStyle } from '../../src/core/add/style';
import { formatTitle, latexEscape, renderEntry } from '../../src/core/add/format';
import { planAdditions } from '../../src/core/add/add';
import { compareEntry } from '../../src/core/update/compare';
import { planUpdateEdits } from '../../src/core/update/update';
import { startReplayServer, type ReplayServer } from '../../src/replay/server';
import { sink, endpointFlags } from './cli-helpers';

const repo = path.resolve(__dirname, '../..');

const REC: BibRecord = {
  source: 'crossref',
  type: 'article',
  doi: '10.5555/Example.1',
  title: 'Sequencing DNA of the Gaussian peach: a study',
  authors: [
    { family: 'Müller', given: 'Jürgen Karl' },
    { family: 'Berg', given: 'Anna', particle: 'van den' },
  ],
  editors: [],
  container: 'Journal of Fruit & Vegetables',
  volume: '12',
  number: '3',
  pages: '101-120',
  year: 2021,
  month: 5,
  years: [2021, 2020],
  publisher: 'Fruit Press',
  issn: ['1234-5678'],
  isbn: [],
  updates: [],
};

test('identifiers: DOIs in every spelling, arXiv ids and URLs, publisher URLs, malformed ones', () => {
  assert.deepEqual(splitIdentifiers(' 10.1/a\n  arXiv:2101.00001,https://x.org/p '), ['10.1/a', 'arXiv:2101.00001', 'https://x.org/p']);
  assert.deepEqual(classifyIdentifier('10.1038/nature14539'), { input: '10.1038/nature14539', kind: 'doi', doi: '10.1038/nature14539' });
  assert.equal((classifyIdentifier('doi:10.1038/NATURE14539') as { doi: string }).doi, '10.1038/nature14539');
  assert.equal((classifyIdentifier('https://doi.org/10.1038/nature14539') as { doi: string }).doi, '10.1038/nature14539');
  assert.deepEqual(classifyIdentifier('arXiv:1706.03762v5'), { input: 'arXiv:1706.03762v5', kind: 'arxiv', arxivId: '1706.03762' });
  assert.equal((classifyIdentifier('https://arxiv.org/abs/hep-th/9901001') as { arxivId: string }).arxivId, 'hep-th/9901001');
  assert.equal((classifyIdentifier('10.48550/arXiv.2304.05376') as { arxivId: string }).arxivId, '2304.05376');
  assert.equal(classifyIdentifier('https://www.nature.com/articles/nature14539').kind, 'url');
  for (const bad of ['10.1000', 'doi:10.abc/x', 'arXiv:12345', 'hello', 'ftp://x.org/a']) assert.equal(classifyIdentifier(bad).kind, 'invalid', bad);
  assert.equal(doiFromLandingPage('<meta name="citation_doi" content="10.1234/ABC.5">'), '10.1234/abc.5');
  assert.equal(doiFromLandingPage("<meta content='doi:10.1234/x' name='dc.identifier'>"), '10.1234/x');
  assert.equal(doiFromLandingPage('<meta name="citation_title" content="No DOI here">'), undefined);
});

test('keys: the default pattern as in JabRef/Better BibTeX, modifiers, a/b suffixes, bad patterns refused', () => {
  assert.equal(keyFromPattern('[auth:lower][year][shorttitle]', REC), 'muller2021SequencingDnaGaussian');
  assert.equal(keyFromPattern('[auth][shortyear]-[veryshorttitle:lower]', REC), 'Muller21-sequencing');
  assert.equal(keyFromPattern('[authors2:lower]_[year]', { ...REC, authors: [...REC.authors, { family: 'Cole' }] }), 'mullervandenbergetal_2021');
  const taken = new Set(['muller2021', 'muller2021a']);
  assert.equal(uniqueKey('muller2021', (k) => taken.has(k)), 'muller2021b');
  assert.throws(() => validateKeyPattern('[nosuchfield]'), /unknown field marker/);
  assert.throws(() => validateKeyPattern('[auth:shout]'), /unknown modifier/);
  assert.throws(() => validateKeyPattern('plain'), /no field marker/);
});

test('records: Crossref CSL-JSON with HTML in the title, subtitle, particles, organisations, one-page ranges', () => {
  const r = recordFromCsl({
    type: 'article-journal',
    DOI: '10.1/X',
    title: 'The <i>lac</i> operon &amp; friends',
    subtitle: ['a review'],
    author: [{ family: 'Beethoven', given: 'Ludwig', 'non-dropping-particle': 'van' }, { literal: 'The Consortium' }],
    'container-title': 'Cell',
    issued: { 'date-parts': [[2019, 7]] },
    'published-print': { 'date-parts': [[2020]] },
    page: '373-373',
    ISSN: ['0092-8674'],
    source: 'Crossref',
  });
  assert.equal(r.title, 'The lac operon & friends: a review');
  assert.deepEqual(r.authors, [{ family: 'Beethoven', given: 'Ludwig', particle: 'van' }, { family: 'The Consortium', literal: true }]);
  assert.equal(r.pages, '373');
  assert.deepEqual(r.years.sort(), [2019, 2020]);
  assert.equal(r.type, 'article');
  assert.equal(r.source, 'crossref');
});

test('format: LaTeX specials escaped, accents as LaTeX in an ASCII file, acronyms protected as the file does', () => {
  assert.equal(latexEscape('50% of R&D_costs $5 #1'), '50\\% of R\\&D\\_costs \\$5 \\#1');
  assert.equal(latexEscape('Müller Ångström', true), 'M{\\"u}ller {\\AA}ngstr{\\"o}m');
  assert.equal(formatTitle('Sequencing DNA with mRNA-based Group-Like tools', { protect: 'words', asciiOnly: false }), 'Sequencing {DNA} with {mRNA-based} Group-Like tools');
  assert.equal(formatTitle('A DNA title', { protect: 'title', asciiOnly: false }), '{A DNA title}');
  assert.equal(formatTitle('A DNA title', { protect: 'none', asciiOnly: false }), 'A DNA title');
});

test('style: a BibLaTeX file gets journaltitle/date, aligned `=`, its field order; a quoted, tab-indented BibTeX file gets quotes and tabs', () => {
  const biblatex = parseBib(readFileSync(path.join(repo, 'test/fixtures/bib/biblatex-examples.bib'), 'utf8'));
  const text = renderEntry(REC, 'k', detectStyle(biblatex));
  assert.match(text, /^@article\{k,\n  author {7}= \{M/);
  assert.match(text, /\n  journaltitle = \{Journal of Fruit \\& Vegetables\},\n/);
  assert.match(text, /\n  date {9}= \{2021-05\},\n/);
  assert.doesNotMatch(text, /\bjournal\s*=|\byear\s*=/);
  const quoted = parseBib('@Article{a,\n\tAuthor = "Doe, J.",\n\tTitle = "One",\n\tJournal = "J",\n\tYear = 2001,\n\tMonth = jan\n}\n\n@Article{b,\n\tAuthor = "Roe, R.",\n\tTitle = "Two",\n\tJournal = "K",\n\tYear = 2002,\n\tMonth = feb\n}\n');
  const t2 = renderEntry(REC, 'k', detectStyle(quoted));
  assert.match(t2, /^@Article\{k,\n\tAuthor = "M.*",\n\tTitle = "Sequencing DNA/);
  assert.match(t2, /\n\tYear = 2021,\n\tMonth = may,?\n/);
  assert.match(t2, /\n\tVolume = 12,/);
  assert.match(t2, /\n\}$/);
  assert.doesNotMatch(t2, /,\n\}$/, 'no trailing comma: the file has none');
});

test('add: duplicates by DOI, arXiv id or title+year are refused with the existing key; the insertion is the only change', () => {
  const base = '@article{old,\n  title = {Sequencing {DNA} of the Gaussian peach: a study},\n  year = {2021},\n}\n\n@misc{pre,\n  title = {P},\n  eprint = {2101.00001},\n  archiveprefix = {arXiv},\n}\n';
  const file = parseBib(base);
  const ok = (record: BibRecord) => ({ input: record.doi ?? record.arxivId ?? '', id: classifyIdentifier('10.1/x'), result: { ok: true as const, record } });
  const plan = planAdditions(file, [ok({ ...REC, doi: '10.9/other' }), ok({ ...REC, title: 'Else', doi: undefined, arxivId: '2101.00001', type: 'misc' }), ok({ ...REC, title: 'New work', doi: '10.9/new' }), ok({ ...REC, title: 'New work again', doi: '10.9/NEW' })]);
  assert.deepEqual(plan.results.map((r) => [r.outcome, r.existingKey ?? r.key]), [['duplicate', 'old'], ['duplicate', 'pre'], ['added', 'muller2021NewWork'], ['duplicate', 'muller2021NewWork']]);
  const after = applyEdits(base, [plan.edit!]);
  assert.ok(after.startsWith(base), 'the file before the insertion is unchanged');
  assert.equal(parseBib(after).entries.length, 3);
});

function entry(fields: string) {
  const f = parseBib(`@article{k,\n${fields}\n}\n`);
  return { file: f, entry: f.entries[0], style: detectStyle(f) };
}

test('compare: never poorer — full names over initials, {DNA} protection, page range over one page, LaTeX ≡ Unicode, abbreviated journals, any of the record\u2019s years', () => {
  const { entry: e, style } = entry(
    "  author = {M{\\\"u}ller, J{\\\"u}rgen Karl and van den Berg, Anna},\n  title = {Sequencing {DNA} of the {Gaussian} peach: A Study},\n  journal = {J. Fruit \\& Veg.},\n  volume = {12},\n  number = {3},\n  pages = {101--120},\n  year = {2020},\n  publisher = {Fruit Press Ltd.},\n  issn = {12345678}",
  );
  const c = compareEntry(e, REC, style);
  assert.equal(c.outcome, 'ok');
  assert.deepEqual(c.outcome === 'ok' && c.proposals, []);
  // The record poorer than the entry: initials, one page, lower-case title.
  const poorer = { ...REC, authors: [{ family: 'Müller', given: 'J. K.' }, { family: 'Berg', given: 'A.', particle: 'van den' }], pages: '101', title: 'sequencing dna of the gaussian peach: a study' };
  assert.deepEqual((compareEntry(e, poorer, style) as { proposals: unknown[] }).proposals, []);
});

test('compare: richer and corrected values are proposed; a record naming another work is refused; kept and listed fields respected', () => {
  const { entry: e, style } = entry('  author = {M{\\"u}ller, J. K. and van den Berg, A.},\n  title = {Sequencing {DNA} of the Gausian peach},\n  journal = {Journal of Apples},\n  volume = {21},\n  pages = {101},\n  year = {2017}');
  const c = compareEntry(e, REC, style);
  assert.equal(c.outcome, 'ok');
  const got = Object.fromEntries((c as { proposals: { field: string; new: string; reason: string }[] }).proposals.map((p) => [p.field, p.new]));
  assert.deepEqual(Object.keys(got).sort(), ['author', 'journal', 'pages', 'title', 'volume', 'year']);
  // The file writes accents as LaTeX (and nothing else non-ASCII): so do the new values.
  assert.equal(got.author, 'M{\\"u}ller, J{\\"u}rgen Karl and van den Berg, Anna');
  assert.equal(got.title, 'Sequencing {DNA} of the Gaussian peach: a study', 'the entry\u2019s protected word keeps its braces');
  assert.equal(got.pages, '101--120');
  assert.equal(got.year, '2021');
  assert.equal(got.journal, 'Journal of Fruit \\& Vegetables');
  const kept = compareEntry(e, REC, style, { kept: new Set(['journal', 'title']), fields: new Set(['journal', 'title', 'volume']) }) as { proposals: { field: string }[] };
  assert.deepEqual(kept.proposals.map((p) => p.field), ['volume']);
  const other = compareEntry(e, { ...REC, title: 'Quantum chromodynamics on the lattice', authors: [{ family: 'Wilson', given: 'Ken' }] }, style);
  assert.equal(other.outcome, 'mismatch');
});

test('update edits: only the changed fields\u2019 bytes differ, several fields of one entry in one edit, a protected entry never', () => {
  const text = '@article{a,\n  title  = {Sequencing DNA of the Gaussian peach: a study},\n  volume = "99",\n  year   = 2021\n}\n\n@article{b,\n  title = {T},\n  scholar = {skip}\n}\n';
  const file = parseBib(text);
  const p = (key: string, field: string, v: string) => ({ key, field, old: null, new: v, source: 'crossref', reason: 'x' });
  const { edits } = planUpdateEdits(file, [p('a', 'volume', '12'), p('a', 'pages', '101--120'), p('a', 'number', '3'), p('b', 'volume', '1')]);
  assert.equal(edits.length, 1);
  const after = applyEdits(text, edits);
  assert.equal(after, '@article{a,\n  title  = {Sequencing DNA of the Gaussian peach: a study},\n  volume = "12",\n  year   = 2021,\n  pages  = {101--120},\n  number = {3}\n}\n\n@article{b,\n  title = {T},\n  scholar = {skip}\n}\n');
});

// ---- the CLI against the replay server ----
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
  const code = await runCli([...args, ...endpoints], { stdout: out.stream, stderr: err.stream, cwd, env: {}, signal: new AbortController().signal });
  return { code, stdout: out.text(), stderr: err.text() };
}

test('cli add: --json per id, duplicates with the existing key, malformed and unknown ids reported, --dry-run changes nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-add-'));
  copyFileSync(path.join(repo, 'test/fixtures/bib/jabref-complex.bib'), path.join(dir, 'refs.bib'));
  const before = readFileSync(path.join(dir, 'refs.bib'), 'utf8');
  const dry = await cli(dir, 'add', '10.1007/s10468-019-09889-1', '--to', 'refs.bib', '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^\+@article\{chirvasitu2019IntegralsLeftCoideal,$/m);
  assert.equal(readFileSync(path.join(dir, 'refs.bib'), 'utf8'), before);
  const r = await cli(dir, 'add', '10.1007/s10468-019-09889-1', 'nonsense', '10.9999/not.registered', '--to', 'refs.bib', '--json');
  assert.equal(r.code, 1, 'some ids failed');
  const res = JSON.parse(r.stdout).results;
  assert.deepEqual(res.map((x: { outcome: string }) => x.outcome), ['added', 'invalid', 'not_found']);
  const again = JSON.parse((await cli(dir, 'add', 'https://doi.org/10.1007/S10468-019-09889-1', '--to', 'refs.bib', '--json')).stdout).results;
  assert.deepEqual(again, [{ id: 'https://doi.org/10.1007/S10468-019-09889-1', key: null, outcome: 'duplicate', existingKey: 'chirvasitu2019IntegralsLeftCoideal', message: 'already in the file as chirvasitu2019IntegralsLeftCoideal' }]);
  const bad = await cli(dir, 'add', '10.1/x', '--to', 'refs.bib', '--key-pattern', '[nope]');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown field marker \[nope\]/);
});

test('cli update: --dry-run prints a diff that patch applies, --json lists {key, field, old, new, source}, the write changes only those lines', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-upd-'));
  const text = '@article{chirvasitu2019,\n  author = {Chirvasitu, Alexandru and Kasprzak, Pawe{\\l} and Szulim, Piotr},\n  title = {Integrals in Left Coideal Subalgebras and Group-Like Projections},\n  journal = {Algebras and Representation Theory},\n  volume = {32},\n  pages = {1499},\n  year = {2019},\n  doi = {10.1007/s10468-019-09889-1},\n}\n';
  writeFileSync(path.join(dir, 'refs.bib'), text);
  const dry = await cli(dir, 'update', 'refs.bib', '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(readFileSync(path.join(dir, 'refs.bib'), 'utf8'), text, '--dry-run writes nothing');
  writeFileSync(path.join(dir, 'fix.diff'), dry.stdout);
  const copy = path.join(dir, 'copy');
  writeFileSync(path.join(dir, 'copy.bib'), text);
  const pr = spawnSync('patch', ['-s', '-o', copy, path.join(dir, 'copy.bib'), path.join(dir, 'fix.diff')], { encoding: 'utf8' });
  assert.equal(pr.status, 0, pr.stderr + pr.stdout);
  const json = JSON.parse((await cli(dir, 'update', 'refs.bib', '--json', '--dry-run')).stdout);
  assert.deepEqual(json.changes, [
    { key: 'chirvasitu2019', field: 'volume', old: '32', new: '23', source: 'crossref' },
    { key: 'chirvasitu2019', field: 'pages', old: '1499', new: '1499--1522', source: 'crossref' },
  ]);
  const only = JSON.parse((await cli(dir, 'update', 'refs.bib', '--json', '--dry-run', '--fields', 'pages')).stdout);
  assert.deepEqual(only.changes.map((c: { field: string }) => c.field), ['pages']);
  const w = await cli(dir, 'update', 'refs.bib');
  assert.equal(w.code, 0, w.stderr);
  const after = readFileSync(path.join(dir, 'refs.bib'), 'utf8');
  assert.equal(after, readFileSync(copy, 'utf8'), 'the written file is what the patch gives');
  assert.equal(after, text.replace('volume = {32}', 'volume = {23}').replace('pages = {1499}', 'pages = {1499--1522}'));
  assert.equal((await cli(dir, 'update', 'refs.bib', '--fields', 'bogus')).code, 2);
});

test('registry records: Crossref REST first (with notices), DataCite CSL-JSON through doi.org for an arXiv DOI, null for an unknown DOI', async () => {
  const { ScholarHttp } = await import('../../src/core/net/http');
  const { registryRecord } = await import('../../src/core/update/update');
  server.addWorks([{ doi: '10.5555/replay.dc.1', title: 'A preprint registered with DataCite', authors: [{ family: 'Noether', given: 'Emmy' }], year: 2023, arxivId: '2309.99999', type: 'posted-content' }]);
  const http = new ScholarHttp({ email: 't@example.org', endpoints: server.endpoints });
  try {
    const dc = await registryRecord(http, '10.48550/arxiv.2309.99999');
    assert.equal(dc?.source, 'datacite');
    assert.equal(dc?.title, 'A preprint registered with DataCite');
    assert.deepEqual(dc?.authors, [{ family: 'Noether', given: 'Emmy' }]);
    assert.equal(dc?.arxivId, '2309.99999');
    const cr = await registryRecord(http, '10.1073/pnas.1414271111');
    assert.equal(cr?.source, 'crossref');
    assert.deepEqual(cr?.updates.map((u) => [u.type, u.doi]), [['correction', '10.1073/pnas.1507001112']]);
    assert.equal(await registryRecord(http, '10.9999/unknown.doi'), null);
  } finally {
    await http.close();
  }
});

test('unified diffs apply with patch --fuzz=0: hunks at the end of a file, and files without a final newline', async () => {
  const { unifiedDiff } = await import('../../src/core/resolve/writeback');
  const cases: [string, string][] = [
    ['a\nb\nc\nd\n', 'a\nb\nc,\nx\nd\n'],
    ['a\nb\n}\n', 'a\nb,\nc\n}\n'],
    ['a\nb\n}', 'a\nb\n}\n\n@x{k}\n'],
    ['a\nb\n}\n', 'a\nb\n}\n\n@x{k}'],
    ['a\nb', 'a\nc'],
    ['', '@x{k}\n'],
  ];
  for (const [before, after] of cases) {
    const dir = mkdtempSync(path.join(tmpdir(), 'scholar-patch-'));
    writeFileSync(path.join(dir, 'f.bib'), before);
    writeFileSync(path.join(dir, 'f.diff'), unifiedDiff(before, after, 'f.bib'));
    const r = spawnSync('patch', ['-p1', '--fuzz=0', '-i', 'f.diff'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, `${JSON.stringify([before, after])}: ${r.stdout}${r.stderr}\n${unifiedDiff(before, after, 'f.bib')}`);
    assert.equal(readFileSync(path.join(dir, 'f.bib'), 'utf8'), after, JSON.stringify([before, after]));
  }
});

test('format: a DOI with an underscore is written verbatim (biblatex reads doi verbatim); braces in a title cannot break out', () => {
  const text = renderEntry({ ...REC, doi: '10.1016/j.jm_2020.1', title: 'Evil} title = {x' }, 'k', detectStyle(parseBib('')));
  assert.match(text, /doi = \{10\.1016\/j\.jm_2020\.1\}/);
  const e = parseBib(text).entries[0];
  assert.equal(e.fields.get('title')!.value, 'Evil\\textbraceright{} title = \\textbraceleft{}x');
  assert.equal(e.fields.size, new Set([...e.fields.keys()]).size);
  assert.ok(!e.fields.has('x'));
});
