// Build script: bundles the extension host, the CLI, the replay server, the two webviews (dashboard,
// PDF viewer) and, with --tests, the unit tests and the extension-host test suite; copies sql.js's
// wasm and pdf.js's worker beside them.
import * as esbuild from 'esbuild';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const watch = args.has('--watch');
const tests = args.has('--tests');
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));

const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  external: ['vscode'],
  define: { __SCHOLAR_VERSION__: JSON.stringify(pkg.version) },
};

const wasm = path.join(root, 'node_modules/sql.js/dist/sql-wasm.wasm');

async function copyWasm(dir) {
  await mkdir(dir, { recursive: true });
  await copyFile(wasm, path.join(dir, 'sql-wasm.wasm'));
}

// pdf.js's worker runs as its own script in the PDF viewer webview.
async function copyPdfWorker() {
  await mkdir(path.join(root, 'dist/webview'), { recursive: true });
  await copyFile(path.join(root, 'node_modules/pdfjs-dist/build/pdf.worker.min.mjs'), path.join(root, 'dist/webview/pdf.worker.min.mjs'));
}

async function listTs(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listTs(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const configs = [
  { ...nodeCommon, entryPoints: { extension: 'src/host/extension.ts' }, outdir: 'dist' },
  // pdf.js text extraction runs in a worker thread (src/core/pdf/text.ts starts it from beside the bundle).
  { ...nodeCommon, entryPoints: { pdfTextWorker: 'src/core/pdf/textWorker.ts' }, outdir: 'dist' },
  {
    ...nodeCommon,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
  // The replay server (offline scholarly APIs) for the demo, the benchmarks and the VS Code tests.
  { ...nodeCommon, entryPoints: { replay: 'src/replay/main.ts' }, outdir: 'dist' },
  {
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: { dashboard: 'src/webview/dashboard.ts', pdfViewer: 'src/webview/pdfViewer.ts' },
    outdir: 'dist/webview',
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
  },
];

if (tests) {
  const unit = (await listTs(path.join(root, 'test/unit'))).filter((f) => f.endsWith('.test.ts'));
  configs.push({
    ...nodeCommon,
    entryPoints: unit,
    outdir: 'out/unit',
    outbase: 'test/unit',
    sourcemap: 'inline',
  });
  configs.push({ ...nodeCommon, entryPoints: { pdfTextWorker: 'src/core/pdf/textWorker.ts' }, outdir: 'out/unit' });
  const suite = await listTs(path.join(root, 'test/suite'));
  if (suite.length) {
    configs.push({
      ...nodeCommon,
      entryPoints: suite,
      outdir: 'out/suite',
      outbase: 'test/suite',
      sourcemap: 'inline',
    });
  }
}

// No clean step: builds run side by side (tests, watch, the VS Code runner) and esbuild overwrites in place.

if (watch) {
  for (const c of configs) {
    const ctx = await esbuild.context(c);
    await ctx.watch();
  }
  await copyWasm(path.join(root, 'dist'));
  await copyPdfWorker();
  console.log('[esbuild] watching…');
} else {
  await Promise.all(configs.map((c) => esbuild.build(c)));
  await copyWasm(path.join(root, 'dist'));
  await copyPdfWorker();
  if (tests) await copyWasm(path.join(root, 'out/unit'));
}
