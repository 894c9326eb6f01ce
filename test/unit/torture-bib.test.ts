// Torture: thousands of generated hostile .bib inputs through decodeBibBytes + parseBib.
// Properties: never throws, never hangs (a time bound per input, and a watchdog thread that
// reports the input that hung instead of blocking the run), every error is located inside the
// text, and a broken entry in the middle of a good file costs no other entry.
//
// The inputs are generated and checked in a worker thread (this bundle doubles as the worker);
// the test thread only watches progress. Replay a failure with SCHOLAR_TORTURE_SEED=<seed>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { decodeBibBytes, encodeBibText, parseBib, type BibFile } from '../../src/core/bib/parse';
import { count, repoRoot, Rng, seedOf } from './torture-helpers';

type Category = 'grammar' | 'truncate' | 'flip' | 'encoding' | 'strings' | 'huge' | 'recovery';

interface Job {
  category: Category;
  seed: number;
  /** Inputs start..start+n-1 of the category's sequence. */
  start: number;
  n: number;
}

interface Failure {
  category: Category;
  index: number;
  problem: string;
  /** The input (cut) when short enough to show. */
  sample?: string;
}

type WorkerMsg = { type: 'progress'; index: number } | { type: 'fail'; failure: Failure } | { type: 'done'; inputs: number; bytes: number; maxMs: number; errors: number };

// ---------------------------------------------------------------------------------------------
// Invariants

