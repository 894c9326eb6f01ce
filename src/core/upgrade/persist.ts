/**
 * An upgrade proposal kept in the entry's metadata.json (`upgrade`), so that its diagnostic, its
 * quick fix and the Published since group survive a reload without asking the services again.
 * Only proposals with a published version are kept; the entry's text is kept as a hash, and a
 * proposal whose entry no longer hashes the same is void (the user changed the entry: their text wins).
 */
import { createHash } from 'node:crypto';
import type { UpgradeInfo } from '../storage/metadata';
import type { EvidenceKind, UpgradeProposal } from './evidence';

export function entryHash(entryText: string): string {
  return createHash('sha256').update(entryText, 'utf8').digest('hex');
}

/** The metadata form of a proposal, or undefined when there is nothing worth keeping (no published version). */
export function toUpgradeInfo(p: UpgradeProposal, entryText: string, at = new Date().toISOString()): UpgradeInfo | undefined {
  if (!p.to || p.outcome === 'none') return undefined;
  return { outcome: p.outcome, entryHash: entryHash(entryText), at, from: { ...p.from }, to: { ...p.to }, evidence: [...p.evidence], why: p.why };
}

/** The proposal back from metadata (candidates and service errors are not kept: the review lists them after a new run). */
export function fromUpgradeInfo(key: string, u: UpgradeInfo): UpgradeProposal {
  return { key, outcome: u.outcome, from: { ...u.from }, to: { ...u.to }, evidence: u.evidence as EvidenceKind[], why: u.why, candidates: [] };
}
