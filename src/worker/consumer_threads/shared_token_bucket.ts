/**
 * Rate limits per worker, not per thread, for the threads pool (Celery's
 * rate limits are per worker instance): each task name's token bucket lives
 * in shared memory, one per name, and every consumer thread takes its
 * tokens from it. A bucket behaves as `TokenBucket` (`../rate_limit.ts`):
 * capacity 1, filling at the limit's rate, its clock started when the table
 * is made (Celery's quirk kept). A short spin lock (`Atomics`) guards each
 * bucket; the clock is the wall clock in ms, the same in every thread.
 *
 * @module
 */

import type { Bucket } from "../rate_limit.ts";

/** The buckets of every task name of the app, shared by the worker's threads. */
export class SharedBuckets {
  /** The memory behind the table (sent to the threads). */
  readonly buffer: SharedArrayBuffer;
  /** Task names, in table order (sent to the threads). */
  readonly names: readonly string[];
  readonly #locks: Int32Array;
  readonly #state: Float64Array;

  /** A table over `buffer` for `names` (from `SharedBuckets.create`). */
  constructor(buffer: SharedArrayBuffer, names: readonly string[]) {
    this.buffer = buffer;
    this.names = names;
    this.#state = new Float64Array(buffer, 0, names.length * 2);
    this.#locks = new Int32Array(buffer, names.length * 16, names.length);
  }

  /** A table of full buckets for `names`, their clocks starting now. */
  static create(names: readonly string[], now = Date.now()): SharedBuckets {
    const table = new SharedBuckets(new SharedArrayBuffer(names.length * 20), names);
    for (let index = 0; index < names.length; index++) {
      table.#state[index * 2] = 1; // tokens
      table.#state[index * 2 + 1] = now; // last refill
    }
    return table;
  }

  /** The shared bucket of `taskName` at `perSecond`, or undefined for a name not in the table. */
  bucket(taskName: string, perSecond: number): Bucket | undefined {
    const index = this.names.indexOf(taskName);
    if (index < 0) return undefined;
    return new SharedTokenBucket(this.#state, this.#locks, index, perSecond);
  }
}

/** One task name's bucket, seen from one thread. */
class SharedTokenBucket implements Bucket {
  readonly fillRate: number;
  readonly #state: Float64Array;
  readonly #locks: Int32Array;
  readonly #index: number;

  constructor(state: Float64Array, locks: Int32Array, index: number, fillRate: number) {
    this.#state = state;
    this.#locks = locks;
    this.#index = index;
    this.fillRate = fillRate;
  }

  #locked<T>(work: (tokens: number) => [T, number]): T {
    while (Atomics.compareExchange(this.#locks, this.#index, 0, 1) !== 0) {
      // another thread holds it for a few instructions
    }
    try {
      const now = Date.now();
      let tokens = this.#state[this.#index * 2];
      if (tokens < 1) {
        const last = this.#state[this.#index * 2 + 1];
        tokens = Math.min(1, tokens + this.fillRate * Math.max(0, now - last) / 1000);
        this.#state[this.#index * 2 + 1] = now;
      }
      const [result, left] = work(tokens);
      this.#state[this.#index * 2] = left;
      return result;
    } finally {
      Atomics.store(this.#locks, this.#index, 0);
    }
  }

  tryTake(): boolean {
    return this.#locked((tokens) => tokens >= 1 ? [true, tokens - 1] : [false, tokens]);
  }

  msUntilToken(): number {
    return this.#locked((tokens) => [
      tokens >= 1 ? 0 : (1 - tokens) / this.fillRate * 1000,
      tokens,
    ]);
  }
}
