// Upgrades on the labelled set: the real proposal (src/core/upgrade/evidence.ts proposeUpgrade) for
// every entry of test/fixtures/labelled/upgrade.bib, against the replay server (the corpus plus
// version-twins.jsonl and upgrade-twins.jsonl), compared with upgrade-labels.json. One API response
// in ten is an injected 503, as in the matching benchmark; rates are lifted, only decisions count.
// Every upgrade is also written (planUpgradeEdit) and read back: it must keep its key, cite the
// published version and carry the new DOI, or it counts as wrong.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { applyEdits } from '../../src/core/bib/edit';
import { parseBib } from '../../src/core/bib/parse';
import { entryFacts } from '../../src/core/match/facts';
import { ScholarHttp } from '../../src/core/net/http';
import { SERVICE_NAMES, type PolicyOverrides } from '../../src/core/net/policy';
import { proposeUpgrade } from '../../src/core/upgrade/evidence';
import { planUpgradeEdit } from '../../src/core/upgrade/edit';
import { startReplayServer } from '../../src/replay';

interface Label {
  doi: string | null;
  kind: string;
  split: 'tuning' | 'heldout';
}

export interface UpgradeRow {
  key: string;
  kind: string;
  split: 'tuning' | 'heldout';
  expected: string | null;
  outcome: string;
  got?: string;
  /** The rewrite read back: key kept, cites the published version, has the DOI. */
  rewriteOk?: boolean;
  evidence: string[];
  why: string;
}

export interface UpgradeStats {
  entries: number;
  labelledWithDoi: number;
  upgraded: number;
  upgradedCorrect: number;
  review: number;
  none: number;
  precision: number;
  recall: number;
}

export interface UpgradeResult {
  entries: number;
  faultShare: number;
  faultsInjected: number;
  all: UpgradeStats;
  splits: Record<'tuning' | 'heldout', UpgradeStats & { byKind: (UpgradeStats & { kind: string })[] }>;
  byKind: (UpgradeStats & { kind: string })[];
  requestsPerEntry: Record<string, number>;
  wrong: UpgradeRow[];
  missed: UpgradeRow[];
  rows: UpgradeRow[];
  elapsedMs: number;
  unlabelledKeys: string[];
}

function stats(rows: UpgradeRow[]): UpgradeStats {
  const upgraded = rows.filter((r) => r.outcome === 'upgraded');
  const correct = upgraded.filter((r) => r.got === r.expected && r.rewriteOk);
  const withDoi = rows.filter((r) => r.expected).length;
  return {
    entries: rows.length,
    labelledWithDoi: withDoi,
    upgraded: upgraded.length,
    upgradedCorrect: correct.length,
    review: rows.filter((r) => r.outcome === 'review').length,
    none: rows.filter((r) => r.outcome === 'none').length,
    precision: upgraded.length ? correct.length / upgraded.length : NaN,
    recall: withDoi ? correct.length / withDoi : NaN,
  };
}
const byKind = (rows: UpgradeRow[]) => [...new Set(rows.map((r) => r.kind))].map((kind) => ({ kind, ...stats(rows.filter((r) => r.kind === kind)) }));

export async function runUpgradeBench(opts: { root: string; concurrency?: number; faultShare?: number }): Promise<UpgradeResult> {
  const dir = path.join(opts.root, 'test/fixtures/labelled');
  const file = parseBib(readFileSync(path.join(dir, 'upgrade.bib'), 'utf8'));
  const labels = JSON.parse(readFileSync(path.join(dir, 'upgrade-labels.json'), 'utf8')) as Record<string, Label>;
  const jsonl = (name: string) => readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const faultShare = opts.faultShare ?? 0.1;
  const apis = ['crossref', 'openalex', 'semanticScholar', 'arxiv', 'doi'] as const;
  const replay = await startReplayServer({
    fixturesDir: path.join(opts.root, 'test/fixtures'),
    faults: faultShare > 0 ? apis.map((service, i) => ({ kind: 'status' as const, status: 503, service, share: faultShare, seed: 2000 + i })) : [],
  });
  replay.addWorks([...jsonl('version-twins.jsonl'), ...jsonl('upgrade-twins.jsonl')]);
  const policies: PolicyOverrides = {};
  for (const s of SERVICE_NAMES) policies[s] = { rate: { requests: 10_000, intervalMs: 1000 }, searchRate: { requests: 10_000, intervalMs: 1000 }, concurrency: 8, backoffBaseMs: 5, backoffMaxMs: 20, breaker: { failureThreshold: 1_000_000 } };
  const http = new ScholarHttp({ email: 'bench@example.org', endpoints: replay.endpoints, policies });
  const rows: UpgradeRow[] = [];
  const t0 = performance.now();
  try {
    const queue = file.entries.slice();
    const worker = async () => {
      for (let e = queue.shift(); e; e = queue.shift()) {
        const label = labels[e.key];
        if (!label) continue;
        const p = await proposeUpgrade(http, file, e);
        let rewriteOk: boolean | undefined;
        if (p.outcome === 'upgraded' && p.to) {
          try {
            const after = applyEdits(file.text, [planUpgradeEdit(file, e, p.to, p.from)]);
            const g = parseBib(after);
            const ne = g.entries.find((x) => x.key === e.key);
            rewriteOk = !!ne && g.entries.length === file.entries.length && entryFacts(g, ne).cited === 'published' && ne.fields.get('doi')?.value === p.to.doi;
          } catch {
            rewriteOk = false;
          }
        }
        rows.push({ key: e.key, kind: label.kind, split: label.split, expected: label.doi, outcome: p.outcome, got: p.to?.doi, rewriteOk, evidence: p.evidence, why: p.why });
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  } finally {
    await http.close();
  }
  const log = replay.stats().log;
  await replay.close();
  const perService: Record<string, number> = {};
  for (const l of log) perService[l.service] = (perService[l.service] ?? 0) + 1;
  for (const k of Object.keys(perService)) perService[k] = Math.round((perService[k] / rows.length) * 100) / 100;
  const order = new Map(file.entries.map((e, i) => [e.key, i]));
  rows.sort((a, b) => order.get(a.key)! - order.get(b.key)!);
  const split = (s: 'tuning' | 'heldout') => {
    const rs = rows.filter((r) => r.split === s);
    return { ...stats(rs), byKind: byKind(rs) };
  };
  return {
    entries: rows.length,
    faultShare,
    faultsInjected: log.filter((l) => l.status === 503).length,
    all: stats(rows),
    splits: { tuning: split('tuning'), heldout: split('heldout') },
    byKind: byKind(rows),
    requestsPerEntry: perService,
    wrong: rows.filter((r) => r.outcome === 'upgraded' && (r.got !== r.expected || !r.rewriteOk)),
    missed: rows.filter((r) => r.expected && !(r.outcome === 'upgraded' && r.got === r.expected && r.rewriteOk)),
    rows,
    elapsedMs: performance.now() - t0,
    unlabelledKeys: file.entries.filter((e) => !labels[e.key]).map((e) => e.key),
  };
}
