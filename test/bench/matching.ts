// DOI matching on the labelled set: the real resolver (src/core/resolve/resolver.ts resolveEntry)
// for every entry of test/fixtures/labelled/labelled.bib, against the replay server (whose Crossref
// search serves test/fixtures/corpus/crossref-works.jsonl), compared with labels.json.
// Rates are lifted (no latency, no limits): only the decisions are measured here, not the speed.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseBib } from '../../src/core/bib/parse';
import { ScholarHttp } from '../../src/core/net/http';
import { SERVICE_NAMES, type PolicyOverrides } from '../../src/core/net/policy';
import { resolveEntry, THRESHOLDS, type ResolveResult } from '../../src/core/resolve/resolver';
import { startReplayServer } from '../../src/replay';

export interface Label {
  doi: string | null;
  kind: string;
}

export interface MatchRow {
  key: string;
  kind: string;
  expected: string | null;
  outcome: string;
  got?: string;
  score?: number;
  /** review: is the labelled DOI the top-ranked candidate? */
  reviewTopIsExpected?: boolean;
  why: string;
}

export interface KindStats {
  kind: string;
  entries: number;
  withDoi: number;
  acceptedCorrect: number;
  acceptedWrong: number;
  review: number;
  notFound: number;
  other: number;
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

export async function runMatching(opts: { root: string; concurrency?: number }): Promise<MatchingResult> {
  const dir = path.join(opts.root, 'test/fixtures/labelled');
  const file = parseBib(readFileSync(path.join(dir, 'labelled.bib'), 'utf8'));
  const labels = JSON.parse(readFileSync(path.join(dir, 'labels.json'), 'utf8')) as Record<string, Label>;
  const replay = await startReplayServer({ fixturesDir: path.join(opts.root, 'test/fixtures') });
  const policies: PolicyOverrides = {};
  for (const s of SERVICE_NAMES) policies[s] = { rate: { requests: 10_000, intervalMs: 1000 }, searchRate: { requests: 10_000, intervalMs: 1000 }, concurrency: 8 };
  const http = new ScholarHttp({ email: 'bench@example.org', endpoints: replay.endpoints, policies });
  const rows: MatchRow[] = [];
  const t0 = performance.now();
  try {
    const queue = file.entries.slice();
    const worker = async () => {
      for (let e = queue.shift(); e; e = queue.shift()) {
        const label = labels[e.key];
        if (!label) continue;
        const r: ResolveResult = await resolveEntry(http, file, e);
        rows.push({
          key: e.key,
          kind: label.kind,
          expected: norm(label.doi),
          outcome: r.outcome,
          got: r.doi ? norm(r.doi)! : undefined,
          score: r.score !== undefined ? Math.round(r.score * 1000) / 1000 : undefined,
          reviewTopIsExpected: r.outcome === 'review' ? norm(r.candidates[0]?.doi) === norm(label.doi) : undefined,
          why: r.why,
        });
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  } finally {
    await http.close();
    await replay.close();
  }
  const elapsedMs = performance.now() - t0;
  const order = new Map(file.entries.map((e, i) => [e.key, i]));
  rows.sort((a, b) => order.get(a.key)! - order.get(b.key)!);

  const isAccept = (r: MatchRow) => r.outcome === 'accept' && !!r.got;
  const correct = (r: MatchRow) => isAccept(r) && r.got === r.expected;
  const accepted = rows.filter(isAccept);
  const acceptedCorrect = accepted.filter(correct);
  const withDoi = rows.filter((r) => r.expected);
  const kinds = [...new Set(rows.map((r) => r.kind))];
  const byKind: KindStats[] = kinds.map((kind) => {
    const rs = rows.filter((r) => r.kind === kind);
    return {
      kind,
      entries: rs.length,
      withDoi: rs.filter((r) => r.expected).length,
      acceptedCorrect: rs.filter(correct).length,
      acceptedWrong: rs.filter((r) => isAccept(r) && !correct(r)).length,
      review: rs.filter((r) => r.outcome === 'review').length,
      notFound: rs.filter((r) => r.outcome === 'not_found').length,
      other: rs.filter((r) => !['accept', 'review', 'not_found'].includes(r.outcome)).length,
    };
  });
  const other: Record<string, number> = {};
  for (const r of rows) if (!['accept', 'review', 'not_found'].includes(r.outcome)) other[r.outcome] = (other[r.outcome] ?? 0) + 1;
  return {
    entries: rows.length,
    thresholds: THRESHOLDS,
    accepted: accepted.length,
    acceptedCorrect: acceptedCorrect.length,
    labelledWithDoi: withDoi.length,
    precision: accepted.length ? acceptedCorrect.length / accepted.length : NaN,
    recall: withDoi.length ? acceptedCorrect.length / withDoi.length : NaN,
    reviewRate: rows.filter((r) => r.outcome === 'review').length / rows.length,
    notFoundRate: rows.filter((r) => r.outcome === 'not_found').length / rows.length,
    otherOutcomes: other,
    byKind,
    wrongAccepts: accepted.filter((r) => !correct(r)),
    missedPositives: withDoi.filter((r) => !correct(r)),
    rows,
    elapsedMs,
    unlabelledKeys: file.entries.filter((e) => !labels[e.key]).map((e) => e.key),
    labelsWithoutEntry: Object.keys(labels).filter((k) => !order.has(k)),
    parseErrors: file.errors.filter((e) => e.severity === 'error').map((e) => ({ line: e.line, message: e.message })),
  };
}
