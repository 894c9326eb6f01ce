import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LibraryIndex } from '../../src/core/index/library';
import { downloadTempPath, metadataPath, pdfPath, storagePaths } from '../../src/core/storage/layout';
import type { PdfInfo } from '../../src/core/storage/metadata';
import { StorageWriter, type AppliedOp } from '../../src/core/storage/writer';
import { listFilesDeep, tempStorage } from './storage-helpers';

const readMeta = (root: string, key: string) => JSON.parse(fs.readFileSync(metadataPath(root, key), 'utf8'));

function pdfInfo(bytes: Buffer): PdfInfo {
  return {
    sourceUrl: 'https://example.org/x.pdf',
    source: 'test',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.length,
    retrievedAt: new Date(0).toISOString(),
    verified: 'doi',
  };
}

test('N concurrent producers lose nothing and every op is applied whole, one at a time', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const applied: AppliedOp[] = [];
    const w = await StorageWriter.open(root, { fsync: false, onApplied: (op) => applied.push(op) });
    const keys = ['smith2020', 'Doe2019', '../evil', 'a/b'];
    const producers = 8;
    const perProducer = 40;
    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        for (let i = 0; i < perProducer; i++) {
          const key = keys[(p + i) % keys.length]!;
          // Yield between calls so producers really interleave.
          if (i % 3 === 0) await new Promise((r) => setImmediate(r));
          await Promise.all([
            w.writeMetadata(key, { provenance: { [`p${p}-${i}`]: 'x' } }),
            w.writeJobState({ id: `job-${p}`, status: 'running', done: i }),
          ]);
        }
      }),
    );
    await w.close();
    let total = 0;
    for (const key of keys) {
      const m = readMeta(root, key);
      assert.equal(m.key, key);
      total += Object.keys(m.provenance).length;
    }
    assert.equal(total, producers * perProducer);
    for (let p = 0; p < producers; p++) {
      const job = JSON.parse(fs.readFileSync(path.join(storagePaths(root).jobs, `job-${p}.json`), 'utf8'));
      assert.equal(job.done, perProducer - 1);
    }
    // No temp file survives, nothing outside the layout was written.
    for (const f of listFilesDeep(root)) assert.match(f, /^(by_key\/[^/]+\/metadata\.json|jobs\/job-\d\.json)$/);
    assert.ok(applied.filter((o) => o.kind === 'metadata').length > 0);
  } finally {
    cleanup();
  }
});

test('coalescing: queued patches of one key become one write, in order, last one wins', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const applied: AppliedOp[] = [];
    const w = await StorageWriter.open(root, { fsync: false, onApplied: (op) => applied.push(op) });
    // Keep the queue busy so the following patches wait and coalesce.
    const blocker = w.writeMetadata('other', { title: 'block' });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => w.writeMetadata('k1', { title: `t${i}`, year: 2000 + i })));
    await blocker;
    await w.close();
    const writes = applied.filter((o) => o.kind === 'metadata' && o.key === 'k1');
    assert.equal(writes.length, 1);
    assert.deepEqual(writes[0], { kind: 'metadata', key: 'k1', patches: 50 });
    assert.equal(readMeta(root, 'k1').title, 't49');
    assert.equal(readMeta(root, 'k1').year, 2049);
    for (const r of results) assert.equal(r.title, 't49');
  } finally {
    cleanup();
  }
});

test('an invalid patch is rejected alone; the others of the batch are applied', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const w = await StorageWriter.open(root, { fsync: false });
    const block = w.writeMetadata('x', { title: 'x' });
    const good1 = w.writeMetadata('k', { title: 'a' });
    const bad = w.writeMetadata('k', { year: 'nineteen' as unknown as number });
    const good2 = w.writeMetadata('k', { venue: 'V' });
    await block;
    await assert.rejects(bad, { code: 'E_BAD_METADATA' });
    const m = await good2;
    assert.equal((await good1).title, 'a');
    assert.equal(m.venue, 'V');
    assert.equal(m.year, undefined);
    await w.close();
  } finally {
    cleanup();
  }
});

