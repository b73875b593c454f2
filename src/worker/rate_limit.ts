/**
 * Task rate limits as Celery has them (spec §5.9): per worker and per task
 * name, never global. A limit is `"<number>/<unit>"` with unit `s`, `m` or
 * `h` (`"10/m"`, `"0.5/s"`, `"100/h"`); a bare number is per second; null,
 * `0` or `""` means no limit. Each task name gets a token bucket of capacity
 * 1 that fills at the limit's rate; a message waits (unacked, in the worker)
 * until its bucket has a token, in arrival order.
 *
 * The bucket keeps Celery's (kombu's) quirk: its clock starts when the bucket
 * is made, at worker start, so after an idle period the first two messages
 * run at once and later ones are spaced by the rate (captured `10/m`: +0 s,
 * +0 s, +6 s).
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";

/** Milliseconds since some fixed point; injected so tests need no real waiting. */
export type Clock = () => number;

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/**
 * Tokens per second for a Celery rate limit, or null for no limit. Throws a
 * ConfigurationError naming the value and the accepted forms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRateLimit } from "./rate_limit.ts";
 * assert.equal(parseRateLimit("10/m"), 10 / 60);
 * assert.equal(parseRateLimit("5"), 5);
 * assert.equal(parseRateLimit(null), null);
 * ```
 */
export function parseRateLimit(limit: string | number | null | undefined): number | null {
  if (limit === null || limit === undefined || limit === "" || limit === 0) return null;
  const problem = (why: string) =>
    new ConfigurationError(
      `Invalid rate limit ${JSON.stringify(limit)}: ${why}. ` +
        `Accepted: "<number>/<unit>" with unit s, m or h (such as "10/m"), a number per second, or null.`,
    );
  if (typeof limit === "number") {
    if (!Number.isFinite(limit) || limit < 0) throw problem("not a number of 0 or more");
    return limit;
  }
  const [amount, unit = "s"] = limit.split("/", 2);
  const seconds = UNIT_SECONDS[unit.trim() || "s"];
  if (seconds === undefined) throw problem(`unknown unit ${JSON.stringify(unit)}`);
  const count = Number(amount.trim());
  if (amount.trim() === "" || !Number.isFinite(count) || count < 0) {
    throw problem(`${JSON.stringify(amount)} is not a number of 0 or more`);
  }
  return count === 0 ? null : count / seconds;
}

/** kombu's `TokenBucket` with capacity 1. */
/** What the limiter needs of a bucket (`TokenBucket`, or a bucket shared by threads). */
export interface Bucket {
  /** Tokens added per second. */
  readonly fillRate: number;
  /** Takes a token when one is available. */
  tryTake(): boolean;
  /** Milliseconds until a token will be available (0 when one is). */
  msUntilToken(): number;
}

/** Makes the bucket of a task name, at a rate per second (undefined: the limiter makes its own). */
export type BucketFactory = (taskName: string, perSecond: number) => Bucket | undefined;

export class TokenBucket implements Bucket {
  /** Tokens added per second. */
  readonly fillRate: number;
  readonly #clock: Clock;
  #tokens = 1;
  #timestamp: number;

  /** Creates a full bucket whose refill clock starts now. */
  constructor(fillRate: number, clock: Clock = () => performance.now()) {
    this.fillRate = fillRate;
    this.#clock = clock;
    this.#timestamp = clock();
  }

  #available(): number {
    if (this.#tokens < 1) {
      const now = this.#clock();
      this.#tokens = Math.min(1, this.#tokens + this.fillRate * (now - this.#timestamp) / 1000);
      this.#timestamp = now;
    }
    return this.#tokens;
  }

  /** Takes a token when one is available. */
  tryTake(): boolean {
    if (this.#available() < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token will be available (0 when one is). */
  msUntilToken(): number {
    const available = this.#available();
    return available >= 1 ? 0 : (1 - available) / this.fillRate * 1000;
  }
}

interface Waiter {
  wake: (taken: boolean) => void;
}

interface BucketLine {
  bucket: Bucket;
  limit: number;
  waiting: Waiter[];
  timer?: ReturnType<typeof setTimeout>;
}

/** The worker's buckets, one per rate-limited task name, each a FIFO of waiting messages. */
export class RateLimiter {
  readonly #clock: Clock;
  readonly #lines = new Map<string, BucketLine>();
  readonly #makeBucket?: BucketFactory;

  /**
   * Creates the limiter; `clock` is for tests; `makeBucket` gives buckets
   * shared with other threads (the threads pool), else each is its own.
   */
  constructor(clock: Clock = () => performance.now(), makeBucket?: BucketFactory) {
    this.#clock = clock;
    this.#makeBucket = makeBucket;
  }

  /** Makes the bucket of a task now (Celery creates them at worker start); null limit: none. */
  prepare(taskName: string, perSecond: number | null): void {
    const line = this.#lines.get(taskName);
    if (perSecond === null) {
      if (line && line.waiting.length === 0) this.#lines.delete(taskName);
      return;
    }
    if (line?.limit === perSecond) return;
    this.#lines.set(taskName, {
      bucket: this.#makeBucket?.(taskName, perSecond) ?? new TokenBucket(perSecond, this.#clock),
      limit: perSecond,
      waiting: line?.waiting ?? [],
    });
  }

  /** Whether `taskName` has a rate limit (otherwise `acquire` is not needed). */
  limits(taskName: string): boolean {
    return this.#lines.has(taskName);
  }

  /** Number of messages waiting for a token. */
  get waiting(): number {
    let count = 0;
    for (const line of this.#lines.values()) count += line.waiting.length;
    return count;
  }

  /**
   * Resolves true when the task may run (a token was taken, or it has no
   * limit), false when `signal` aborted first (the message should go back).
   */
  acquire(taskName: string, signal: AbortSignal): Promise<boolean> {
    const line = this.#lines.get(taskName);
    if (!line) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    if (line.waiting.length === 0 && line.bucket.tryTake()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        wake: (taken) => {
          signal.removeEventListener("abort", onAbort);
          resolve(taken);
        },
      };
      const onAbort = () => {
        const at = line.waiting.indexOf(waiter);
        if (at >= 0) line.waiting.splice(at, 1);
        waiter.wake(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      line.waiting.push(waiter);
      this.#schedule(line);
    });
  }

  /** Hands tokens to waiters in order; arms a timer for the next token. */
  #schedule(line: BucketLine): void {
    clearTimeout(line.timer);
    line.timer = undefined;
    while (line.waiting.length > 0 && line.bucket.tryTake()) line.waiting.shift()!.wake(true);
    if (line.waiting.length === 0) return;
    line.timer = setTimeout(() => this.#schedule(line), Math.ceil(line.bucket.msUntilToken()));
  }

  /** Clears timers (waiters are ended through their signals). */
  close(): void {
    for (const line of this.#lines.values()) clearTimeout(line.timer);
  }
}
