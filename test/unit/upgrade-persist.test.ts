// An upgrade proposal kept in metadata.json (src/core/upgrade/persist.ts, metadata.ts `upgrade`):
// it round-trips through validateMetadata and the single writer, a malformed one is refused with a
// clear error, and only proposals with a published version are kept.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { emptyMetadata, validateMetadata } from '../../src/core/storage/metadata';
import { StorageWriter } from '../../src/core/storage/writer';
import { metadataPath } from '../../src/core/storage/layout';
import { entryHash, fromUpgradeInfo, toUpgradeInfo } from '../../src/core/upgrade/persist';
import type { UpgradeProposal } from '../../src/core/upgrade/evidence';

const proposal: UpgradeProposal = {
  key: 'okafor21',
  outcome: 'upgraded',
  from: { arxivId: '2104.01234' },
  to: { doi: '10.5555/jrs.1', title: 'Sparse widgets', type: 'journal-article', venue: 'Journal of Replay Studies', year: 2022, volume: '12', pages: '101-119' },
  evidence: ['arxiv-doi', 'arxiv-journal-ref'],
  why: 'the preprint record links it',
  candidates: [{ doi: '10.5555/jrs.1', evidence: ['arxiv-doi'], confirmed: true, score: 0.97 }],
};
const ENTRY = '@misc{okafor21,\n  title = {Sparse widgets},\n  eprint = {2104.01234}\n}';

test('upgrade persist: a proposal with a published version round-trips through metadata.json via the writer; none is not kept', async () => {
  const info = toUpgradeInfo(proposal, ENTRY, '2026-12-01T00:00:00.000Z')!;
  assert.equal(info.entryHash, entryHash(ENTRY));
  assert.notEqual(entryHash(ENTRY + ' '), info.entryHash, 'any change of the entry voids it');
  assert.equal(toUpgradeInfo({ ...proposal, outcome: 'none', to: undefined }, ENTRY), undefined);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'scholar-'));
  const writer = await StorageWriter.open(root, { fsync: false });
  try {
    await writer.writeMetadata('okafor21', { upgrade: info });
    const onDisk = validateMetadata(JSON.parse(fs.readFileSync(metadataPath(root, 'okafor21'), 'utf8')));
    assert.deepEqual(onDisk.upgrade, info);
    const back = fromUpgradeInfo('okafor21', onDisk.upgrade!);
    assert.deepEqual({ ...back, candidates: [] }, { ...proposal, candidates: [] });
    await writer.writeMetadata('okafor21', { upgrade: null });
    assert.equal(validateMetadata(JSON.parse(fs.readFileSync(metadataPath(root, 'okafor21'), 'utf8'))).upgrade, undefined);
  } finally {
    await writer.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('upgrade persist: a malformed kept proposal is refused with the field named', () => {
  const good = { ...emptyMetadata('k'), upgrade: toUpgradeInfo(proposal, ENTRY) };
  assert.doesNotThrow(() => validateMetadata(good));
  assert.throws(() => validateMetadata({ ...good, upgrade: { ...good.upgrade, outcome: 'none' } }), /upgrade\.outcome/);
  assert.throws(() => validateMetadata({ ...good, upgrade: { ...good.upgrade, entryHash: 'abc' } }), /upgrade\.entryHash/);
  assert.throws(() => validateMetadata({ ...good, upgrade: { ...good.upgrade, to: { title: 'x' } } }), /upgrade\.to\.doi/);
});
