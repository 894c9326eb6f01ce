// Measures Scholar's BibTeX parser (src/core/bib/parse.ts) on the fixture files and on a
// 10,000-entry file built from them, optionally next to bibtex-parse-js.
//
//   node test/bench/parse.mjs [--module out/bench/parse.js] [--compare /tmp/parsers] [--json]
//
// --json prints only the JSON (test/bench/run.mjs reads it); sizes of 1,000 and 10,000 entries are
// timed with 7 runs after 2 warm-ups (median, min, max) plus the first, cold parse.
//
// Without --module the parser is bundled with esbuild into out/bench/parse.js first.
// --compare names a folder whose node_modules holds bibtex-parse-js (install it there, never
// into this repository). Prints a markdown summary and the raw numbers as JSON.
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

let modulePath = opt('--module');
if (!modulePath) {
  modulePath = path.join(root, 'out/bench/parse.js');
  await build({
    entryPoints: [path.join(root, 'src/core/bib/parse.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: modulePath,
    logLevel: 'warning',
  });
}
const require = createRequire(import.meta.url);
const { parseBib, decodeBibBytes } = require(path.resolve(modulePath));

// Bundle size of the parser as it would ship (minified), and gzipped.
const min = await build({
  entryPoints: [path.join(root, 'src/core/bib/parse.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  write: false,
  logLevel: 'warning',
});
const minBytes = min.outputFiles[0].contents.length;
const gzBytes = gzipSync(min.outputFiles[0].contents).length;

let other;
const compareDir = opt('--compare') ?? '/tmp/parsers';
try {
  other = createRequire(path.join(path.resolve(compareDir), 'noop.js'))('bibtex-parse-js');
} catch {
  other = undefined;
}

const fixtureDir = path.join(root, 'test/fixtures/bib');
const files = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.bib'))
  .sort();
const texts = Object.fromEntries(files.map((f) => [f, decodeBibBytes(readFileSync(path.join(fixtureDir, f))).text]));

const HEADER = /^@(?!(?:string|comment|preamble)\b)(\w+)(\s*[({]\s*)([^,\s]+),/gim;
const lineStartCount = (t) => (t.match(HEADER) ?? []).length;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeAll(fn, runs = 7, warmup = 2) {
  const c0 = performance.now();
  fn();
  const coldMs = performance.now() - c0;
  for (let i = 1; i < warmup; i++) fn();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return { runs, coldMs: +coldMs.toFixed(2), medianMs: +median(ms).toFixed(2), minMs: +Math.min(...ms).toFixed(2), maxMs: +Math.max(...ms).toFixed(2) };
}
const time = (fn, runs, warmup) => timeAll(fn, runs, warmup).medianMs;

const perFile = [];
for (const f of files) {
  const t = texts[f];
  const ours = parseBib(t);
  let theirs;
  try {
    theirs = other ? other.toJSON(t).filter((e) => e.citationKey !== undefined && !/^(string|comment|preamble)$/i.test(e.entryType)).length : 'n/a';
  } catch (e) {
    theirs = `throws (${String(e?.message ?? e).replace(/\s+/g, " ").slice(0, 40)})`;
  }
  perFile.push({
    file: f,
    lineStart: lineStartCount(t),
    ours: ours.entries.length,
    oursErrors: ours.errors.filter((e) => e.severity === 'error').length,
    oursMs: +time(() => parseBib(t)).toFixed(2),
    theirs,
  });
}

// N entries: the fixtures concatenated with renamed keys, cut at the (N+1)th entry.
function concatenated(n) {
  let t = '';
  for (let round = 0; lineStartCount(t) < n; round++) {
    files.forEach((f, i) => {
      t += '\n' + texts[f].replace(HEADER, (_m, type, open, key) => `@${type}${open}${key}~r${round}f${i},`);
    });
  }
  let seen = 0;
  for (const m of t.matchAll(HEADER)) if (++seen === n + 1) return t.slice(0, m.index);
  return t;
}
let big = concatenated(10_000);
const small = concatenated(1_000);
const smallParsed = parseBib(small);
const sizes = {
  1000: { bytes: Buffer.byteLength(small), entries: smallParsed.entries.length, errors: smallParsed.errors.filter((e) => e.severity === 'error').length, ...timeAll(() => parseBib(small)) },
};
const bigParsed = parseBib(big);
if (argv.includes("--errors")) for (const e of bigParsed.errors.filter((x) => x.severity === "error")) console.error(e.message, JSON.stringify(big.slice(e.offset - 200, e.offset + 50)));
const bigTimes = timeAll(() => parseBib(big));
const bigMs = bigTimes.medianMs;
sizes[10000] = { bytes: Buffer.byteLength(big), entries: bigParsed.entries.length, errors: bigParsed.errors.filter((e) => e.severity === 'error').length, ...bigTimes };
let theirsBig;
if (other) {
  const t0 = performance.now();
  try {
    const n = other.toJSON(big).length;
    theirsBig = `${n} entries in ${(performance.now() - t0).toFixed(0)} ms`;
  } catch (e) {
    theirsBig = `throws after ${(performance.now() - t0).toFixed(0)} ms (${String(e?.message ?? e).replace(/\s+/g, " ").slice(0, 40)})`;
  }
}

// The same size built only from the files bibtex-parse-js accepts, to compare speed at all.
let easyNote = 'not installed';
if (other) {
  const easy = files.filter((f) => typeof perFile.find((r) => r.file === f).theirs === 'number');
  let t = '';
  for (let round = 0; lineStartCount(t) < 10_000; round++) {
    easy.forEach((f, i) => {
      t += '\n' + texts[f].replace(HEADER, (_m, type, open, key) => `@${type}${open}${key}~r${round}f${i},`);
    });
  }
  const n = other.toJSON(t).length;
  const theirsMs = time(() => other.toJSON(t), 7, 1);
  const oursMs = time(() => parseBib(t));
  easyNote = `${lineStartCount(t)}-entry file from ${easy.join(', ')}: bibtex-parse-js ${n} entries, median ${theirsMs.toFixed(1)} ms; parseBib ${parseBib(t).entries.length} entries, median ${oursMs.toFixed(1)} ms`;
}

const result = {
  node: process.version,
  parserBundle: { minifiedBytes: minBytes, gzipBytes: gzBytes, module: path.relative(root, path.resolve(modulePath)), moduleBytes: statSync(modulePath).size },
  perFile,
  big: {
    bytes: Buffer.byteLength(big),
    entries: bigParsed.entries.length,
    errors: bigParsed.errors.filter((e) => e.severity === 'error').length,
    medianMs: +bigMs.toFixed(1),
    bibtexParseJs: theirsBig ?? 'not installed',
  },
  compatibleSubset: easyNote,
  sizes,
};
if (argv.includes('--json')) {
  console.log(JSON.stringify(result));
  process.exit(0);
}

console.log('| file | line-start entries | Scholar parseBib | parse errors | ms | bibtex-parse-js |');
console.log('|---|---|---|---|---|---|');
for (const r of perFile) console.log(`| ${r.file} | ${r.lineStart} | ${r.ours} | ${r.oursErrors} | ${r.oursMs} | ${r.theirs} |`);
console.log(
  `\n10,000-entry file (${(result.big.bytes / 1e6).toFixed(1)} MB): ${result.big.entries} entries, ${result.big.errors} errors, median of 7 = ${result.big.medianMs} ms; bibtex-parse-js: ${result.big.bibtexParseJs}`,
);
console.log(easyNote);
console.log(`parser bundle: ${minBytes} bytes minified, ${gzBytes} gzipped\n`);
console.log(JSON.stringify(result, null, 1));
