/**
 * Waits until someone calls the function this adds to `line`; an abort takes it out of the line
 * again (so a later wake-up is not spent on a waiter that left) and rejects with the signal's reason.
 */
function waitInLine(line: (() => void)[], signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      const i = line.indexOf(wake);
      if (i >= 0) line.splice(i, 1);
      reject(signal!.reason);
    };
    const wake = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    line.push(wake);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A bounded FIFO queue with backpressure: `push` waits while the queue is full, `pop` waits while it
 * is empty. Closing it lets consumers drain what is left and then receive `undefined`.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private readonly waitingPop: ((v: T | undefined) => void)[] = [];
  private readonly waitingPush: (() => void)[] = [];
  private closed = false;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  get size(): number {
    return this.items.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async push(item: T, signal?: AbortSignal): Promise<void> {
    while (this.items.length >= this.capacity && !this.closed) {
      signal?.throwIfAborted();
      await waitInLine(this.waitingPush, signal);
    }
    if (this.closed) throw new Error('queue closed');
    const taker = this.waitingPop.shift();
    if (taker) taker(item);
    else this.items.push(item);
  }

  pop(): Promise<T | undefined> {
    if (this.items.length) {
      const item = this.items.shift()!;
      this.waitingPush.shift()?.();
      return Promise.resolve(item);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waitingPop.push(resolve));
  }

  /** Removes every queued item (for cancel) and returns them. */
  drain(): T[] {
    const out = this.items.splice(0);
    while (this.waitingPush.length) this.waitingPush.shift()!();
    return out;
  }

  close(): void {
    this.closed = true;
    while (this.waitingPop.length) this.waitingPop.shift()!(undefined);
    while (this.waitingPush.length) this.waitingPush.shift()!();
  }
}

/** A counting semaphore: the global cap on items in flight across all stages. */
export class Semaphore {
  private readonly waiting: (() => void)[] = [];
  constructor(private available: number) {}

  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.available > 0) {
      this.available--;
      return;
    }
    await waitInLine(this.waiting, signal);
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.available++;
  }
}
