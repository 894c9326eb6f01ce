// DOI matching on the labelled set: the real resolver (src/core/resolve/resolver.ts resolveEntry)
// for every entry of test/fixtures/labelled/labelled.bib, against the replay server (whose Crossref
// search serves test/fixtures/corpus/crossref-works.jsonl plus the derived version twins of
// test/fixtures/labelled/version-twins.jsonl), compared with labels.json. Existing DOIs are checked
// (the CLI's default), and one API response in ten is an injected 503 (seeded), which the client's
// retries must absorb. Rates are lifted (no latency, no limits): only the decisions are measured.
//
// What counts: a DOI is *written* when the resolver accepts one, or finds a confident replacement for
// a wrong DOI the entry carries (what `--fix-existing` writes). It is *found* when it is written and
// equals the label, or when the entry already carried the labelled DOI and it was kept.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseBib } from '../../src/core/bib/parse';
import { ScholarHttp } from '../../src/core/net/http';
import { SERVICE_NAMES, type PolicyOverrides } from '../../src/core/net/policy';
import { resolveEntry, THRESHOLDS, type ResolveOptions, type ResolveResult } from '../../src/core/resolve/resolver';
import type { FallbackRule } from '../../src/core/resolve/plausible';
import { startReplayServer } from '../../src/replay';

export interface Label {
  doi: string | null;
  kind: string;
  split: 'tuning' | 'heldout';
  /** Version pairs: the other version's DOI (accepting it is a version confusion). */
  other?: string;
  /** arXiv citations: the published version's DOI. */
  published?: string;
  /** Existing-DOI cases: the DOI the entry carries. */
  inputDoi?: string;
}

export interface MatchRow {
  key: string;
  kind: string;
  split: 'tuning' | 'heldout';
  expected: string | null;
  outcome: string;
  /** The DOI written: an accepted one, or the replacement of a wrong existing DOI. */
  got?: string;
  /** The entry carried the labelled DOI and it was kept. */
  kept?: boolean;
  /** The written DOI is the other version of the labelled work. */
  versionConfusion?: boolean;
  /** A wrong input DOI reported as doi_unknown / doi_mismatch; a right one reported so (false alarm). */
  flagged?: boolean;
  score?: number;
  /** The best candidates: DOI, version, score (for reading the rows, not for the figures). */
  top?: string[];
  /** review: is the labelled DOI the top-ranked candidate? */
  reviewTopIsExpected?: boolean;
  /** Where the written DOI came from (crossref, openalex, semanticScholar, arxiv, entry-url …). */
  source?: string;
  why: string;
}

export interface KindStats {
  kind: string;
  entries: number;
  withDoi: number;
  /** Written and equal to the label. */
  acceptedCorrect: number;
  /** Written and not equal to the label. */
  acceptedWrong: number;
  /** The entry's own (right) DOI kept. */
  kept: number;
  /** Wrong input DOIs reported (existing-* kinds), or right ones wrongly reported (existing-right). */
  flagged: number;
  versionConfusions: number;
  review: number;
  notFound: number;
  other: number;
  precision: number;
  recall: number;
}

export interface SplitStats {
  entries: number;
  written: number;
  writtenCorrect: number;
  found: number;
  labelledWithDoi: number;
  precision: number;
  recall: number;
  versionConfusions: number;
  byKind: KindStats[];
}

export interface MatchingResult {
  entries: number;
  thresholds: typeof THRESHOLDS;
  accepted: number;
  acceptedCorrect: number;
  labelledWithDoi: number;
  precision: number;
  recall: number;
  reviewRate: number;
  notFoundRate: number;
  otherOutcomes: Record<string, number>;
  byKind: KindStats[];
  /** The same figures on each share: `heldout` is what the thresholds were never tuned on. */
  splits: Record<'tuning' | 'heldout', SplitStats>;
  versionConfusions: number;
  /** Wrong input DOIs (existing-* other than existing-right) and how many were reported. */
  wrongInputDois: number;
  wrongInputDoisReported: number;
  /** Right input DOIs reported as unknown/mismatch. */
  falseAlarms: number;
  faultShare: number;
  faultsInjected: number;
  wrongAccepts: MatchRow[];
  missedPositives: MatchRow[];
  rows: MatchRow[];
  elapsedMs: number;
  /** Data problems of the labelled set itself: entries without a label, labels without an entry, parse errors. */
  unlabelledKeys: string[];
  labelsWithoutEntry: string[];
  parseErrors: { line: number; message: string }[];
}

