// `npm run torture`: the torture-* unit tests with SCHOLAR_TORTURE=long (many more inputs, kill
// trials and fault repetitions, a clock-based seed). Extra arguments are passed to node --test;
// SCHOLAR_TORTURE_SEED=<n> replays a run, SCHOLAR_TORTURE_SCALE=<x> multiplies the counts.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = spawnSync(process.execPath, ['esbuild.mjs', '--tests'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(2);
const files = readdirSync(path.join(root, 'out/unit'))
  .filter((f) => /^torture-.*\.test\.js$/.test(f))
  .sort()
  .map((f) => path.join('out/unit', f));
if (!files.length) {
  console.error('torture: no out/unit/torture-*.test.js (did the build run?)');
  process.exit(2);
}
const t0 = Date.now();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=1800000', ...process.argv.slice(2), ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SCHOLAR_TORTURE: process.env.SCHOLAR_TORTURE ?? 'long' },
});
console.log(`torture: ${files.length} files in ${Math.round((Date.now() - t0) / 1000)} s, exit ${r.status}`);
process.exit(r.status ?? 1);
