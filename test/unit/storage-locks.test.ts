import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LockManager, startupCleanup } from '../../src/core/storage/locks';
import { downloadTempPath, ensureStorageDirs, storagePaths } from '../../src/core/storage/layout';
import { HOST_TAG, atomicTempPath } from '../../src/core/storage/atomic';
import { sleep, spawnSelf, tempStorage } from './storage-helpers';

/** A pid that certainly belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const { spawn } = await import('node:child_process');
  const c = spawn(process.execPath, ['-e', '0']);
  const pid = c.pid!;
  await new Promise((r) => c.on('close', r));
  return pid;
}

function writeLock(p: string, info: object, ageMs = 0): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, JSON.stringify(info));
  if (ageMs) {
    const t = new Date(Date.now() - ageMs);
    fs.utimesSync(p, t, t);
  }
}

test('a key lock is exclusive within a process and between managers, and released cleanly', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const a = new LockManager(root);
    const b = new LockManager(root);
    const h = await a.tryLock('Smith2020');
    assert.ok(h);
    assert.equal(await a.tryLock('Smith2020'), null);
    assert.equal(await b.tryLock('Smith2020'), null);
    assert.ok(await b.tryLock('smith2020'), 'case variant is another key');
    const info = JSON.parse(fs.readFileSync(h.path, 'utf8'));
    assert.equal(info.pid, process.pid);
    assert.equal(info.host, os.hostname());
    await h.release();
    const h2 = await b.tryLock('Smith2020');
    assert.ok(h2);
    await b.releaseAll();
    assert.deepEqual(fs.readdirSync(storagePaths(root).locks).filter((n) => n.endsWith('.lock')), []);
  } finally {
    cleanup();
  }
});

test('concurrent tryLock calls: exactly one wins', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const managers = Array.from({ length: 10 }, () => new LockManager(root));
    const got = await Promise.all(managers.map((m) => m.tryLock('k')));
    assert.equal(got.filter(Boolean).length, 1);
    await Promise.all(managers.map((m) => m.releaseAll()));
  } finally {
    cleanup();
  }
});

test('a lock of a dead process on this host is recovered', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const m = new LockManager(root);
    writeLock(m.lockPath('k'), { pid: await deadPid(), host: os.hostname(), createdAt: new Date().toISOString(), token: 'dead' });
    const h = await m.tryLock('k');
    assert.ok(h, 'stale lock broken');
    assert.notEqual(JSON.parse(fs.readFileSync(h.path, 'utf8')).token, 'dead');
    await h.release();
  } finally {
    cleanup();
  }
});

test('a lock from another host is respected until its heartbeat is older than the TTL', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const m = new LockManager(root, { ttlMs: 5_000 });
    const info = { pid: 1, host: 'elsewhere', createdAt: new Date().toISOString(), token: 'remote' };
    writeLock(m.lockPath('k'), info, 1_000);
    assert.equal(await m.tryLock('k'), null);
    writeLock(m.lockPath('k'), info, 10_000);
    const h = await m.tryLock('k');
    assert.ok(h);
    await h.release();
  } finally {
    cleanup();
  }
});

test('an empty lock file (creator died mid-write) is recovered only after a grace period', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const m = new LockManager(root, { ttlMs: 60_000 });
    writeLock(m.lockPath('k'), {}, 0);
    fs.writeFileSync(m.lockPath('k'), '');
    assert.equal(await m.tryLock('k'), null);
    const t = new Date(Date.now() - 6_000);
    fs.utimesSync(m.lockPath('k'), t, t);
    const h = await m.tryLock('k');
    assert.ok(h);
    await h.release();
  } finally {
    cleanup();
  }
});

test('the heartbeat keeps a held lock fresh past its TTL; release does not delete a lock that is no longer ours', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const a = new LockManager(root, { ttlMs: 300, heartbeatMs: 50 });
    const b = new LockManager(root, { ttlMs: 300 });
    // Simulate another host holding the lock, so only the heartbeat (not pid liveness) can keep it.
    const h = await a.tryLock('k');
    assert.ok(h);
    const info = JSON.parse(fs.readFileSync(h.path, 'utf8'));
    fs.writeFileSync(h.path, JSON.stringify({ ...info, host: 'elsewhere' }));
    await sleep(700);
    assert.equal(await b.tryLock('k'), null, 'heartbeat kept it alive');
    assert.equal(h.lost, false);
    // Someone replaces the lock (as if they judged it stale): our release must leave theirs alone.
    fs.writeFileSync(h.path, JSON.stringify({ ...info, token: 'theirs', host: 'elsewhere' }));
    await sleep(120);
    assert.equal(h.lost, true);
    await h.release();
    assert.equal(JSON.parse(fs.readFileSync(h.path, 'utf8')).token, 'theirs');
  } finally {
    cleanup();
  }
});

test('acquire waits for a release, and times out with a code', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const a = new LockManager(root);
    const b = new LockManager(root);
    const h = await a.tryLock('k');
    assert.ok(h);
    await assert.rejects(b.acquire('k', { timeoutMs: 100 }), { code: 'E_LOCK_TIMEOUT' });
    setTimeout(() => void h.release(), 50);
    const h2 = await b.acquire('k', { timeoutMs: 5_000 });
    assert.ok(h2);
    await h2.release();
    const ac = new AbortController();
    const h3 = await a.tryLock('k');
    setTimeout(() => ac.abort(), 30);
    await assert.rejects(b.acquire('k', { signal: ac.signal }), { name: 'AbortError' });
    await h3!.release();
  } finally {
    cleanup();
  }
});

test('startupCleanup removes temps of dead processes and stale locks, keeps live ones', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const sp = await ensureStorageDirs(root);
    const dead = await deadPid();
    const keep: string[] = [];
    const gone: string[] = [];
    // Our own temps (live pid).
    keep.push(await downloadTempPath(root, 'k1'));
    keep.push(atomicTempPath(path.join(sp.byKey, 'k1', 'metadata.json')));
    // A dead process's temps.
    const dir = path.join(sp.byKey, 'k2');
    fs.mkdirSync(dir, { recursive: true });
    gone.push(path.join(dir, `.tmp-${dead}-abcdef012345.part`));
    gone.push(path.join(dir, `.metadata.json.${dead}.abcdef012345.tmp`));
    gone.push(path.join(sp.jobs, `.j1.json.${dead}.abcdef012345.tmp`));
    gone.push(path.join(sp.tmp, `${dead}-x.part`));
    gone.push(path.join(sp.root, `.library.sqlite.${dead}.abcdef012345.tmp`));
    keep.push(path.join(dir, 'metadata.json'), path.join(dir, 'paper.pdf'));
    for (const f of [...keep, ...gone]) fs.writeFileSync(f, 'x');
    fs.mkdirSync(path.join(sp.tmp, `${dead}-rm-1`));
    fs.writeFileSync(path.join(sp.tmp, `${dead}-rm-1`, 'x'), 'x');
    gone.push(path.join(sp.tmp, `${dead}-rm-1`));

    const m = new LockManager(root);
    const live = await m.tryLock('live');
    writeLock(m.lockPath('stale'), { pid: dead, host: os.hostname(), createdAt: '', token: 't' });
    writeLock(m.lockPath('stale', 'meta'), { pid: dead, host: os.hostname(), createdAt: '', token: 't' });

    const report = await startupCleanup(root, { minAgeMs: 0 });
    for (const f of keep) assert.ok(fs.existsSync(f), `kept ${f}`);
    for (const f of gone) assert.ok(!fs.existsSync(f), `removed ${f}`);
    assert.equal(report.removedTemps.length, gone.length);
    assert.equal(report.removedLocks.length, 2);
    assert.ok(fs.existsSync(live!.path));
    await live!.release();
  } finally {
    cleanup();
  }
});

test('startupCleanup removes a dead process\'s temps of this host at once, and keeps young ones of other hosts or untagged', async () => {
  const { root, cleanup } = tempStorage();
  try {
    const sp = await ensureStorageDirs(root);
    const dead = await deadPid();
    const dir = path.join(sp.byKey, 'k');
    fs.mkdirSync(dir, { recursive: true });
    // Untagged (older names) or tagged with another host: the pid says nothing here, so young ones stay.
    const kept = [
      path.join(sp.tmp, `${dead}-x.part`),
      path.join(dir, `.tmp-${dead}-abcdef012345.part`),
      path.join(dir, `.tmp-${dead}-0badc0de-abcdef012345.part`),
      path.join(dir, `.metadata.json.${dead}-0badc0de.abcdef012345.tmp`),
    ];
    // Tagged with this host and a dead pid: nobody can be writing them, so they go at once.
    const removed = [path.join(dir, `.tmp-${dead}-${HOST_TAG}-abcdef012345.part`), path.join(dir, `.metadata.json.${dead}-${HOST_TAG}.abcdef012345.tmp`), path.join(sp.tmp, `${dead}-${HOST_TAG}-rm-1`)];
    assert.ok(!HOST_TAG.startsWith('0badc0de'));
    for (const f of [...kept, ...removed]) fs.writeFileSync(f, 'x');
    const report = await startupCleanup(root);
    for (const f of kept) assert.ok(fs.existsSync(f), `kept ${f}`);
    for (const f of removed) assert.ok(!fs.existsSync(f), `removed ${f}`);
    assert.equal(report.removedTemps.length, removed.length);
  } finally {
    cleanup();
  }
});

void spawnSelf;
