// Admission control enforced before a request is sent: concurrency slots plus evenly spaced
// starts. Spacing (interval / requests, plus a small safety margin) rather than a fixed-window
// counter is deliberate: a fixed window lets 2×N requests through around a window boundary, and
// a burst at the cap is pushed over it by the smallest network jitter, which a server that
// counts in a sliding window (as Crossref's does) reports as a violation.
import { ScholarError } from '../errors';
import type { BreakerPolicy, RateLimit } from './policy';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Fraction added to the spacing between starts so that arrival jitter never crosses the limit. */
export const RATE_SAFETY_MARGIN = 0.03;

/** The most a late timer may pull the next start in (absorbs whole-millisecond timer rounding). */
const MAX_PULL_IN_MS = 2;

interface Waiter {
  sub?: string;
  resolve: (release: () => void) => void;
  reject: (err: unknown) => void;
  onAbort?: () => void;
  signal?: AbortSignal;
}

export function abortError(signal?: AbortSignal): ScholarError {
  const reason = signal?.reason;
  if (reason instanceof ScholarError) return reason;
  return new ScholarError('E_ABORTED', 'Request cancelled', undefined, { cause: reason });
}

export class Gate {
  private queue: Waiter[] = [];
  private inFlight = 0;
  private nextStart = 0;
  private subNext = new Map<string, number>();
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private rate: RateLimit,
    private concurrency: number,
    private subRates: Record<string, RateLimit> = {},
  ) {}

  get limits(): { rate: RateLimit; concurrency: number; subRates: Record<string, RateLimit> } {
    return { rate: { ...this.rate }, concurrency: this.concurrency, subRates: { ...this.subRates } };
  }
  get queued(): number {
    return this.queue.length;
  }
  get active(): number {
    return this.inFlight;
  }
  get pausedUntilMs(): number {
    return this.pausedUntil;
  }

  setLimits(rate: RateLimit, concurrency: number): void {
    this.rate = rate;
    this.concurrency = Math.max(1, Math.floor(concurrency));
    this.pump();
  }

  /** Holds every queued request of this gate until `untilMs` (epoch ms), e.g. after a 429. */
  pauseUntil(untilMs: number): void {
    if (untilMs > this.pausedUntil) this.pausedUntil = untilMs;
    this.pump();
  }

  acquire(signal?: AbortSignal, sub?: string): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const w: Waiter = { sub, resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.queue.indexOf(w);
          if (i >= 0) this.queue.splice(i, 1);
          reject(abortError(signal));
          this.pump();
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.queue.push(w);
      this.pump();
    });
  }

  private spacing(r: RateLimit): number {
    return (r.intervalMs / Math.max(1, r.requests)) * (1 + RATE_SAFETY_MARGIN);
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (;;) {
      if (this.queue.length === 0 || this.inFlight >= this.concurrency) return;
      const now = performance.now() + performance.timeOrigin;
      let wakeAt = Math.max(this.pausedUntil, this.nextStart);
      if (wakeAt > now) return this.sleep(wakeAt - now);
      // First waiter whose sub-rate (e.g. search) allows it; others may go ahead of it.
      let idx = -1;
      wakeAt = Infinity;
      for (let i = 0; i < this.queue.length; i++) {
        const sub = this.queue[i].sub;
        const subNext = sub && this.subRates[sub] ? (this.subNext.get(sub) ?? 0) : 0;
        if (subNext <= now) {
          idx = i;
          break;
        }
        wakeAt = Math.min(wakeAt, subNext);
      }
      if (idx < 0) return this.sleep(wakeAt - now);
      const [w] = this.queue.splice(idx, 1);
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      this.inFlight++;
      // Keep the cadence when a timer fires late, instead of adding its lateness to every later
      // start: the next start may be pulled in by what timer rounding costs (2 ms), and never by
      // more than half the margin, so most of the margin stays for arrival jitter at slow services
      // (pulling in by the whole margin let 429s through at Semantic Scholar's 1 req/s).
      const spacing = this.spacing(this.rate);
      const tolerance = Math.min(MAX_PULL_IN_MS, spacing * (RATE_SAFETY_MARGIN / 2 / (1 + RATE_SAFETY_MARGIN)));
      this.nextStart = Math.max(this.nextStart, now - tolerance) + spacing;
      if (w.sub && this.subRates[w.sub]) this.subNext.set(w.sub, now + this.spacing(this.subRates[w.sub]));
      let released = false;
      w.resolve(() => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.pump();
      });
    }
  }

  private sleep(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(1, Math.ceil(ms)));
  }
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private _state: CircuitState = 'closed';
  private probeInFlight = false;

  constructor(private policy: BreakerPolicy) {}

  get state(): CircuitState {
    if (this._state === 'open' && Date.now() - this.openedAt >= this.policy.cooldownMs) this._state = 'half-open';
    return this._state;
  }
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Throws E_CIRCUIT_OPEN unless a request may go; in half-open state only one probe at a time. */
  check(service: string): void {
    const s = this.state;
    if (s === 'closed') return;
    if (s === 'half-open' && !this.probeInFlight) {
      this.probeInFlight = true;
      return;
    }
    const retryInMs = Math.max(0, this.policy.cooldownMs - (Date.now() - this.openedAt));
    throw new ScholarError('E_CIRCUIT_OPEN', `Service ${service} is unavailable (circuit open)`, { service, retryInMs });
  }

  success(): void {
    this.failures = 0;
    this.probeInFlight = false;
    this._state = 'closed';
  }

  failure(): void {
    this.failures++;
    const wasProbe = this.probeInFlight;
    this.probeInFlight = false;
    if (wasProbe || this._state === 'half-open' || this.failures >= this.policy.failureThreshold) {
      this._state = 'open';
      this.openedAt = Date.now();
    }
  }

  /** A request that ended without telling us anything about the service (cancelled, 4xx). */
  neutral(): void {
    this.probeInFlight = false;
  }
}
