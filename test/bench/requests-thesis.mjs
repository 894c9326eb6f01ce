// Requests per service for one CLI resolve + fetch of examples/thesis (27 entries) against the replay
// server (dist/replay.js), every lane at 500 req/s: node test/bench/requests-thesis.mjs <repo-root-with-dist>
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
const R = process.argv[2];
const d = mkdtempSync(path.join(tmpdir(), 'b17m-'));
cpSync(path.join(R, 'examples/thesis'), d, { recursive: true });
const rp = spawn(process.execPath, [path.join(R, 'dist/replay.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
const line = await new Promise((res) => rp.stdout.once('data', (b) => res(b.toString())));
const { endpoints } = JSON.parse(line);
const ep = ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi'].flatMap((s) => ['--endpoint', `${s}=${endpoints[s]}`]);
const lim = ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi', 'pdf'].flatMap((s) => ['--limit', `${s}=500/8`]);
const run = (cmd) => { try { return execFileSync(process.execPath, [path.join(R, 'dist/cli.js'), cmd, 'refs.bib', '--storage', 'st', '--mailto', 'm@scholar.invalid', '--proxy', 'none', '--json', ...ep, ...lim], { cwd: d, env: { PATH: process.env.PATH } }).toString(); } catch (e) { return e.stdout.toString(); } };
for (const cmd of ['resolve', 'fetch']) { const j = JSON.parse(run(cmd)); console.log(cmd, j.entries.length, 'entries', JSON.stringify(j.requests ?? null), JSON.stringify(j.totals)); }
const st = await (await fetch(`${JSON.parse(line).origin}/__replay/stats`)).json();
console.log('replay requests (both jobs)', JSON.stringify(st.requests));
rp.kill();
