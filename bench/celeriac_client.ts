/**
 * The client side of the celeriac benchmark, through the public API a user
 * calls: `app.sendTask("bench.add", [i, i])` (what `add.delay(i, i)` does),
 * and `AsyncResult.get()`. Up to `WINDOW` sends are kept in flight, as a
 * program sending many tasks concurrently does; each `sendTask` still
 * publishes one message and resolves once the broker has it.
 *
 * @module
 */

import { Celery } from "../mod.ts";
import type { AsyncResult } from "../src/task/async_result.ts";
import type { RunPlace } from "./setups.ts";
import { waitUntil } from "./stats.ts";

/** Sends in flight at most. */
export const WINDOW = 1000;

/** A celeriac client for one run's queue. */
export class CeleriacClient implements AsyncDisposable {
  readonly app: Celery;
  readonly #queue: string;

  /** A client app on the place's broker and backend (not the current app). */
  constructor(place: RunPlace, payload?: string) {
    this.app = new Celery("bench", {
      broker: place.brokerUrl,
      backend: place.backendUrl,
      setAsCurrent: false,
    });
    this.app.conf.task_default_queue = place.queue;
    this.#queue = place.queue;
    this.#payload = payload;
  }

  readonly #payload?: string;

  #args(i: number): unknown[] {
    return this.#payload === undefined ? [i, i] : [i, i, this.#payload];
  }

  /** Queues `count` tasks at `place` (results ignored) with a client of its own, closed after. */
  static async fillPlace(place: RunPlace, count: number): Promise<void> {
    const filler = new CeleriacClient(place);
    try {
      await filler.fill(count);
    } finally {
      await filler.close();
    }
  }

  /** Sends `count` tasks (results ignored), keeping up to `WINDOW` sends in flight. */
  async fill(count: number, ignoreResult = true): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < count) {
        await this.app.sendTask("bench.add", this.#args(next++), { ignoreResult });
      }
    };
    await Promise.all(Array.from({ length: Math.min(WINDOW, count) }, lane));
  }

  /** Milliseconds to send `count` tasks until the broker reports them all queued. */
  async enqueue(count: number): Promise<number> {
    const broker = await this.app.getBroker();
    await broker.purge(this.#queue).catch(() => 0);
    const started = performance.now();
    await this.fill(count);
    await waitUntil(async () => await broker.messageCount(this.#queue) >= count, "enqueue count");
    return performance.now() - started;
  }

  async #sendOne(i: number): Promise<AsyncResult<unknown>> {
    return await this.app.sendTask("bench.add", this.#args(i));
  }

  /** Milliseconds from the first send to the last of `count` results (after 20 warm-up round trips). */
  async roundTrip(count: number): Promise<number> {
    for (let i = 0; i < 20; i++) await (await this.#sendOne(i)).get({ timeout: 60 });
    const started = performance.now();
    const waits: Promise<unknown>[] = [];
    let next = 0;
    const lane = async () => {
      while (next < count) {
        const result = await this.#sendOne(next++);
        waits.push(result.get({ timeout: 300 }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(WINDOW, count) }, lane));
    await Promise.all(waits);
    return performance.now() - started;
  }

  /** `count` sequential send → result round trips, each in milliseconds. */
  async latency(count: number): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i < count + 20; i++) {
      const started = performance.now();
      await (await this.#sendOne(i)).get({ timeout: 60 });
      if (i >= 20) samples.push(performance.now() - started);
    }
    return samples;
  }

  /** Closes connections. */
  close(): Promise<void> {
    return this.app.close();
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
