// The layer rules and "no cycles", checked over the TypeScript import graph of src/ (type-only
// imports included: a cycle through types still ties two modules' designs together).
// Run: node test/runners/deps.mjs [--results FILE] [--src DIR]. Each rule is one test; the counts
// join `npm test`'s total through --results (see all.mjs).
import { readFileSync, readdirSync, existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ts = createRequire(import.meta.url)(path.join(root, 'node_modules/typescript'));
const argv = process.argv.slice(2);
const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const srcDir = path.resolve(root, opt('--src') ?? 'src');

function listTs(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listTs(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveLocal(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base, `${base}.ts`, path.join(base, 'index.ts')]) if (existsSync(c) && statSync(c).isFile()) return c;
  return undefined;
}

/** file (relative to src) → imported specifiers: local files relative to src, packages as given. */
const graph = new Map();
for (const file of listTs(srcDir)) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const deps = [];
  for (const ref of info.importedFiles) {
    const spec = ref.fileName;
    if (spec.startsWith('.')) {
      const target = resolveLocal(file, spec);
      deps.push(target ? path.relative(srcDir, target).split(path.sep).join('/') : `unresolved:${spec}`);
    } else deps.push(spec);
  }
  graph.set(path.relative(srcDir, file).split(path.sep).join('/'), deps);
}

const layer = (f) => f.split('/')[0];
const isLocal = (d) => graph.has(d);

/** [name, (from, dep) => true when the import breaks the rule] */
const rules = [
  ['core imports no vscode, host, cli, webview or shared', (f, d) => layer(f) === 'core' && (d === 'vscode' || (isLocal(d) && ['host', 'cli', 'webview', 'shared'].includes(layer(d))))],
  ['only host imports vscode', (f, d) => d === 'vscode' && layer(f) !== 'host'],
  ['webview imports only webview and shared', (f, d) => layer(f) === 'webview' && isLocal(d) && !['webview', 'shared'].includes(layer(d))],
  ['shared imports only shared', (f, d) => layer(f) === 'shared' && isLocal(d) && layer(d) !== 'shared'],
  ['host imports no cli, webview or replay', (f, d) => layer(f) === 'host' && isLocal(d) && ['cli', 'webview', 'replay'].includes(layer(d))],
  ['cli imports only cli and core', (f, d) => layer(f) === 'cli' && isLocal(d) && !['cli', 'core'].includes(layer(d))],
  ['nothing in src imports replay but replay', (f, d) => layer(f) !== 'replay' && isLocal(d) && layer(d) === 'replay'],
  ['every relative import resolves', (f, d) => d.startsWith('unresolved:')],
];

const results = [];
for (const [name, breaks] of rules) {
  const bad = [];
  for (const [f, deps] of graph) for (const d of deps) if (breaks(f, d)) bad.push(`${f} → ${d}`);
  results.push({ name, bad });
}

// Cycles: Tarjan's strongly connected components; every component of more than one node (or a
// node importing itself) is a cycle.
function cycles(nodes, edgesOf) {
  let index = 0;
  const idx = new Map(), low = new Map(), onStack = new Set(), stack = [], sccs = [];
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); onStack.add(v);
    for (const w of edgesOf(v)) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const c = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); c.push(w); } while (w !== v);
      if (c.length > 1 || edgesOf(v).includes(v)) sccs.push(c.sort());
    }
  };
  for (const v of nodes) if (!idx.has(v)) visit(v);
  return sccs;
}

results.push({
  name: 'no import cycles between files of src',
  bad: cycles([...graph.keys()], (v) => graph.get(v).filter(isLocal)).map((c) => `cycle among: ${c.join(', ')}`),
});

// The folders of src/core are its modules (storage, index, net, …): a cycle between two of them
// (storage's writer importing the index that reads storage) is a cycle of design even when no
// two files import each other.
{
  const folderOf = (f) => (f.startsWith('core/') && f.split('/').length > 2 ? f.split('/').slice(0, 2).join('/') : undefined);
  const edges = new Map();
  for (const [f, deps] of graph) {
    const from = folderOf(f);
    if (!from) continue;
    if (!edges.has(from)) edges.set(from, new Set());
    for (const d of deps.filter(isLocal)) {
      const to = folderOf(d);
      if (to && to !== from) edges.get(from).add(to);
    }
  }
  results.push({
    name: 'no import cycles between the folders of src/core',
    bad: cycles([...edges.keys()], (v) => [...(edges.get(v) ?? [])]).map((c) => `cycle among: ${c.join(', ')}`),
  });
}

let passed = 0, failed = 0;
for (const r of results) {
  if (r.bad.length) {
    failed++;
    console.log(`✖ ${r.name}`);
    for (const b of r.bad) console.log(`    ${b}`);
  } else {
    passed++;
    console.log(`✔ ${r.name}`);
  }
}
console.log(`dependency rules over ${graph.size} files: ${passed} passed, ${failed} failed`);
const resultsFile = opt('--results');
if (resultsFile) writeFileSync(resultsFile, JSON.stringify({ passed, failed }));
process.exit(failed ? 1 : 0);
