/** Requests per service from the HTTP client's lane statistics (one lane per API, one per PDF host). */
import type { ServiceStats } from '../net/http';

export function requestCounts(stats: Record<string, ServiceStats>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of Object.values(stats)) out[s.service] = (out[s.service] ?? 0) + s.requests;
  return out;
}