const norm = (d?: string | null) => (d ? d.trim().toLowerCase() : null);

export const FAULT_SHARE = 0.1;

function kindStats(kind: string, rs: MatchRow[]): KindStats {
  const written = rs.filter((r) => !!r.got);
  const correct = written.filter((r) => r.got === r.expected);
  const kept = rs.filter((r) => r.kept);
  const withDoi = rs.filter((r) => r.expected).length;
  return {
    kind,
    entries: rs.length,
    withDoi,
    acceptedCorrect: correct.length,
    acceptedWrong: written.length - correct.length,
    kept: kept.length,
    flagged: rs.filter((r) => r.flagged).length,
    versionConfusions: rs.filter((r) => r.versionConfusion).length,
    review: rs.filter((r) => r.outcome === 'review').length,
    notFound: rs.filter((r) => r.outcome === 'not_found').length,
    other: rs.filter((r) => !['accept', 'review', 'not_found'].includes(r.outcome)).length,
    precision: written.length ? correct.length / written.length : NaN,
    recall: withDoi ? (correct.length + kept.length) / withDoi : NaN,
  };
}

function splitStats(rows: MatchRow[]): SplitStats {
  const written = rows.filter((r) => !!r.got);
  const writtenCorrect = written.filter((r) => r.got === r.expected).length;
  const found = writtenCorrect + rows.filter((r) => r.kept).length;
  const labelledWithDoi = rows.filter((r) => r.expected).length;
  const kinds = [...new Set(rows.map((r) => r.kind))];
  return {
    entries: rows.length,
    written: written.length,
    writtenCorrect,
    found,
    labelledWithDoi,
    precision: written.length ? writtenCorrect / written.length : NaN,
    recall: labelledWithDoi ? found / labelledWithDoi : NaN,
    versionConfusions: rows.filter((r) => r.versionConfusion).length,
    byKind: kinds.map((k) => kindStats(k, rows.filter((r) => r.kind === k))),
  };
}

