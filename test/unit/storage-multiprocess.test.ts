// Several OS processes on one storage folder. This bundle doubles as the child program:
// with SCHOLAR_TEST_CHILD set it runs a worker routine instead of registering tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { LibraryIndex } from '../../src/core/index/library';
import { isKeyFolderName } from '../../src/core/storage/keys';
import { downloadTempPath, metadataPath, storagePaths } from '../../src/core/storage/layout';
import { startupCleanup } from '../../src/core/storage/locks';
import { validateMetadata, type PdfInfo } from '../../src/core/storage/metadata';
import { StorageWriter } from '../../src/core/storage/writer';
import { listFilesDeep, sleep, spawnSelf, tempStorage } from './storage-helpers';

const KEYS = ['Smith2020', 'smith2020', 'a/b', '../up', 'k5'];

function pdfContent(key: string, n: number): Buffer {
  const size = 40_000 + (n % 7) * 25_000;
  const header = Buffer.from(`%PDF-TEST ${n} ${size}\n`);
  const seed = createHash('sha256').update(`${key}:${n}`).digest();
  const body = Buffer.alloc(size - header.length);
  for (let i = 0; i < body.length; i++) body[i] = seed[i % seed.length]!;
  return Buffer.concat([header, body]);
}

async function childHammer(root: string, id: string, iterations: number, markers: string): Promise<void> {
  const w = await StorageWriter.open(root, { fsync: false, lockTimeoutMs: 60_000 });
  let violations = 0;
  let claimed = 0;
  for (let i = 0; i < iterations; i++) {
    const pending: Promise<unknown>[] = [];
    for (const key of KEYS) {
      const h = await w.locks.tryLock(key);
      if (h) {
        claimed++;
        const marker = path.join(markers, `${createHash('sha1').update(key).digest('hex')}`);
        let mine = false;
        try {
          fs.closeSync(fs.openSync(marker, 'wx'));
          mine = true;
        } catch {
          violations++;
        }
        await sleep(Math.random() * 2);
        if (mine) fs.unlinkSync(marker);
        await h.release();
      }
      pending.push(w.writeMetadata(key, { provenance: { [`${id}-${i}`]: 'x' } }));
    }
    await Promise.all(pending);
  }
  await w.close();
  process.stdout.write(JSON.stringify({ violations, claimed }));
}

async function childCrash(root: string): Promise<void> {
  const index = await LibraryIndex.open(root);
  const w = await StorageWriter.open(root, { fsync: true, index, saveIndexDelayMs: 10 });
  for (let n = 0; ; n++) {
    const key = KEYS[n % KEYS.length]!;
    const bytes = pdfContent(key, n);
    const tmp = await downloadTempPath(root, key);
    const fh = await fsp.open(tmp, 'wx');
    for (let off = 0; off < bytes.length; off += 16_384) await fh.write(bytes, off, Math.min(16_384, bytes.length - off));
    await fh.sync();
    await fh.close();
    const info: PdfInfo = {
      sourceUrl: `https://example.org/${n}.pdf`,
      source: 'test',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      retrievedAt: new Date().toISOString(),
      verified: 'doi',
    };
    void w.writeMetadata(key, { title: `title ${n}`, provenance: { [`n${n}`]: 'x' } });
    void w.writeJobState({ id: 'crashjob', status: 'running', n });
    await w.commitPdf(key, tmp, info);
    if (n % 4 === 0) process.stdout.write(`${n}\n`);
  }
}

