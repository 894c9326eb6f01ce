// Admission control: concurrency slots plus evenly spaced departures. Spacing (interval / requests,
// plus a safety margin) rather than a fixed-window counter is deliberate: a fixed window lets 2×N
// requests through around a window boundary, and a burst at the cap is pushed over it by the
// smallest network jitter, which a server that counts in a sliding window (as Crossref's does)
// reports as a violation.
//
// The spacing is measured from when a request actually leaves (its bytes are written to a
// connected socket, after DNS, TCP, a proxy's CONNECT and TLS), not from when it was admitted: a
// request admitted on time that waits 150 ms for a new connection would otherwise arrive 150 ms
// closer to the next one, which went out at once on a kept-alive socket (issue 15).
import { ScholarError } from '../errors';
import type { BreakerPolicy, RateLimit } from './policy';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Fraction added to each window so that timer rounding never crosses the limit. */
export const RATE_SAFETY_MARGIN = 0.01;

/**
 * Absolute time added to each window of the limit, spread over its requests: N+1 departures span
 * at least interval·(1+margin) + this, so arrivals stay within the limit as long as one-way network
 * jitter between two requests stays under it. A percentage alone is 30 ms at 1 s but 3 ms in the
 * 100 ms of a 10 req/s service, less than ordinary jitter on a real network or through a proxy.
 * 100 ms, not 50: through tinyproxy on a loaded machine the measured jitter between departure and
 * the server's timestamp reached 82–106 ms within one window (docs/decisions.md, issue 15).
 */
export const RATE_JITTER_MS = 100;

/** The most a late timer may pull the next departure in (absorbs whole-millisecond timer rounding). */
const MAX_PULL_IN_MS = 2;

interface Waiter {
  sub?: string;
  resolve: (ticket: GateTicket) => void;
  reject: (err: unknown) => void;
  onAbort?: () => void;
  signal?: AbortSignal;
}

/** What an admitted request holds: tell the gate when it left, and free its slot when it is done. */
export interface GateTicket {
  /** The request's bytes are going out now (undici's onRequestStart). Later calls are ignored. */
  departed(): void;
  /** The request is finished (or failed); its concurrency slot is free. Idempotent. */
  release(): void;
}

export function abortError(signal?: AbortSignal): ScholarError {
  const reason = signal?.reason;
  if (reason instanceof ScholarError) return reason;
  return new ScholarError('E_ABORTED', 'Request cancelled', undefined, { cause: reason });
}

const nowMs = () => performance.now() + performance.timeOrigin;

/** The widest a lane's jitter margin grows after 429s it did not expect. */
export const MAX_JITTER_MS = 400;

/** Spacing between two departures that keeps `r` with the margins above. */
export function spacingOf(r: RateLimit, jitterMs = RATE_JITTER_MS): number {
  return (r.intervalMs * (1 + RATE_SAFETY_MARGIN) + jitterMs) / Math.max(1, r.requests);
}

export class Gate {
  private queue: Waiter[] = [];
  private inFlight = 0;
  private nextStart = 0;
  private subNext = new Map<string, number>();
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private awaitingDeparture: GateTicket | undefined;
  private jitter = RATE_JITTER_MS;

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

  /** The earliest time (epoch ms) this lane's next request of any kind may leave. */
  get notBeforeMs(): number {
    return Math.max(this.nextStart, ...this.subNext.values());
  }

  /**
   * Holds the next departures (of every sub-rate too) until `t`: the pacing left by the previous
   * process on this machine, so that `scholar resolve` followed at once by `scholar fetch` does
   * not send its first request closer to the last one than the limit allows.
   */
  notBefore(t: number): void {
    this.nextStart = Math.max(this.nextStart, t);
    for (const sub of Object.keys(this.subRates)) this.subNext.set(sub, Math.max(this.subNext.get(sub) ?? 0, t));
    this.pump();
  }

  /** This lane's current jitter margin (ms per window). */
  get jitterMs(): number {
    return this.jitter;
  }

  /**
   * A 429 although the lane kept its spacing means the path to the server (a proxy, a busy network)
   * jitters more than the margin covers: double it for this lane, up to MAX_JITTER_MS.
   */
  widenJitterMargin(): void {
    this.jitter = Math.min(MAX_JITTER_MS, this.jitter * 2);
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

  acquire(signal?: AbortSignal, sub?: string): Promise<GateTicket> {
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

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (;;) {
      // Until the last admitted request has left, the next departure time is not known yet.
      if (this.awaitingDeparture) return;
      if (this.queue.length === 0 || this.inFlight >= this.concurrency) return;
      const now = nowMs();
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
      const scheduled = this.nextStart;
      const sub = w.sub && this.subRates[w.sub] ? w.sub : undefined;
      const subScheduled = sub ? (this.subNext.get(sub) ?? 0) : 0;
      let departed = false;
      let released = false;
      // Keep the cadence when a timer fires late, instead of adding its lateness to every later
      // departure: the next one may be pulled in by what timer rounding costs (2 ms), and never by
      // more than half the relative margin, so the absolute jitter margin is never eaten into.
      const settle = (at: number) => {
        if (departed) return;
        departed = true;
        const spacing = spacingOf(this.rate, this.jitter);
        const tolerance = Math.min(MAX_PULL_IN_MS, (this.rate.intervalMs * RATE_SAFETY_MARGIN) / 2 / Math.max(1, this.rate.requests));
        this.nextStart = Math.max(this.nextStart, Math.max(scheduled, at - tolerance) + spacing);
        if (sub) this.subNext.set(sub, Math.max(this.subNext.get(sub) ?? 0, Math.max(subScheduled, at - tolerance) + spacingOf(this.subRates[sub], this.jitter)));
        if (this.awaitingDeparture === ticket) this.awaitingDeparture = undefined;
        this.pump();
      };
      const ticket: GateTicket = {
        departed: () => settle(nowMs()),
        release: () => {
          if (released) return;
          released = true;
          // A request that failed before leaving (no connection) reached nobody; its admission time
          // stands in for the departure so the cadence stays conservative.
          if (!departed) settle(now);
          this.inFlight--;
          this.pump();
        },
      };
      this.awaitingDeparture = ticket;
      w.resolve(ticket);
      return;
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
