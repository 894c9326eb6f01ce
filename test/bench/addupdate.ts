// Add and Update against the replay corpus (test/fixtures/corpus: 3,179 real Crossref records).
//
// Add: `scholar add` (the CLI, in process) adds 50 DOIs of the corpus to .bib files of three styles
// (an empty file, BibLaTeX biblatex-examples.bib, Mendeley's alphabetical export); each new entry's
// title, authors (family names, in order), year and venue are compared with the record. Then the
// same DOIs again (all must be refused as duplicates) and malformed ids (all must be reported).
//
// Update: 300 corpus works written as a researcher would (no Scholar code involved), with seeded
// errors — a wrong volume, number, year, page range, journal, a title typo, an author replaced or
// dropped, a missing field — and benign variants that are not errors (LaTeX accents, protected
// words, `-` vs `--`, an abbreviated journal, initials where the record has initials, a local page
// range where the record has one page). `proposeUpdates` must propose exactly the seeded fields
// with the record's value (precision, recall), and the applied edits must change no other line.
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { parseBib } from '../../src/core/bib/parse';
import { latexToUnicode, normalizeForMatch, parseAuthors } from '../../src/core/bib/latex';
import { applyEdits } from '../../src/core/bib/edit';
import { ScholarHttp } from '../../src/core/net/http';
import { SERVICE_NAMES, type PolicyOverrides } from '../../src/core/net/policy';
import { planUpdateEdits, proposeUpdates } from '../../src/core/update/update';
import { startReplayServer } from '../../src/replay';
import { rng } from './rng';

type Rec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any


const first = (v: unknown) => (Array.isArray(v) ? String(v[0] ?? '') : typeof v === 'string' ? v : '');
const strip = (s: string) => s.replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/\s+/g, ' ').trim();
const years = (r: Rec) => ['issued', 'published-print', 'published-online', 'published'].map((k) => r[k]?.['date-parts']?.[0]?.[0]).filter((y): y is number => typeof y === 'number');
const fullTitle = (r: Rec) => {
  const t = strip(first(r.title));
  const s = strip(first(r.subtitle));
  return s && !t.toLowerCase().includes(s.toLowerCase()) ? `${t.replace(/[:.]\s*$/, '')}: ${s}` : t;
};