export async function runMatching(opts: { root: string; concurrency?: number; faultShare?: number; fallbackRule?: FallbackRule; fallbacks?: ResolveOptions['fallbacks'] }): Promise<MatchingResult & { requests: Record<string, number> }> {
  const dir = path.join(opts.root, 'test/fixtures/labelled');
  const file = parseBib(readFileSync(path.join(dir, 'labelled.bib'), 'utf8'));
  const labels = JSON.parse(readFileSync(path.join(dir, 'labels.json'), 'utf8')) as Record<string, Label>;
  const twins = readFileSync(path.join(dir, 'version-twins.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const faultShare = opts.faultShare ?? FAULT_SHARE;
  const apis = ['crossref', 'openalex', 'semanticScholar', 'arxiv', 'doi'] as const;
  const replay = await startReplayServer({
    fixturesDir: path.join(opts.root, 'test/fixtures'),
    faults: faultShare > 0 ? apis.map((service, i) => ({ kind: 'status' as const, status: 503, service, share: faultShare, seed: 1000 + i })) : [],
  });
  replay.addWorks(twins);
  const policies: PolicyOverrides = {};
  // Retries without the production backoff (0.5 s and up): the faults are the point, not the waits.
  for (const s of SERVICE_NAMES) policies[s] = { rate: { requests: 10_000, intervalMs: 1000 }, searchRate: { requests: 10_000, intervalMs: 1000 }, concurrency: 8, backoffBaseMs: 5, backoffMaxMs: 20, breaker: { failureThreshold: 1_000_000 } };
  const http = new ScholarHttp({ email: 'bench@example.org', endpoints: replay.endpoints, policies });
  const rows: MatchRow[] = [];
  const t0 = performance.now();
  try {
    const queue = file.entries.slice();
    const worker = async () => {
      for (let e = queue.shift(); e; e = queue.shift()) {
        const label = labels[e.key];
        if (!label) continue;
        const r: ResolveResult = await resolveEntry(http, file, e, { checkExisting: true, fallbackRule: opts.fallbackRule, fallbacks: opts.fallbacks });
        const expected = norm(label.doi);
        const written = r.outcome === 'accept' ? norm(r.doi) : r.replacement ? norm(r.replacement.doi) : null;
        const input = norm(label.inputDoi?.replace(/^https:\/\/doi\.org\//i, ''));
        rows.push({
          key: e.key,
          kind: label.kind,
          split: label.split ?? 'tuning',
          expected,
          outcome: r.outcome,
          got: written ?? undefined,
          kept: r.outcome === 'has_doi' && !!input && input === expected,
          versionConfusion: !!written && written === norm(label.other),
          flagged: r.outcome === 'doi_unknown' || r.outcome === 'doi_mismatch',
          score: r.score !== undefined ? Math.round(r.score * 1000) / 1000 : undefined,
          top: r.candidates.slice(0, 3).map((c) => `${c.doi} ${c.version}${c.versionOk === false ? '✗' : ''} ${c.score} ${c.source}`),
          reviewTopIsExpected: r.outcome === 'review' ? norm(r.candidates[0]?.doi) === expected : undefined,
          source: written ? (r.outcome === 'accept' ? r.source : r.replacement?.source) : undefined,
          why: r.why,
        });
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  } finally {
    await http.close();
  }
  const faultsInjected = replay.stats().log.filter((l) => l.status === 503).length;
  const requests: Record<string, number> = { ...replay.stats().requests };
  await replay.close();
  const elapsedMs = performance.now() - t0;
  const order = new Map(file.entries.map((e, i) => [e.key, i]));
  rows.sort((a, b) => order.get(a.key)! - order.get(b.key)!);

  const all = splitStats(rows);
  const other: Record<string, number> = {};
  for (const r of rows) if (!['accept', 'review', 'not_found'].includes(r.outcome)) other[r.outcome] = (other[r.outcome] ?? 0) + 1;
  const wrongInput = rows.filter((r) => r.kind.startsWith('existing-') && r.kind !== 'existing-right');
  return {
    entries: rows.length,
    thresholds: THRESHOLDS,
    accepted: all.written,
    acceptedCorrect: all.writtenCorrect,
    labelledWithDoi: all.labelledWithDoi,
    precision: all.precision,
    recall: all.recall,
    reviewRate: rows.filter((r) => r.outcome === 'review').length / rows.length,
    notFoundRate: rows.filter((r) => r.outcome === 'not_found').length / rows.length,
    otherOutcomes: other,
    byKind: all.byKind,
    splits: { tuning: splitStats(rows.filter((r) => r.split !== 'heldout')), heldout: splitStats(rows.filter((r) => r.split === 'heldout')) },
    versionConfusions: all.versionConfusions,
    wrongInputDois: wrongInput.length,
    wrongInputDoisReported: wrongInput.filter((r) => r.flagged).length,
    falseAlarms: rows.filter((r) => r.kind === 'existing-right' && r.flagged).length,
    faultShare,
    faultsInjected,
    wrongAccepts: rows.filter((r) => r.got && r.got !== r.expected),
    missedPositives: rows.filter((r) => r.expected && r.got !== r.expected && !r.kept),
    rows,
    elapsedMs,
    requests,
    unlabelledKeys: file.entries.filter((e) => !labels[e.key]).map((e) => e.key),
    labelsWithoutEntry: Object.keys(labels).filter((k) => !order.has(k)),
    parseErrors: file.errors.filter((e) => e.severity === 'error').map((e) => ({ line: e.line, message: e.message })),
  };
}
