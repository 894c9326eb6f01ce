// Citation completion at 10,000 entries: what one keystroke inside \cite{…} costs Scholar — finding
// the citation context in the text around the cursor (src/core/tex/citeContext.ts), ranking every
// candidate (src/core/cite/rank.ts) and building the 100 items' fields — timed per keystroke.
//
// Entries: the 3,179 real Crossref records of test/fixtures/corpus, cycled to 10,000 candidates with
// BibTeX-style keys (family name + year + a/b/…); 6,000 stand for the document's .bib, 4,000 for
// library-only entries. Keystrokes: 400 keys, 150 title words and 150 family names typed letter by
// letter from the first (empty) prefix, at a \cite{ in a 2,000-line document. Seeded, deterministic.
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CiteRanker, type CiteCandidate } from '../../src/core/cite/rank';
import { citeContextAt } from '../../src/core/tex/citeContext';
import { rng } from './rng';

type Rec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any


const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

export function candidatesFromCorpus(root: string, n: number): CiteCandidate[] {
  const recs: Rec[] = readFileSync(path.join(root, 'test/fixtures/corpus/crossref-works.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const used = new Map<string, number>();
  const out: CiteCandidate[] = [];
  for (let i = 0; i < n; i++) {
    const r = recs[i % recs.length]!;
    const authors: string[] = (r.author ?? []).map((a: Rec) => [a.given, a.family ?? a.name].filter(Boolean).join(' '));
    const families: string[] = (r.author ?? []).map((a: Rec) => String(a.family ?? a.name ?? ''));
    const year: number | undefined = r.issued?.['date-parts']?.[0]?.[0] ?? r.published?.['date-parts']?.[0]?.[0];
    const base = `${(families[0] || 'anon').toLowerCase().replace(/[^a-z]/g, '') || 'anon'}${year ?? ''}`;
    const k = used.get(base) ?? 0;
    used.set(base, k + 1);
    const key = k ? `${base}${String.fromCharCode(96 + (k % 26) || 122)}${k > 26 ? Math.floor(k / 26) : ''}` : base;
    out.push({
      key,
      title: String(r.title?.[0] ?? '').replace(/<[^>]+>/g, ''),
      authors,
      families,
      year,
      venue: r['container-title']?.[0],
      doi: r.DOI,
      hasPdf: i % 3 === 0,
      inBibliography: i < (n * 6) / 10,
      inLibrary: i >= (n * 6) / 10 || i % 2 === 0,
    });
  }
  return out;
}

export function runCompletion(opts: { root: string; entries?: number; words?: number }) {
  const n = opts.entries ?? 10_000;
  const cands = candidatesFromCorpus(opts.root, n);
  const buildMs: number[] = [];
  let ranker!: CiteRanker;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    ranker = new CiteRanker(cands);
    buildMs.push(performance.now() - t);
  }
  const rand = rng(20);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const typed: string[] = [];
  const words = opts.words ?? 700;
  for (let i = 0; i < (words * 4) / 7; i++) typed.push(pick(cands).key);
  for (let i = 0; i < (words * 1.5) / 7; i++) typed.push((pick(cands).title ?? '').split(/\s+/).find((w) => w.length > 4)?.toLowerCase() ?? 'model');
  for (let i = 0; i < (words * 1.5) / 7; i++) typed.push((pick(cands).families?.[0] ?? 'smith').toLowerCase());

  const filler = Array.from({ length: 2000 }, (_, i) => `Line ${i} of the text, citing \\citep[p.~${i}]{${cands[i % n]!.key}} as usual.`).join('\n');
  const head = filler.slice(0, filler.length / 2) + '\nAs shown by \\parencite[see][12]{';
  const tail = '} and others.\n' + filler.slice(filler.length / 2);
  const times: number[] = [];
  const cpu: number[] = [];
  let items = 0;
  // The first keystroke after the bibliography or the library changed: a fresh ranker, nothing cached.
  const coldCpu: number[] = [];
  for (const ch of ['w', 's', 'k']) {
    const fresh = new CiteRanker(cands);
    const c0 = process.cpuUsage();
    fresh.rank(ch, 100);
    const c1 = process.cpuUsage(c0);
    coldCpu.push((c1.user + c1.system) / 1000);
  }
  // One untimed pass over a few words first: the JIT, not the ranking, would be measured otherwise.
  for (const w of typed.slice(0, 30)) new CiteRanker(cands.slice(0, 500)).rank(w, 100);
  for (const word of typed) {
    for (let len = 0; len <= word.length; len++) {
      const prefix = word.slice(0, len);
      const offset = head.length + len;
      const from = Math.max(0, offset - 2000);
      // The provider asks VS Code for this window around the cursor (TextDocument.getText(range)).
      const window = (head + prefix + tail).slice(from, offset + 600);
      const c0 = process.cpuUsage();
      const t = performance.now();
      const ctx = citeContextAt(window, offset - from);
      if (!ctx) throw new Error(`no citation context at ${offset}`);
      const ranked = ranker.rank(ctx.prefix, 100);
      const list = ranked.map((r, i) => ({ label: r.candidate.key, sortText: String(i).padStart(4, '0'), detail: r.candidate.title, description: `${r.candidate.families?.[0] ?? ''} ${r.candidate.year ?? ''}` }));
      times.push(performance.now() - t);
      const c1 = process.cpuUsage(c0);
      cpu.push((c1.user + c1.system) / 1000);
      items += list.length;
    }
  }
  return {
    loadAverage: os.loadavg().map((x) => x.toFixed(1)).join(' '),
    entries: n,
    inBibliography: cands.filter((c) => c.inBibliography).length,
    words: typed.length,
    keystrokes: times.length,
    meanItems: items / times.length,
    buildMsMedian: pct(buildMs, 50),
    coldOneLetterCpuMs: pct(coldCpu, 50),
    ms: { p50: pct(times, 50), p95: pct(times, 95), p99: pct(times, 99), max: Math.max(...times) },
    cpuMs: { p50: pct(cpu, 50), p95: pct(cpu, 95), p99: pct(cpu, 99), max: Math.max(...cpu) },
  };
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const int = (x: number) => Math.round(x).toLocaleString('en-US');

export function completionSection(r: ReturnType<typeof runCompletion>): string[] {
  return [
    '## 9. Citation completion',
    '',
    `\`test/bench/completion.ts\`: one keystroke inside \`\\parencite[see][12]{…}\` in a 2,000-line document, as the completion provider (src/host/completion.ts) does it — the citation context from the text around the cursor (\`citeContextAt\`), the ranking of every candidate (\`CiteRanker.rank\`, src/core/cite/rank.ts) and the 100 items' fields. ${int(r.entries)} candidates from the ${int(3179)} real Crossref records of \`test/fixtures/corpus\` (cycled, BibTeX-style keys; ${int(r.inBibliography)} as the document's .bib, the rest library-only). ${int(r.words)} keys, title words and family names typed letter by letter: ${int(r.keystrokes)} keystrokes, ${f1(r.meanItems)} items each on average. In-process Node, no VS Code: the editor's own IPC and rendering come on top and are not measured here. Load average (1, 5, 15 min) at the end of the run: ${r.loadAverage} on this 2-core machine shared with other engineers' builds and tests, so the figures carry CPU contention. The ranker keeps the results of one- and two-letter fragments (the costliest: nearly every entry matches) until the bibliography or the library changes, and re-ranks only the previous matches when a fragment grows, so these figures are those of a session in which citations are typed one after another; the cold first keystroke is reported separately. Rerun alone with \`node test/bench/run.mjs --only completion\`.`,
    '',
    '| figure | result | target |',
    '|---|---|---|',
    `| completion latency per keystroke at ${int(r.entries)} entries, p50 / p95 / p99 / max | ${f2(r.ms.p50)} / **${f2(r.ms.p95)}** / ${f2(r.ms.p99)} / ${f1(r.ms.max)} ms | p95 < 50 ms (issue 20) |`,
    `| CPU time of this process per keystroke (\`process.cpuUsage\`), p50 / p95 / p99 / max: what a keystroke costs without contention | ${f2(r.cpuMs.p50)} / **${f2(r.cpuMs.p95)}** / ${f2(r.cpuMs.p99)} / ${f1(r.cpuMs.max)} ms | |`,
    `| CPU time of the first one-letter keystroke after a change (fresh ranker, nothing cached), median of 3 | ${f1(r.coldOneLetterCpuMs)} ms | |`,
    `| building the ranker (once per change of the bibliography or the library), median of 5 | ${f1(r.buildMsMedian)} ms | |`,
    '',
  ];
}
