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
//
// Spacing alone still assumes that every request takes about as long from the client to the
// server's clock: through a loaded proxy one request of a window took 145 ms and the next 10 ms,
// and the server saw two requests 974 ms apart that had left 1,109 ms apart. So each lane also
// keeps a window rule that holds whatever that delay is: a request may leave only a full window
// after the answer to the request `requests` places before it arrived. The server stamped that
// older request before it answered, and stamps the new one after it left, so the two stamps are
// more than a window apart by causality, not by a guess at the jitter.
import { ScholarError } from '../errors';
import type { BreakerPolicy, RateLimit } from './policy';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Fraction added to each window so that timer rounding never crosses the limit. */
export const RATE_SAFETY_MARGIN = 0.01;

/**
 * First step of the absolute margin a lane adds to each window after a 429 it did not expect (it
 * doubles from there up to MAX_JITTER_MS). A lane starts without one: the window rule above covers
 * any delay between the client and the server's clock, so a 429 means something else shares the
 * limit (another process with the same key, a server counting a longer window than it says).
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

/** What an admitted request holds: tell the gate when it left and when it was answered, and free its slot when it is done. */
export interface GateTicket {
  /** The request's bytes are going out now (undici's onRequestStart). Later calls are ignored. */
  departed(): void;
  /** The answer's status line arrived (undici's onResponseStart): the server has seen the request. Later calls are ignored. */
  answered(): void;
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
export function spacingOf(r: RateLimit, jitterMs = 0): number {
  return (r.intervalMs * (1 + RATE_SAFETY_MARGIN) + jitterMs) / Math.max(1, r.requests);
}

/** A request that left, as the window rule sees it. */
interface Sent {
  /** When its answer arrived, or when the client gave up on it (epoch ms). */
  answeredAt?: number;
}

/**
 * The window rule of one rate: request j may leave only once every request up to j − N has been
 * answered, and a full window after the latest of those answers. Any N+1 consecutive requests then
 * reach the server more than a window apart, whatever each took on the way.
 */
class AnswerWindow {
  /** Requests that left, in departure order, not yet folded into `floor`. */
  private sent: Sent[] = [];
  /** The latest answer among the requests folded out. */
  private floor = 0;

  add(s: Sent): void {
    this.sent.push(s);
  }

  /** Earliest departure allowed for the next request, or undefined while an older request is unanswered. */
  readyAt(r: RateLimit): number | undefined {
    // The newest N − 1 requests do not constrain the next one; every older one does.
    const keep = Math.max(0, Math.floor(r.requests) - 1);
    while (this.sent.length > keep) {
      const s = this.sent[0];
      if (s.answeredAt === undefined) return undefined;
      this.floor = Math.max(this.floor, s.answeredAt);
      this.sent.shift();
    }
    return this.floor > 0 ? this.floor + r.intervalMs : 0;
  }

  /** When a request of another process may leave without regard to this window (every answer + a window). */
  handOverAt(r: RateLimit): number {
    let t = this.floor;
    for (const s of this.sent) t = Math.max(t, s.answeredAt ?? nowMs());
    return t > 0 ? t + r.intervalMs : 0;
  }
}

export class Gate {
  private queue: Waiter[] = [];
  private inFlight = 0;
  private nextStart = 0;
  private subNext = new Map<string, number>();
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private awaitingDeparture: GateTicket | undefined;
  private jitter = 0;
  private readonly window = new AnswerWindow();
  private readonly subWindows = new Map<string, AnswerWindow>();

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

  /**
   * The earliest time (epoch ms) another process's request to this lane may leave: the next spaced
   * departure, and a full window after every answer so far (the other process does not know them).
   */
  get notBeforeMs(): number {
    const subs = Object.entries(this.subRates).map(([k, r]) => this.subWindows.get(k)?.handOverAt(r) ?? 0);
    return Math.max(this.nextStart, ...this.subNext.values(), this.window.handOverAt(this.rate), ...subs);
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
    this.jitter = Math.min(MAX_JITTER_MS, Math.max(RATE_JITTER_MS, this.jitter * 2));
  }

  private subWindow(sub: string): AnswerWindow {
    let w = this.subWindows.get(sub);
    if (!w) {
      w = new AnswerWindow();
      this.subWindows.set(sub, w);
    }
    return w;
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
      const windowReady = this.window.readyAt(this.rate);
      // An older request is still unanswered: its answer (or its failure) pumps again.
      if (windowReady === undefined) return;
      let wakeAt = Math.max(this.pausedUntil, this.nextStart, windowReady);
      if (wakeAt > now) return this.sleep(wakeAt - now);
      // First waiter whose sub-rate (e.g. search) allows it; others may go ahead of it.
      let idx = -1;
      wakeAt = Infinity;
      for (let i = 0; i < this.queue.length; i++) {
        const sub = this.queue[i].sub;
        const subReady = sub && this.subRates[sub] ? Math.max(this.subNext.get(sub) ?? 0, this.subWindow(sub).readyAt(this.subRates[sub]) ?? Infinity) : 0;
        if (subReady <= now) {
          idx = i;
          break;
        }
        wakeAt = Math.min(wakeAt, subReady);
      }
      // Infinity: every waiter's sub-rate waits for an answer, which pumps again.
      if (idx < 0) return wakeAt === Infinity ? undefined : this.sleep(wakeAt - now);
      const [w] = this.queue.splice(idx, 1);
      if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
      this.inFlight++;
      const scheduled = this.nextStart;
      const sub = w.sub && this.subRates[w.sub] ? w.sub : undefined;
      const subScheduled = sub ? (this.subNext.get(sub) ?? 0) : 0;
      let departed = false;
      let released = false;
      let sent: Sent | undefined;
      const answer = () => {
        if (!sent || sent.answeredAt !== undefined) return;
        sent.answeredAt = nowMs();
        this.pump();
      };
      // Keep the cadence when a timer fires late, instead of adding its lateness to every later
      // departure: the next one may be pulled in by what timer rounding costs (2 ms), and never by
      // more than half the relative margin, so the absolute jitter margin is never eaten into.
      const settle = (at: number, reached: boolean) => {
        if (departed) return;
        departed = true;
        if (reached) {
          sent = {};
          this.window.add(sent);
          if (sub) this.subWindow(sub).add(sent);
        }
        const spacing = spacingOf(this.rate, this.jitter);
        const tolerance = Math.min(MAX_PULL_IN_MS, (this.rate.intervalMs * RATE_SAFETY_MARGIN) / 2 / Math.max(1, this.rate.requests));
        this.nextStart = Math.max(this.nextStart, Math.max(scheduled, at - tolerance) + spacing);
        if (sub) this.subNext.set(sub, Math.max(this.subNext.get(sub) ?? 0, Math.max(subScheduled, at - tolerance) + spacingOf(this.subRates[sub], this.jitter)));
        if (this.awaitingDeparture === ticket) this.awaitingDeparture = undefined;
        this.pump();
      };
      const ticket: GateTicket = {
        departed: () => settle(nowMs(), true),
        answered: answer,
        release: () => {
          if (released) return;
          released = true;
          // A request that failed before leaving (no connection) reached nobody: its admission time
          // stands in for the departure so the cadence stays conservative, and no window counts it.
          if (!departed) settle(now, false);
          // Left but never answered (reset, timeout, cancelled): if it reached the server at all, it
          // did so before now, as far as anyone can tell.
          answer();
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