function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/** Problems with the parse result of `text`, as readable strings (empty when all is well). */
function invariantProblems(text: string, bib: BibFile): string[] {
  const out: string[] = [];
  const len = text.length;
  if (bib.text !== text) out.push('BibFile.text differs from the input');
  for (const e of bib.errors) {
    if (!/^[EW]_BIB_[A-Z_]+$/.test(e.code)) out.push(`bad error code ${JSON.stringify(e.code)}`);
    if (e.severity !== 'error' && e.severity !== 'warning') out.push(`bad severity ${e.severity}`);
    if (typeof e.message !== 'string' || !e.message) out.push(`empty message for ${e.code}`);
    if (!(Number.isInteger(e.line) && e.line >= 1)) out.push(`${e.code}: line ${e.line} < 1`);
    if (!(Number.isInteger(e.column) && e.column >= 1)) out.push(`${e.code}: column ${e.column} < 1`);
    if (!(e.offset >= 0 && e.offset <= len)) out.push(`${e.code}: offset ${e.offset} outside [0, ${len}]`);
    else {
      const lc = lineCol(text, e.offset);
      if (lc.line !== e.line || lc.column !== e.column) out.push(`${e.code}: reported ${e.line}:${e.column}, offset ${e.offset} is ${lc.line}:${lc.column}`);
    }
    if (out.length > 5) break;
  }
  for (const en of bib.entries) {
    if (!(en.span.start >= 0 && en.span.end <= len && en.span.start < en.span.end)) out.push(`entry ${en.key}: span ${en.span.start}-${en.span.end} outside text`);
    else if (text[en.span.start] !== '@') out.push(`entry ${en.key}: span does not start at '@'`);
    if (!en.key) out.push('entry with an empty key');
    if (text.slice(en.keySpan.start, en.keySpan.end) !== en.key) out.push(`entry ${en.key}: keySpan does not hold the key`);
    if (!(en.line >= 1 && en.column >= 1)) out.push(`entry ${en.key}: line/column < 1`);
    for (const f of en.fields.values()) {
      if (text.slice(f.valueSpan.start, f.valueSpan.end) !== f.raw) out.push(`entry ${en.key}: field ${f.name} raw differs from its span`);
      if (!(f.span.start >= en.span.start && f.span.end <= en.span.end)) out.push(`entry ${en.key}: field ${f.name} outside its entry`);
      if (typeof f.value !== 'string') out.push(`entry ${en.key}: field ${f.name} value not a string`);
    }
    if (out.length > 5) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Generators

const HOSTILE = ['{', '}', '{', '}', '"', '@', '%', ',', '=', '#', '\n', '\r\n', '\0', '\\', '(', ')', ' ', '\t', '\uFEFF', '\u00A0', '\uD800', '\uDFFF', '😀', 'é', 'ß', "'", '~', '$', '\\"{o}', '@comment{', '@string{', '\n@', '\n@misc{'];
const WORDS = ['article', 'book', 'misc', 'string', 'comment', 'preamble', 'inproceedings', 'Article', 'ARTICLE', 'x', 'title', 'author', 'year', 'doi', 'jan', 'feb', 'and', 'Smith', '2020', '2020a', '10.1000/xyz'];

function hostileString(r: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += r.chance(0.45) ? r.pick(HOSTILE) : r.chance(0.5) ? r.pick(WORDS) : String.fromCharCode(r.int(0x250));
  return s;
}

function value(r: Rng, depth = 0): string {
  switch (r.int(9)) {
    case 0:
      return `{${hostileString(r, r.int(12))}}`;
    case 1:
      return `"${hostileString(r, r.int(10))}"`;
    case 2:
      return String(r.int(3000));
    case 3:
      return r.pick(['jan', 'feb', 'undefinedmacro', 'a', 'b', 'self']);
    case 4:
      return depth < 4 ? `${value(r, depth + 1)} # ${value(r, depth + 1)}` : '{x}';
    case 5:
      return '{'.repeat(r.int(6)) + hostileString(r, r.int(6)) + '}'.repeat(r.int(6));
    case 6:
      return `"${'{'.repeat(r.int(3))}${hostileString(r, 4)}`;
    case 7:
      return '';
    default:
      return `{${'{'.repeat(r.int(3))}plain text${'}'.repeat(r.int(3))}}`;
  }
}

function entry(r: Rng, i: number): string {
  const open = r.chance(0.85) ? '{' : '(';
  const close = r.chance(0.9) ? (open === '{' ? '}' : ')') : r.pick(['', '}', ')', '}}']);
  const type = r.chance(0.1) ? r.pick(['string', 'comment', 'preamble']) : r.pick(WORDS);
  const key = r.chance(0.9) ? `k${i}${r.chance(0.1) ? hostileString(r, 2) : ''}` : r.pick(['', ' ', ',', 'k1', '../../evil', 'CON', 'a/b']);
  const fields: string[] = [];
  for (let f = r.int(6); f > 0; f--) fields.push(`${r.chance(0.9) ? r.pick(WORDS) : hostileString(r, 2)} ${r.chance(0.95) ? '=' : ''} ${value(r)}`);
  const sep = r.chance(0.9) ? ',\n  ' : r.pick([' ', ',,', '\n', '']);
  const lead = r.chance(0.8) ? '\n' : r.pick(['', '%', ' ', 'free text ', '\r\n']);
  return `${lead}@${type}${r.chance(0.1) ? ' ' : ''}${open}${key}${r.chance(0.9) ? ',' : ''}\n  ${fields.join(sep)}${r.chance(0.5) ? ',' : ''}\n${close}\n`;
}

function grammarInput(r: Rng): string {
  let s = r.chance(0.1) ? '\uFEFF' : '';
  for (let i = r.range(1, 25); i > 0; i--) s += r.chance(0.1) ? hostileString(r, r.int(30)) : entry(r, i);
  return s;
}

function stringsInput(r: Rng): string {
  // @string chains: self and mutual references, redefinitions, doubling chains (2^n growth).
  const lines: string[] = [];
  const names = ['a', 'b', 'c', 'self'];
  for (let i = r.range(1, 60); i > 0; i--) {
    const n = r.pick(names);
    const parts = Array.from({ length: r.range(1, 3) }, () => (r.chance(0.7) ? r.pick(names) : `"${hostileString(r, 3)}"`));
    lines.push(`@string{${n} = ${parts.join(' # ')}}`);
  }
  if (r.chance(0.3)) {
    lines.push('@string{d = "xy"}');
    for (let i = r.range(10, 40); i > 0; i--) lines.push('@string{d = d # d}');
  }
  lines.push(`@misc{uses, title = a # b # c # self # d, note = {after}}`);
  lines.push('@misc{later, title = {still here}}');
  return lines.join('\n') + '\n';
}

/** The big ones, each a known way to make a parser slow or allocate without bound. */
function hugeInput(r: Rng, i: number): { text: string; label: string } {
  const mb = 1 << 20;
  switch (i % 8) {
    case 0:
      return { label: 'megabyte braced field', text: `@misc{big, title = {${'a'.repeat(mb + r.int(1000))}}}\n@misc{after, title = {x}}\n` };
    case 1:
      return { label: 'megabyte quoted field with NULs', text: `@misc{big, title = "${'a\0'.repeat(mb / 2)}"}\n@misc{after, title = {x}}\n` };
    case 2:
      return { label: 'half a million unclosed braces', text: `@misc{deep, title = ${'{'.repeat(mb / 2)}\n@misc{after, title = {x}}\n` };
    case 3:
      return { label: 'one 400 KB line of "x@"', text: 'x@'.repeat(200_000) };
    case 4:
      return { label: '20,000 entries on one line', text: Array.from({ length: 20_000 }, (_, k) => `@misc{k${k}, title={x}}`).join(' ') };
    case 5:
      return { label: 'a 1 MB line, then 2,000 "@"', text: 'a'.repeat(mb) + '@'.repeat(2000) };
    case 6:
      return { label: '40 doublings of one @string', text: '@string{d = "xy"}\n' + '@string{d = d # d}\n'.repeat(40) + '@misc{k, title = d}\n@misc{after, title = {x}}\n' };
    default:
      return { label: '100,000 fields in one entry', text: `@misc{wide, ${Array.from({ length: 100_000 }, (_, k) => `f${k} = {v}`).join(', ')}}\n@misc{after, title = {x}}\n` };
  }
}

function hugeLabel(i: number): string {
  return hugeInput(new Rng(0), i).label;
}

const BROKEN: { text: string; broken: boolean }[] = [
  { text: '@article{brokenA, title = {unterminated braces\n', broken: true },
  { text: '@article{brokenB, title = "unterminated quote, year = 2020\n', broken: true },
  { text: '@article{brokenC title = {missing comma after key}}\n', broken: true },
  { text: '@article{, title = {no key}}\n', broken: true },
  { text: '@article{brokenE, title = {x} author = {missing comma}}\n', broken: true },
  { text: '@article{brokenF, title {missing equals}}\n', broken: true },
  { text: '@article brokenG\n', broken: true },
  { text: '@article{brokenH, title = {missing close}\n', broken: true },
  { text: '@string{ = {no name}}\n', broken: true },
  { text: '@comment{ unbalanced {\n', broken: true },
  { text: '@preamble{ "unterminated\n', broken: true },
  { text: '@article{brokenL, title = a # # b}\n', broken: true },
  { text: '@article{brokenM, title = {x}, year = }\n', broken: true },
  { text: '@article{brokenN, title = {x\0y}, note = {\uD800}}}}}\n', broken: false },
];

function fixtures(): { name: string; bytes: Buffer }[] {
  const dir = path.join(repoRoot(), 'test/fixtures/bib');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bib'))
    .sort()
    .map((name) => ({ name, bytes: readFileSync(path.join(dir, name)) }));
}

function entrySignature(bib: BibFile): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of bib.entries) {
    const sig = `${e.type}\u0001${e.key}\u0001${[...e.fields.values()].map((f) => `${f.name}=${f.value}`).join('\u0002')}`;
    m.set(sig, (m.get(sig) ?? 0) + 1);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Worker: generates the inputs of one category and checks every one

function runJob(job: Job, post: (m: WorkerMsg) => void): void {
  const r = new Rng(job.seed);
  const fx = fixtures();
  let bytes = 0;
  let maxMs = 0;
  let errors = 0;
  const fail = (index: number, problem: string, sample?: string) => post({ type: 'fail', failure: { category: job.category, index, problem, sample: sample && sample.length <= 600 ? sample : sample?.slice(0, 300) } });
  const parseChecked = (index: number, text: string, label?: string): BibFile | undefined => {
    const t0 = performance.now();
    let bib: BibFile;
    try {
      bib = parseBib(text);
    } catch (err) {
      fail(index, `${label ? `${label}: ` : ''}parseBib threw ${(err as Error)?.name}: ${(err as Error)?.message}`, text);
      return undefined;
    }
    let ms = performance.now() - t0;
    // A loaded machine (GC, another process) can stall one parse; super-linear work is slow every time.
    if (ms > 300 + text.length / 1000) {
      const t1 = performance.now();
      parseBib(text);
      ms = Math.min(ms, performance.now() - t1);
    }
    maxMs = Math.max(maxMs, ms);
    bytes += text.length;
    errors += bib.errors.length;
    // ~1 MB/s is 50× slower than this parser's usual pace: only super-linear work exceeds it.
    const bound = 300 + text.length / 1000;
    if (ms > bound) fail(index, `${label ? `${label}: ` : ''}took ${ms.toFixed(0)} ms for ${text.length} chars (bound ${bound.toFixed(0)} ms)`);
    const problems = invariantProblems(text, bib);
    if (problems.length) fail(index, `${label ? `${label}: ` : ''}${problems.join('; ')}`, text);
    return bib;
  };

  for (let i = 0; i < job.start + job.n; i++) {
    // The generators consume the PRNG in order, so input i is the same whatever the batch.
    if (i < job.start && job.category !== 'huge') {
      if (job.category === 'grammar') grammarInput(r);
      else if (job.category === 'strings') stringsInput(r);
      continue;
    }
    if (i < job.start) continue;
    post({ type: 'progress', index: i });
    switch (job.category) {
      case 'grammar':
        parseChecked(i, grammarInput(r));
        break;
      case 'strings': {
        const text = stringsInput(r);
        const bib = parseChecked(i, text);
        if (bib && !bib.entries.some((e) => e.key === 'later')) fail(i, 'the entry after the @string chain is missing', text);
        break;
      }
      case 'truncate': {
        const f = r.pick(fx);
        const cut = f.bytes.subarray(r.int(f.bytes.length >> 2), r.int(f.bytes.length + 1));
        let text: string;
        try {
          text = decodeBibBytes(cut).text;
        } catch (err) {
          fail(i, `decodeBibBytes threw on a truncation of ${f.name}: ${(err as Error).message}`);
          break;
        }
        parseChecked(i, text, `truncation of ${f.name}`);
        break;
      }
      case 'flip': {
        const f = r.pick(fx);
        const start = r.int(f.bytes.length);
        const buf = Buffer.from(f.bytes.subarray(start, start + r.range(1, 65_536)));
        for (let k = r.range(1, 60); k > 0; k--) {
          const at = r.int(buf.length);
          buf[at] = r.chance(0.5) ? r.int(256) : r.pick([0x7b, 0x7d, 0x22, 0x40, 0x25, 0x00, 0x0a, 0xff, 0xc3, 0x2c, 0x3d, 0x23]);
        }
        let d: ReturnType<typeof decodeBibBytes>;
        try {
          d = decodeBibBytes(buf);
        } catch (err) {
          fail(i, `decodeBibBytes threw: ${(err as Error).message}`);
          break;
        }
        if (!Buffer.from(encodeBibText(d.text, d.encoding, d.bom)).equals(buf)) fail(i, `decode → encode (${d.encoding}) is not byte-exact`);
        parseChecked(i, d.text, `byte flips in ${f.name}`);
        break;
      }
      case 'encoding': {
        const parts: Buffer[] = [];
        if (r.chance(0.3)) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
        for (let k = r.range(1, 12); k > 0; k--) {
          const t = `@misc{e${k}, title = {${hostileString(r, 6)}}}\n`;
          switch (r.int(6)) {
            case 0:
              parts.push(Buffer.from(t, 'utf8'));
              break;
            case 1:
              parts.push(Buffer.from(t.replace(/[^\u0000-\u00ff]/g, '?'), 'latin1'));
              break;
            case 2:
              parts.push(Buffer.from(r.pick([[0xc3], [0xff, 0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x00, 0x00]])));
              break;
            case 3:
              parts.push(Buffer.from(t, 'utf16le'));
              break;
            case 4:
              parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
              break;
            default:
              parts.push(Buffer.from(Array.from({ length: r.int(40) }, () => r.int(256))));
          }
        }
        const buf = Buffer.concat(parts);
        let d: ReturnType<typeof decodeBibBytes>;
        try {
          d = decodeBibBytes(buf);
        } catch (err) {
          fail(i, `decodeBibBytes threw: ${(err as Error).message}`);
          break;
        }
        if (!Buffer.from(encodeBibText(d.text, d.encoding, d.bom)).equals(buf)) fail(i, `decode → encode (${d.encoding}) is not byte-exact`);
        parseChecked(i, d.text, 'mixed encodings');
        break;
      }
      case 'huge': {
        const { text, label } = hugeInput(r, i);
        const bib = parseChecked(i, text, label);
        if (bib && label.includes('field') && !bib.entries.some((e) => e.key === 'after')) fail(i, `${label}: the entry after it is missing`);
        if (bib && label === 'megabyte braced field') {
          const v = bib.entries.find((e) => e.key === 'big')?.fields.get('title')?.value;
          if (!v || v.length < 1 << 20) fail(i, `${label}: value not kept whole (${v?.length} chars)`);
        }
        break;
      }
      case 'recovery': {
        const f = r.pick(fx);
        const text = decodeBibBytes(f.bytes).text;
        const good = parseBib(text);
        const boundaries = good.entries.filter((e) => e.span.start === 0 || text[e.span.start - 1] === '\n');
        const at = r.pick(boundaries).span.start;
        const b = r.chance(0.15) ? { text: `@article{garbage, ${hostileString(r, r.int(40)).replace(/@/g, '')}\n`, broken: false } : r.pick(BROKEN);
        const inserted = text.slice(0, at) + b.text + text.slice(at);
        const bib = parseChecked(i, inserted, `${f.name} with ${JSON.stringify(b.text.slice(0, 40))} at ${at}`);
        if (!bib) break;
        const before = entrySignature(good);
        const after = entrySignature(bib);
        const lost = [...before].filter(([sig, n]) => (after.get(sig) ?? 0) < n).map(([sig]) => sig.split('\u0001')[1]);
        if (lost.length) fail(i, `${f.name}: inserting ${JSON.stringify(b.text.slice(0, 50))} at offset ${at} lost ${lost.length} other entries: ${lost.slice(0, 5).join(', ')}`);
        if (b.broken && !bib.errors.some((e) => e.severity === 'error' && e.offset >= at && e.offset <= at + b.text.length)) {
          fail(i, `${f.name}: no error located in the inserted broken entry ${JSON.stringify(b.text.slice(0, 50))} (errors at ${bib.errors.map((e) => e.offset).slice(0, 5).join(', ')})`);
        }
        break;
      }
    }
  }
  post({ type: 'done', inputs: job.n, bytes, maxMs, errors });
}

if (!isMainThread && (workerData as { torture?: Job })?.torture) {
  runJob((workerData as { torture: Job }).torture, (m) => parentPort!.postMessage(m));
} else if (isMainThread) {
  const seed = seedOf('torture-bib');

  /** Runs one category in a worker; a silent worker (a hang) is terminated and reported. */
  function runCategory(category: Category, n: number, stallMs: number, start = 0): Promise<{ failures: Failure[]; done?: Extract<WorkerMsg, { type: 'done' }>; hungAt?: number; crashed?: string }> {
    const job: Job = { category, seed: (seed ^ Math.imul(category.length + category.charCodeAt(0), 0x9e3779b1)) >>> 0, start, n };
    return new Promise((resolve) => {
      const worker = new Worker(__filename, { workerData: { torture: job }, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
      const failures: Failure[] = [];
      let last = -1;
      let timer: NodeJS.Timeout;
      let settled = false;
      const finish = (v: { done?: Extract<WorkerMsg, { type: 'done' }>; hungAt?: number; crashed?: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void worker.terminate();
        resolve({ failures, ...v });
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => finish({ hungAt: last }), stallMs);
      };
      arm();
      worker.on('message', (m: WorkerMsg) => {
        if (m.type === 'progress') {
          last = m.index;
          arm();
        } else if (m.type === 'fail') failures.push(m.failure);
        else finish({ done: m });
      });
      worker.on('error', (err) => finish({ crashed: `${err.name}: ${err.message}` }));
      worker.on('exit', (code) => finish({ crashed: `worker exited with ${code} after input ${last}` }));
    });
  }

  const PLAN: [Category, number, number][] = [
    // category, quick count, long count
    ['grammar', 1500, 30_000],
    ['strings', 300, 5000],
    ['encoding', 400, 8000],
    ['flip', 400, 6000],
    ['truncate', 150, 3000],
    ['recovery', 300, 4000],
    ['huge', 8, 48],
  ];

  for (const [category, quick, long] of PLAN) {
    const n = count(quick, long);
    test(`hostile .bib inputs (${category}, ${n}): no throw, no hang, errors located, nothing else lost`, async () => {
      const t0 = Date.now();
      let r: Awaited<ReturnType<typeof runCategory>>;
      if (category === 'huge') {
        // One worker per input, so that one hanging input does not hide the others.
        r = { failures: [], done: { type: 'done', inputs: 0, bytes: 0, maxMs: 0, errors: 0 } };
        const hung: number[] = [];
        for (let i = 0; i < n; i++) {
          const one = await runCategory(category, 1, 15_000, i);
          r.failures.push(...one.failures);
          if (one.hungAt !== undefined) {
            hung.push(i);
            r.failures.push({ category, index: i, problem: `did not finish within 15 s: ${hugeLabel(i)}` });
          }
          if (one.crashed) r.failures.push({ category, index: i, problem: `${hugeLabel(i)}: ${one.crashed}` });
          if (one.done) {
            r.done!.inputs++;
            r.done!.bytes += one.done.bytes;
            r.done!.maxMs = Math.max(r.done!.maxMs, one.done.maxMs);
            r.done!.errors += one.done.errors;
          }
        }
      } else r = await runCategory(category, n, 20_000);
      const lines = r.failures.slice(0, 12).map((f) => `  #${f.index}: ${f.problem}${f.sample !== undefined ? `\n     input: ${JSON.stringify(f.sample).slice(0, 300)}` : ''}`);
      if (r.hungAt !== undefined) lines.unshift(`  input #${r.hungAt} did not finish within 20 s (hang or super-linear time); seed ${seed}`);
      if (r.crashed) lines.unshift(`  ${r.crashed}`);
      process.stderr.write(`[torture-bib] ${category}: ${r.done?.inputs ?? '?'} inputs, ${((r.done?.bytes ?? 0) / 1e6).toFixed(1)} MB, slowest ${r.done?.maxMs.toFixed(0) ?? '?'} ms, ${r.done?.errors ?? '?'} diagnostics, ${r.failures.length} failures, ${Date.now() - t0} ms\n`);
      assert.ok(r.failures.length === 0 && r.hungAt === undefined && !r.crashed, `${category}: ${r.failures.length} failing inputs (seed ${seed}):\n${lines.join('\n')}`);
    });
  }
}