const mode = process.env.SCHOLAR_TEST_CHILD;
if (mode) {
  const [root, a, b, c] = process.argv.slice(2);
  const run = mode === 'hammer' ? childHammer(root!, a!, Number(b), c!) : childCrash(root!);
  run.catch((err) => {
    process.stderr.write(String(err?.stack ?? err));
    process.exit(1);
  });
} else {
  test('two processes hammering one storage folder lose no update and never share a key lock', async () => {
    const { root, cleanup } = tempStorage();
    try {
      const markers = path.join(path.dirname(root), 'markers');
      fs.mkdirSync(markers);
      const iterations = 60;
      const ids = ['A', 'B'];
      const results = await Promise.all(ids.map((id) => spawnSelf(__filename, 'hammer', [root, id, String(iterations), markers])));
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const outs = results.map((r) => JSON.parse(r.stdout) as { violations: number; claimed: number });
      for (const o of outs) {
        assert.equal(o.violations, 0, 'two holders of one key lock at once');
        assert.ok(o.claimed > 0);
      }
      for (const key of KEYS) {
        const m = validateMetadata(JSON.parse(fs.readFileSync(metadataPath(root, key), 'utf8')));
        assert.equal(m.key, key);
        const expected = ids.flatMap((id) => Array.from({ length: iterations }, (_, i) => `${id}-${i}`)).sort();
        assert.deepEqual(Object.keys(m.provenance).sort(), expected, `every update of ${key} from both processes`);
      }
      assert.deepEqual(fs.readdirSync(markers), []);
      assert.deepEqual(listFilesDeep(storagePaths(root).locks), []);
    } finally {
      cleanup();
    }
  });

  test('a writer SIGKILLed at random moments leaves only complete files; cleanup removes the debris', async (t0) => {
    const { root, cleanup } = tempStorage();
    try {
      let progress = 0;
      let removed = 0;
      const trials = 6;
      for (let t = 0; t < trials; t++) {
        const r = await spawnSelf(__filename, 'crash', [root], { killAfterMs: 300 + Math.floor(Math.random() * 600) });
        assert.equal(r.signal, 'SIGKILL', r.stderr);
        progress += r.stdout.split('\n').filter(Boolean).length;

        const byKey = storagePaths(root).byKey;
        for (const folder of fs.existsSync(byKey) ? fs.readdirSync(byKey) : []) {
          assert.ok(isKeyFolderName(folder), `only key folders in by_key: ${folder}`);
          const dir = path.join(byKey, folder);
          const metaFile = path.join(dir, 'metadata.json');
          const pdfFile = path.join(dir, 'paper.pdf');
          let meta;
          if (fs.existsSync(metaFile)) meta = validateMetadata(JSON.parse(fs.readFileSync(metaFile, 'utf8')), metaFile);
          if (fs.existsSync(pdfFile)) {
            const bytes = fs.readFileSync(pdfFile);
            const m = /^%PDF-TEST (\d+) (\d+)\n/.exec(bytes.subarray(0, 64).toString('latin1'));
            assert.ok(m, `paper.pdf has a complete header in ${folder}`);
            assert.ok(meta, 'a PDF is only committed for an entry with metadata');
            assert.ok(pdfContent(meta.key, Number(m[1])).equals(bytes), `paper.pdf complete in ${folder}`);
          }
          if (meta?.pdf) assert.ok(fs.existsSync(pdfFile), 'metadata never claims a PDF that is not there');
        }
        for (const f of listFilesDeep(storagePaths(root).jobs).filter((n) => n.endsWith('.json') && !n.startsWith('.'))) {
          JSON.parse(fs.readFileSync(path.join(storagePaths(root).jobs, f), 'utf8'));
        }
        // The index file is whole (or absent) and, with reconcile, agrees with the folders.
        const idx = await LibraryIndex.open(root);
        const rebuilt = await LibraryIndex.createEmpty(root);
        await rebuilt.rebuildFromFolders();
        assert.deepEqual(idx.keys(), rebuilt.keys());
        for (const k of idx.keys()) assert.deepEqual(idx.get(k), rebuilt.get(k));
        idx.close();
        rebuilt.close();

        const rep = await startupCleanup(root, { minAgeMs: 0 });
        removed += rep.removedTemps.length + rep.removedLocks.length;
        const debris = listFilesDeep(root).filter((f) => /(^|\/)\.tmp-|\.tmp$|\.lock$/.test(f));
        assert.deepEqual(debris, [], 'cleanup removed temps and stale locks');
      }
      assert.ok(progress > 0, 'the child made progress before being killed');
      t0.diagnostic(`${trials} kills, ${progress} progress marks, ${removed} temps/locks cleaned up`);
    } finally {
      cleanup();
    }
  });
}
