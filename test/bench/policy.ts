// The client's default (polite) limits, read by test/bench/run.mjs so that the ideal bound and the
// replay server's limits follow src/core/net/policy.ts instead of a copy of its numbers.
import { defaultPolicies } from '../../src/core/net/policy';

export function policyTable(): { rates: Record<string, number>; concurrency: Record<string, number> } {
  const rates: Record<string, number> = {};
  const concurrency: Record<string, number> = {};
  for (const [name, p] of Object.entries(defaultPolicies(true))) {
    rates[name] = (p.rate.requests * 1000) / p.rate.intervalMs;
    if (p.searchRate) rates[`${name}:search`] = (p.searchRate.requests * 1000) / p.searchRate.intervalMs;
    concurrency[name] = p.concurrency;
  }
  return { rates, concurrency };
}
