// The demo (`npm run demo`): the scholar CLI on the sample LaTeX project in examples/thesis, against
// the project's own offline replay server of the scholarly APIs (real response bodies, a corpus of
// real Crossref records, generated PDFs). It works on a copy, so examples/ stays as committed.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, rmSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = path.join(root, 'examples', '.run');
const project = path.join(work, 'thesis');
rmSync(work, { recursive: true, force: true });
cpSync(path.join(root, 'examples', 'thesis'), project, { recursive: true });

const server = spawn(process.execPath, [path.join(root, 'dist/replay.js'), '--latency', '20-80'], { stdio: ['ignore', 'pipe', 'inherit'] });
const first = await new Promise((resolve, reject) => {
  const rl = readline.createInterface({ input: server.stdout });
  rl.once('line', resolve);
  server.once('exit', (code) => reject(new Error(`replay server exited (${code})`)));
});
const { endpoints } = JSON.parse(first);
const endpointFlags = Object.entries(endpoints)
  .filter(([name]) => ['crossref', 'openalex', 'unpaywall', 'semanticScholar', 'arxiv', 'doi'].includes(name))
  .flatMap(([name, url]) => ['--endpoint', `${name}=${url}`]);
const common = ['--storage', path.join(project, 'storage'), '--mailto', 'demo@scholar.invalid', ...endpointFlags];

function cli(title, args) {
  console.log(`\n$ scholar ${args.join(' ')}   # ${title}`);
  const r = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), ...args, ...common], { cwd: project, stdio: 'inherit' });
  console.log(`(exit code ${r.status})`);
  return r.status;
}

let failed = false;
try {
  cli('problems in the project: undefined citations, duplicates, malformed DOIs', ['check', '.']);
  cli('what resolve would change, as a diff', ['resolve', 'refs.bib', '--dry-run']);
  if (cli('find the DOIs and write the confident ones into refs.bib', ['resolve', '.']) === 2) failed = true;
  if (cli('fetch open-access PDFs into storage/by_key', ['fetch', '.']) === 2) failed = true;
  cli('search the library', ['search', 'entropy']);
  const byKey = path.join(project, 'storage', 'by_key');
  if (existsSync(byKey)) {
    const keys = readdirSync(byKey);
    const withPdf = keys.filter((k) => existsSync(path.join(byKey, k, 'paper.pdf')));
    console.log(`\nstorage/by_key: ${keys.length} entries, ${withPdf.length} with paper.pdf (in ${path.relative(root, byKey)})`);
  }
  const diff = spawnSync('git', ['diff', '--no-index', '--stat', path.join(root, 'examples/thesis/refs.bib'), path.join(project, 'refs.bib')], { encoding: 'utf8' });
  if (diff.stdout) console.log(`refs.bib changes: ${diff.stdout.trim().split('\n').pop()}`);
} finally {
  server.kill('SIGTERM');
}
process.exit(failed ? 1 : 0);