/** Works usable for the figures: a journal article with title, authors, year, venue, volume and pages. */
function usable(r: Rec): boolean {
  const t = fullTitle(r);
  return (
    r.type === 'journal-article' &&
    t.length > 20 &&
    !/[\\{}$^_~#%]/.test(t) &&
    Array.isArray(r.author) &&
    r.author.length >= 2 &&
    r.author.every((a: Rec) => a.family && a.given && !/[{}\\]/.test(a.family + a.given)) &&
    years(r).length > 0 &&
    !!first(r['container-title']) &&
    !!r.volume &&
    /^\d+-\d+$/.test(String(r.page ?? '')) &&
    !r['updated-by']
  );
}

const tex = (s: string) => s.replace(/([&%$#_])/g, '\\$1');

export interface AddUpdateResult {
  add: {
    ids: number;
    files: { file: string; added: number; fieldsChecked: number; fieldsCorrect: number; wrong: { key: string; field: string; got: string; want: string }[]; parseErrorsAfter: number }[];
    fieldAccuracy: number;
    duplicatesRefused: number;
    malformed: { id: string; outcome: string }[];
    elapsedMs: number;
  };
  update: {
    entries: number;
    seeded: number;
    benign: number;
    proposals: number;
    correct: number;
    precision: number;
    recall: number;
    falsePositives: { key: string; field: string; old: string | null; new: string; seed?: string }[];
    missed: { key: string; field: string; seed: string }[];
    otherLinesChanged: number;
    bySeed: Record<string, { seeded: number; found: number }>;
    elapsedMs: number;
  };
}

/** The real command-line tool (dist/cli.js, built by esbuild.mjs), as a user runs it. */
function runCliProcess(cliJs: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliJs, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 2, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

export async function runAddUpdate(opts: { root: string }): Promise<AddUpdateResult> {
  const fixtures = path.join(opts.root, 'test/fixtures');
  const corpus: Rec[] = readFileSync(path.join(fixtures, 'corpus/crossref-works.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const pool = corpus.filter(usable);
  const rand = rng(18);
  const shuffled = pool.map((r) => ({ r, k: rand() })).sort((a, b) => a.k - b.k).map((x) => x.r);
  const addSet = shuffled.slice(0, 50);
  const replay = await startReplayServer({ fixturesDir: fixtures });
  const policies: PolicyOverrides = {};
  for (const s of SERVICE_NAMES) policies[s] = { rate: { requests: 10_000, intervalMs: 1000 }, searchRate: { requests: 10_000, intervalMs: 1000 }, concurrency: 8 };
  const endpointArgs = Object.entries(replay.endpoints).filter(([s]) => s !== 'pdf').flatMap(([s, u]) => ['--endpoint', `${s}=${u}`]);
  const dir = mkdtempSync(path.join(tmpdir(), 'scholar-bench-add-'));
  const cliJs = path.join(opts.root, 'dist/cli.js');
  const cli = (args: string[]) => runCliProcess(cliJs, args, dir);
  try {
    // ---- Add ----
    const t0 = performance.now();
    const byDoi = new Map(addSet.map((r) => [String(r.DOI).toLowerCase(), r]));
    const files: AddUpdateResult['add']['files'] = [];
    let duplicatesRefused = 0;
    let malformed: { id: string; outcome: string }[] = [];
    for (const [name, src] of [['empty.bib', undefined], ['biblatex-examples.bib', 'bib/biblatex-examples.bib'], ['bbt-mendeley-export.bib', 'bib/bbt-mendeley-export.bib']] as const) {
      const file = path.join(dir, name);
      if (src) copyFileSync(path.join(fixtures, src), file);
      else writeFileSync(file, '');
      const before = parseBib(readFileSync(file, 'utf8')).entries.length;
      const r = await cli(['add', ...addSet.map((x) => String(x.DOI)), '--to', name, '--json', '--storage', 'no-storage', ...endpointArgs]);
      if (r.code !== 0) throw new Error(`scholar add exited ${r.code}: ${r.stderr}`);
      const results = JSON.parse(r.stdout).results as { id: string; key: string; outcome: string }[];
      const after = parseBib(readFileSync(file, 'utf8'));
      const wrong: AddUpdateResult['add']['files'][number]['wrong'] = [];
      let checked = 0;
      let correct = 0;
      for (const res of results) {
        const rec = byDoi.get(res.id.toLowerCase())!;
        const e = after.entries.find((x) => x.key === res.key);
        const fields: [string, string, string][] = [];
        const get = (n: string) => e?.fields.get(n)?.value ?? '';
        fields.push(['title', normalizeForMatch(get('title')), normalizeForMatch(fullTitle(rec))]);
        fields.push(['author', parseAuthors(get('author')).persons.map((p) => normalizeForMatch([p.von, p.last, p.jr].filter(Boolean).join(' '))).join('|'), rec.author.map((a: Rec) => normalizeForMatch(a.family)).join('|')]);
        const y = /\d{4}/.exec(get('year') || get('date'))?.[0] ?? '';
        fields.push(['year', y, String(years(rec)[0])]);
        fields.push(['venue', normalizeForMatch(get('journal') || get('journaltitle')), normalizeForMatch(strip(first(rec['container-title'])))]);
        for (const [field, got, want] of fields) {
          checked++;
          if (got === want && got) correct++;
          else wrong.push({ key: res.key, field, got, want });
        }
      }
      files.push({ file: name, added: after.entries.length - before, fieldsChecked: checked, fieldsCorrect: correct, wrong, parseErrorsAfter: after.errors.filter((x) => x.severity === 'error').length - parseBib(src ? readFileSync(path.join(fixtures, src), 'utf8') : '').errors.filter((x) => x.severity === 'error').length });
      if (name === 'empty.bib') {
        const again = await cli(['add', ...addSet.map((x) => String(x.DOI)), '--to', name, '--json', '--storage', 'no-storage', ...endpointArgs]);
        duplicatesRefused = (JSON.parse(again.stdout).results as { outcome: string }[]).filter((x) => x.outcome === 'duplicate').length;
        const bad = await cli(['add', '10.1000', 'doi:10.abc/x', 'arXiv:12345', 'not-a-doi', 'ftp://example.org/paper', '--to', name, '--json', '--storage', 'no-storage', ...endpointArgs]);
        malformed = (JSON.parse(bad.stdout).results as { id: string; outcome: string }[]).map((x) => ({ id: x.id, outcome: x.outcome }));
      }
    }
    const addElapsed = performance.now() - t0;

    // ---- Update ----
    const t1 = performance.now();
    const upSet = shuffled.slice(50, 350);
    const journals = [...new Set(pool.map((r) => strip(first(r['container-title']))))];
    const families = [...new Set(pool.flatMap((r) => r.author.map((a: Rec) => `${a.family}, ${a.given}`)))];
    type Seed = { key: string; field: string; seed: string };
    const seeds: Seed[] = [];
    const benign: Seed[] = [];
    const texts: string[] = [];
    const r2 = rng(1800);
    upSet.forEach((r, i) => {
      const key = `up${i}`;
      let authors: string[] = r.author.map((a: Rec) => `${tex(a.family)}, ${tex(a.given)}`);
      let title = tex(fullTitle(r));
      let journal = tex(strip(first(r['container-title'])));
      let volume: string | undefined = String(r.volume);
      let number: string | undefined = r.issue ? String(r.issue) : undefined;
      let pages: string | undefined = String(r.page).replace('-', '--');
      let year: string | undefined = String(years(r).find((y) => y === r['published-print']?.['date-parts']?.[0]?.[0]) ?? years(r)[0]);
      const kinds = ['volume', 'number', 'year', 'pages', 'journal', 'title', 'author-replaced', 'author-dropped', 'authors-swapped', 'missing-volume', 'missing-pages', 'missing-year', 'missing-journal', 'missing-number'];
      const nSeeds = r2() < 0.25 ? 0 : r2() < 0.7 ? 1 : 2;
      const chosen = new Set<string>();
      while (chosen.size < nSeeds) chosen.add(kinds[Math.floor(r2() * kinds.length)]);
      for (const k of chosen) {
        if (k === 'number' && !number) continue;
        if (k === 'missing-number' && !number) continue;
        // Two seeds on one field (an author replaced and one dropped) are one error to find.
        const add = (field: string) => void (seeds.some((s) => s.key === key && s.field === field) || seeds.push({ key, field, seed: k }));
        if (k === 'volume') (volume = String(Number(volume) + 1 + Math.floor(r2() * 9)) === volume ? `${volume}0` : String((Number(volume) || 0) + 1 + Math.floor(r2() * 9))), add('volume');
        else if (k === 'number') (number = String((Number(number) || 0) + 1 + Math.floor(r2() * 5))), add('number');
        else if (k === 'year') (year = String(Math.max(...years(r)) + 2 + Math.floor(r2() * 5))), add('year');
        else if (k === 'pages') {
          const [a, b] = String(r.page).split('-').map(Number);
          pages = `${a + 11}--${b + 11}`;
          add('pages');
        } else if (k === 'journal') {
          let j = journals[Math.floor(r2() * journals.length)];
          while (normalizeForMatch(j) === normalizeForMatch(journal) || j.length < 12) j = journals[Math.floor(r2() * journals.length)];
          journal = tex(j);
          add('journal');
        } else if (k === 'title') {
          // A typo: two letters of a longer word swapped, and one dropped elsewhere.
          const w = title.split(' ');
          const idx = w.findIndex((x) => /^[a-z]{6,}$/.test(x));
          if (idx < 0) continue;
          const x = w[idx];
          w[idx] = x[0] + x[2] + x[1] + x.slice(3, -2) + x.slice(-1);
          title = w.join(' ');
          add('title');
        } else if (k === 'author-replaced') {
          const j = Math.floor(r2() * authors.length);
          authors = authors.map((a, n) => (n === j ? tex(families[Math.floor(r2() * families.length)]) : a));
          add('author');
        } else if (k === 'authors-swapped') {
          authors = [authors[1], authors[0], ...authors.slice(2)];
          add('author');
        } else if (k === 'author-dropped') {
          authors = authors.slice(0, -1);
          add('author');
        } else if (k === 'missing-volume') (volume = undefined), add('volume');
        else if (k === 'missing-pages') (pages = undefined), add('pages');
        else if (k === 'missing-year') (year = undefined), add('year');
        else if (k === 'missing-journal') (journal = ''), add('journal');
        else if (k === 'missing-number') (number = undefined), add('number');
      }
      const seededHere = new Set(seeds.filter((s) => s.key === key).map((s) => s.field));
      // Benign variants on fields that carry no seed: none of them may be proposed.
      const b = r2() * 1.3;
      const mark = (field: string, what: string) => benign.push({ key, field, seed: what });
      if (b < 0.15 && pages && !seededHere.has('pages')) (pages = pages.replace('--', '-')), mark('pages', 'single dash');
      else if (b < 0.3 && !seededHere.has('title')) {
        const w = title.split(' ');
        const idx = w.findIndex((x, n) => n > 0 && /^[A-Z][a-z]{3,}$/.test(x));
        if (idx > 0) {
          w[idx] = `{${w[idx]}}`;
          title = w.join(' ');
          mark('title', 'protected word');
        }
      } else if (b < 0.45 && !seededHere.has('title')) (title = `{${title}}`), mark('title', 'title in double braces');
      else if (b < 0.6 && !seededHere.has('author')) {
        authors = authors.map((a) => a.normalize('NFD').replace(/([a-zA-Z])\u0301/g, "{\\'$1}").replace(/([a-zA-Z])\u0308/g, '{\\"$1}').normalize('NFC'));
        mark('author', 'LaTeX accents');
      } else if (b < 0.7 && !seededHere.has('title')) (title = title.toLowerCase()), mark('title', 'lower case');
      else if (b < 0.8 && !seededHere.has('journal') && journal) {
        const abbr = journal.split(' ').map((w) => (w.length > 5 ? `${w.slice(0, 4)}.` : w)).join(' ');
        if (abbr !== journal) (journal = abbr), mark('journal', 'abbreviated journal');
      } else if (b < 0.9 && pages && !seededHere.has('pages')) (pages = pages.replace('--', '–')), mark('pages', 'en dash');
      else if (b < 1.0 && !seededHere.has('author')) {
        authors = r.author.slice(0, authors.length).map((a: Rec) => `${tex(a.given)} ${/\s/.test(a.family) ? `{${tex(a.family)}}` : tex(a.family)}`);
        mark('author', 'Given Family order');
      } else if (b < 1.1 && !seededHere.has('title')) (title = `${title}.`), mark('title', 'trailing period');
      const fields: [string, string | undefined][] = [
        ['author', authors.join(' and ')],
        ['title', title],
        ['journal', journal || undefined],
        ['year', year],
        ['volume', volume],
        ['number', number],
        ['pages', pages],
        ['doi', String(r.DOI)],
      ];
      const present = fields.filter(([, v]) => v !== undefined) as [string, string][];
      const width = Math.max(...present.map(([k]) => k.length));
      texts.push(`@article{${key},\n${present.map(([k, v]) => `  ${k.padEnd(width)} = {${v}},`).join('\n')}\n}\n`);
    });
    const bibText = texts.join('\n');
    const file = parseBib(bibText);
    const http = new ScholarHttp({ email: 'bench@example.org', endpoints: replay.endpoints, policies });
    let updates;
    try {
      updates = await proposeUpdates(http, file, { concurrency: 8 });
    } finally {
      await http.close();
    }
    const proposals = updates.flatMap((u) => u.proposals);
    const recOf = new Map(upSet.map((r, i) => [`up${i}`, r]));
    const want = (key: string, field: string): string => {
      const r = recOf.get(key)!;
      switch (field) {
        case 'title':
          return normalizeForMatch(fullTitle(r));
        case 'author':
          return r.author.map((a: Rec) => normalizeForMatch(a.family)).join('|');
        case 'journal':
          return normalizeForMatch(strip(first(r['container-title'])));
        case 'year':
          return years(r).map(String).join('|');
        case 'pages':
          return String(r.page);
        case 'volume':
          return String(r.volume);
        case 'number':
          return String(r.issue);
      }
      return '';
    };
    const got = (field: string, v: string): string => {
      if (field === 'title' || field === 'journal') return normalizeForMatch(v);
      // "Raimundo, Jr., Ivo": the record's family name is "Raimundo, Jr."
      if (field === 'author') return parseAuthors(v).persons.map((p) => normalizeForMatch([p.von, p.last, p.jr].filter(Boolean).join(' '))).join('|');
      if (field === 'pages') return latexToUnicode(v).replace(/[–-]+/g, '-');
      return v.trim();
    };
    const isSeeded = (p: { key: string; field: string }) => seeds.some((s) => s.key === p.key && s.field === p.field);
    const valueRight = (p: { key: string; field: string; new: string }) => (p.field === 'year' ? want(p.key, 'year').split('|').includes(p.new) : got(p.field, p.new) === want(p.key, p.field));
    const correct = proposals.filter((p) => isSeeded(p) && valueRight(p));
    const falsePositives = proposals.filter((p) => !(isSeeded(p) && valueRight(p))).map((p) => ({ key: p.key, field: p.field, old: p.old, new: p.new, seed: [...seeds, ...benign].find((s) => s.key === p.key && s.field === p.field)?.seed }));
    const missed = seeds.filter((s) => !correct.some((p) => p.key === s.key && p.field === s.field));
    // Nothing but the proposed fields' lines may change.
    const { edits } = planUpdateEdits(file, proposals);
    const after = applyEdits(bibText, edits);
    const beforeLines = new Set(bibText.split('\n'));
    const changedLines = after.split('\n').filter((l) => !beforeLines.has(l));
    const otherLinesChanged = changedLines.filter((l) => !proposals.some((p) => new RegExp(`^\\s*${p.field}\\s*=`).test(l))).length;
    const bySeed: Record<string, { seeded: number; found: number }> = {};
    for (const s of seeds) {
      const b = (bySeed[s.seed] ??= { seeded: 0, found: 0 });
      b.seeded++;
      if (!missed.includes(s)) b.found++;
    }
    const totalChecked = files.reduce((a, f) => a + f.fieldsChecked, 0);
    return {
      add: {
        ids: addSet.length,
        files,
        fieldAccuracy: files.reduce((a, f) => a + f.fieldsCorrect, 0) / totalChecked,
        duplicatesRefused,
        malformed,
        elapsedMs: addElapsed,
      },
      update: {
        entries: upSet.length,
        seeded: seeds.length,
        benign: benign.length,
        proposals: proposals.length,
        correct: correct.length,
        precision: proposals.length ? correct.length / proposals.length : NaN,
        recall: seeds.length ? (seeds.length - missed.length) / seeds.length : NaN,
        falsePositives,
        missed,
        otherLinesChanged,
        bySeed,
        elapsedMs: performance.now() - t1,
      },
    };
  } finally {
    await replay.close();
  }
}
