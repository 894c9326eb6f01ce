// API requests per entry of one `scholar fetch` of N entries (default 1,000) through the CLI binary
// against the replay server (dist/replay.js): the first N records of test/fixtures/corpus (real
// Crossref records, sorted by DOI) as a .bib with their DOIs, every lane at 500 req/s (a scaled run,
// not the real limits). Counts are the job's own `requests` (its --json report), per service.
// node test/bench/requests-fetch.mjs <repo-root-with-dist> [N]
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import path from 'node:path';
const R = path.resolve(process.argv[2]);
const N = Number(process.argv[3] ?? 1000);
const here = path.dirname(new URL(import.meta.url).pathname);
const records = readFileSync(path.join(here, '../fixtures/corpus/crossref-works.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const esc = (s) => String(s).replace(/[{}\\]/g, ' ');
const bib = records.slice(0, N).map((r, i) => {
  const authors = (r.author ?? []).filter((a) => a.family).map((a) => `${esc(a.family)}${a.given ? `, ${esc(a.given)}` : ''}`).join(' and ');
  const year = r.issued?.['date-parts']?.[0]?.[0];
  return `@article{e${i},\n  title = {${esc(r.title?.[0] ?? 'Untitled')}},\n${authors ? `  author = {${authors}},\n` : ''}${year ? `  year = {${year}},\n` : ''}  doi = {${r.DOI}}\n}\n`;
}).join('\n');
const d = mkdtempSync(path.join(tmpdir(), 'b17f-'));
writeFileSync(path.join(d, 'refs.bib'), bib);
const rp = spawn(process.execPath, [path.join(R, 'dist/replay.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
const line = await new Promise((res) => rp.stdout.once('data', (b) => res(b.toString())));
const { endpoints, origin } = JSON.parse(line);
const ep = ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi'].flatMap((s) => ['--endpoint', `${s}=${endpoints[s]}`]);
const lim = ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi', 'pdf'].flatMap((s) => ['--limit', `${s}=500/8`]);
const load0 = loadavg()[0];
const t0 = Date.now();
const out = await new Promise((res) => execFile(process.execPath, [path.join(R, 'dist/cli.js'), 'fetch', 'refs.bib', '--storage', 'st', '--mailto', 'm@scholar.invalid', '--proxy', 'none', '--json', ...ep, ...lim], { cwd: d, env: { PATH: process.env.PATH }, maxBuffer: 1 << 28 }, (e, stdout, stderr) => res(stdout || (rp.kill(), console.error(String(e), stderr), process.exit(1)))));
const ms = Date.now() - t0;
const j = JSON.parse(out);
const API = ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv'];
const req = j.requests ?? {};
const api = API.reduce((a, s) => a + (req[s] ?? 0), 0);
const byOutcome = {};
for (const e of j.entries) byOutcome[e.outcome] = (byOutcome[e.outcome] ?? 0) + 1;
const reasons = {};
for (const e of j.entries) if (e.reason) reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
const st = await (await fetch(`${origin}/__replay/stats`)).json();
console.log(JSON.stringify({ entries: j.entries.length, makespanS: ms / 1000, load1: [load0, loadavg()[0]], requests: req, apiRequests: api, apiPerEntry: api / j.entries.length, outcomes: byOutcome, reasons, replayRequests: st.requests }, null, 1));
// Per entry, for comparing runs: outcome and reason.
writeFileSync(process.env.OUT ?? path.join(d, 'outcomes.json'), JSON.stringify(Object.fromEntries(j.entries.map((e) => [e.key, [e.outcome, e.reason ?? null]]))));
rp.kill();
