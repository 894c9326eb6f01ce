// Import PDFs from Zotero and from a folder, at library scale: a Zotero data directory of N items
// with a PDF each (built from Zotero's userdata.sql), matched against a .bib of the same works, and
// a folder of M PDFs matched by their text against a .bib of E entries. Prints JSON on stdout.
//   node out/bench/import.js [--zotero N] [--folder M] [--entries E]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makePdf } from '../../src/replay/pdf';
import { parseBib } from '../../src/core/bib/parse';
import { entryRef } from '../../src/core/import/match';
import { importFromFolder, importFromZotero } from '../../src/core/import/run';
import { readZoteroLibrary } from '../../src/core/import/zotero';
import { loadSqlJs } from '../../src/core/index/library';
import { Library } from '../../src/core/jobs/library';
import { buildZoteroDataDir, type FixtureItem } from '../unit/zotero-fixture';

const arg = (n: string, d: number) => {
  const i = process.argv.indexOf(n);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--zotero', 2000);
const M = arg('--folder', 500);
const E = arg('--entries', 5000);
const root = path.resolve(__dirname, '../..');
const words = 'entropy lattice quantum network sparse kernel graph robust manifold stochastic bayesian tensor spectral adaptive neural causal'.split(' ');
const title = (i: number) => `${words[i % 16]} ${words[(i >> 4) % 16]} ${words[(i >> 8) % 16]} methods for ${words[(i * 7) % 16]} systems number ${i}`;
const doi = (i: number) => `10.5555/bench.${i}`;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-bench-import-'));
  const wasm = path.join(__dirname, 'sql-wasm.wasm');
  const SQL = await loadSqlJs(wasm);
  const total = Math.max(N, E);
  const bib = Array.from({ length: total }, (_, i) => `@article{w${i},\n  title = {${title(i)}},\n  year = {${2000 + (i % 25)}},\n${i % 2 === 0 ? `  doi = {${doi(i)}},\n` : ''}}\n`).join('');
  const file = parseBib(bib);
  const entries = file.entries.map((entry) => entryRef({ key: entry.key, entry, file, bibPath: path.join(dir, 'refs.bib') }));

  // Zotero: N items, half matched by DOI, half by title and year.
  const pdfDir = path.join(dir, 'src');
  fs.mkdirSync(pdfDir);
  const items: FixtureItem[] = [];
  for (let i = 0; i < N; i++) {
    const f = path.join(pdfDir, `${i}.pdf`);
    fs.writeFileSync(f, makePdf({ title: title(i), doi: i % 2 === 0 ? doi(i) : undefined }, 60_000));
    const key = `I${String(i).padStart(7, '0')}`;
    items.push({ key, title: title(i), date: `${2000 + (i % 25)}-00-00 ${2000 + (i % 25)}`, doi: i % 2 === 0 ? doi(i) : undefined, pdfs: [{ key: `P${String(i).padStart(7, '0')}`, from: f, name: `${i}.pdf` }] });
  }
  const zdir = path.join(dir, 'Zotero');
  let t = performance.now();
  buildZoteroDataDir(zdir, SQL, fs.readFileSync(path.join(root, 'test/fixtures/zotero/userdata.sql'), 'utf8'), items);
  const buildMs = performance.now() - t;
  t = performance.now();
  const z = await readZoteroLibrary(zdir, { wasmPath: wasm });
  const readMs = performance.now() - t;
  const lib = await Library.open(path.join(dir, 'storage'), { http: {}, wasmPath: wasm });
  t = performance.now();
  const zr = await importFromZotero(z, entries, { lib, storageRoot: lib.root });
  await lib.writer.flush();
  const zoteroImportMs = performance.now() - t;
  await lib.close();

  // Folder: M PDFs of works E-M..E-1 (not yet stored), matched against all E entries by their text.
  const fdir = path.join(dir, 'folder');
  fs.mkdirSync(fdir);
  for (let j = 0; j < M; j++) {
    const i = E - 1 - j;
    fs.writeFileSync(path.join(fdir, `download-${j}.pdf`), makePdf({ title: title(i), doi: i % 2 === 0 ? doi(i) : undefined }, 60_000));
  }
  const lib2 = await Library.open(path.join(dir, 'storage2'), { http: {}, wasmPath: wasm });
  t = performance.now();
  const fr = await importFromFolder(fdir, entries, { lib: lib2, storageRoot: lib2.root });
  await lib2.writer.flush();
  const folderImportMs = performance.now() - t;
  await lib2.close();
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(
    JSON.stringify({
      zotero: { items: N, entries: entries.length, buildMs, readMs, importMs: zoteroImportMs, counts: zr.counts },
      folder: { files: M, entries: entries.length, importMs: folderImportMs, counts: fr.counts },
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
