/**
 * Celery's Lamport clock (spec §2.6): every event and control message a node
 * sends carries `forward()`; a node that receives a clock value calls
 * `adjust(value)`. Monitors order events by it.
 *
 * @module
 */

/**
 * A logical clock.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LamportClock } from "./clock.ts";
 * const clock = new LamportClock();
 * assert.equal(clock.forward(), 1);
 * assert.equal(clock.adjust(10), 11);
 * assert.equal(clock.value, 11);
 * ```
 */
export class LamportClock {
  #value: number;

  /** Starts at `initial` (default 0). */
  constructor(initial = 0) {
    this.#value = initial;
  }

  /** The current value. */
  get value(): number {
    return this.#value;
  }

  /** Advances by one and returns the new value (sending). */
  forward(): number {
    return ++this.#value;
  }

  /** Moves past a received value: `max(own, other) + 1` (receiving). Ignores non-numbers. */
  adjust(other: unknown): number {
    const received = typeof other === "string" ? Number(other) : other;
    if (typeof received === "number" && Number.isFinite(received)) {
      this.#value = Math.max(this.#value, Math.trunc(received)) + 1;
    }
    return this.#value;
  }
}