test('commitPdf moves the temp file into place and records it; a later patch stays after it', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const order: string[] = [];
    const w = await StorageWriter.open(root, { fsync: true, onApplied: (op) => order.push(op.kind) });
    const bytes = Buffer.from('%PDF-1.4 hello');
    const tmp = await downloadTempPath(root, 'Smith2020');
    fs.writeFileSync(tmp, bytes);
    const p1 = w.writeMetadata('Smith2020', { title: 'T' });
    const p2 = w.commitPdf('Smith2020', tmp, pdfInfo(bytes));
    const p3 = w.writeMetadata('Smith2020', { pdf: null });
    await Promise.all([p1, p2, p3]);
    assert.deepEqual(order, ['metadata', 'pdf', 'metadata']);
    assert.equal(fs.readFileSync(pdfPath(root, 'Smith2020'), 'utf8'), '%PDF-1.4 hello');
    assert.equal(readMeta(root, 'Smith2020').pdf, undefined, 'the patch after the commit won');
    assert.equal(fs.existsSync(tmp), false);
    await w.close();
  } finally {
    cleanup();
  }
});

test('commitPdf refuses files that are not worker temps inside storage, and size mismatches', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const w = await StorageWriter.open(root, { fsync: false });
    const outside = path.join(path.dirname(root), 'x.pdf');
    fs.writeFileSync(outside, 'x');
    const info = pdfInfo(Buffer.from('x'));
    await assert.rejects(w.commitPdf('k', outside, info), { code: 'E_PATH_ESCAPE' });
    await assert.rejects(w.commitPdf('k', path.join(root, 'by_key', 'k', 'paper.pdf'), info), { code: 'E_PATH_ESCAPE' });
    await assert.rejects(w.commitPdf('k', path.join(root, 'tmp', '..', '..', 'x.pdf'), info), { code: 'E_PATH_ESCAPE' });
    const tmp = await downloadTempPath(root, 'k');
    fs.writeFileSync(tmp, 'xy');
    await assert.rejects(w.commitPdf('k', tmp, info), { code: 'E_PDF_SIZE' });
    assert.equal(fs.existsSync(pdfPath(root, 'k')), false);
    await w.close();
  } finally {
    cleanup();
  }
});

test('hostile keys and job ids are refused or contained', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const w = await StorageWriter.open(root, { fsync: false });
    await w.writeMetadata('../../etc', { title: 'x' });
    await w.writeMetadata('NUL.txt', { title: 'x' });
    assert.throws(() => w.writeJobState({ id: '../x', status: 's' }), { code: 'E_BAD_JOB_ID' });
    await w.close();
    assert.deepEqual(fs.readdirSync(path.dirname(root)), ['storage']);
    assert.equal(readMeta(root, '../../etc').key, '../../etc');
  } finally {
    cleanup();
  }
});

test('the index follows every write and is saved debounced, flush forces the save', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const index = await LibraryIndex.open(root);
    const saves: number[] = [];
    const w = await StorageWriter.open(root, {
      fsync: false,
      index,
      saveIndexDelayMs: 60_000,
      onApplied: (op) => op.kind === 'saveIndex' && saves.push(op.bytes),
    });
    for (let i = 0; i < 20; i++) await w.writeMetadata(`k${i}`, { title: `Paper ${i}` });
    assert.equal(index.stats().entries, 20);
    assert.equal(saves.length, 0, 'debounced: nothing saved yet');
    assert.equal(fs.existsSync(storagePaths(root).index), false);
    await w.flush();
    assert.equal(saves.length, 1);
    await w.removeEntry('k3');
    await w.close();
    assert.equal(saves.length, 2);
    assert.equal(fs.existsSync(path.join(root, 'by_key', 'k3')), false);
    index.close();
    const again = await LibraryIndex.open(root);
    assert.equal(again.openedFrom, 'file');
    assert.equal(again.stats().entries, 19);
    again.close();
    await assert.rejects(async () => w.writeMetadata('x', {}), { code: 'E_WRITER_CLOSED' });
  } finally {
    cleanup();
  }
});

test('a metadata.json that does not parse is never overwritten', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const w = await StorageWriter.open(root, { fsync: false });
    await w.writeMetadata('k', { title: 'x' });
    fs.writeFileSync(metadataPath(root, 'k'), '{ hand edited');
    await assert.rejects(w.writeMetadata('k', { title: 'y' }), { code: 'E_BAD_METADATA' });
    assert.equal(fs.readFileSync(metadataPath(root, 'k'), 'utf8'), '{ hand edited');
    await w.close();
  } finally {
    cleanup();
  }
});
