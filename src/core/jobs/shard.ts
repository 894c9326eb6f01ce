/**
 * `--shard I/N`: N processes (a Slurm job array, GNU parallel, a CI matrix) split one bibliography
 * over one shared storage folder. An entry belongs to the shard its folder name hashes to, so the
 * split is the same on every machine and in every run, and two shards never want the same folder.
 */
import { createHash } from 'node:crypto';
import { ScholarError } from '../errors';
import { keyToFolderName } from '../storage/keys';

export interface Shard {
  /** 1-based, as Slurm's `--array=1-N` counts. */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index >= 1) || index > count || count > 10_000) {
    throw new ScholarError('E_USAGE', `--shard expects I/N with 1 ≤ I ≤ N (e.g. 2/4), got ${text}`);
  }
  return { index, count };
}

export function shardOfKey(key: string, count: number): number {
  // The sanitised folder name, not the key: keys that share a folder (case, escapes) share a shard.
  const h = createHash('sha1').update(keyToFolderName(key)).digest();
  return (h.readUInt32BE(0) % count) + 1;
}

export function inShard(key: string, shard: Shard | undefined): boolean {
  return !shard || shard.count === 1 || shardOfKey(key, shard.count) === shard.index;
}

export const shardText = (s: Shard) => `${s.index}/${s.count}`;
