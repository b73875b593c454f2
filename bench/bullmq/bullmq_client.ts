/**
 * The client half of the BullMQ peer: `Queue.addBulk` in chunks of 1,000
 * (enqueue and fill), and results through `QueueEvents` (BullMQ's Redis
 * stream of job events), which is how a BullMQ producer learns that a job
 * completed. Counterpart of bullmq_worker.ts.
 *
 * @module
 */

import { Queue, QueueEvents } from "bullmq";
import type { RunPlace } from "../setups.ts";
import { waitUntil } from "../stats.ts";

/** Key prefix of every bench queue (cleaned with the run's queue name). */
export const BULL_PREFIX = "bench-bull";

/** ioredis options for BullMQ from a `redis://host:port/db` URL. */
export function bullConnection(url: string): {
  host: string;
  port: number;
  db: number;
  maxRetriesPerRequest: null;
} {
  const parsed = new URL(url);
  return {
    host: parsed.hostname || "127.0.0.1",
    port: Number(parsed.port || 6379),
    db: Number(parsed.pathname.slice(1) || 0),
    maxRetriesPerRequest: null, // what BullMQ requires of its connections
  };
}

/** A BullMQ producer on one run's queue. */
export class BullClient implements AsyncDisposable {
  readonly #queue: Queue;
  readonly #connection: ReturnType<typeof bullConnection>;
  readonly #name: string;
  #events?: QueueEvents;
  readonly #waiting = new Map<string, () => void>();
  #next = 0;

  /** A client of the place's queue. */
  constructor(place: RunPlace) {
    this.#name = place.queue;
    this.#connection = bullConnection(place.brokerUrl);
    this.#queue = new Queue(place.queue, { connection: this.#connection, prefix: BULL_PREFIX });
  }

  /** Adds `count` `add` jobs; `keep` false removes each once done (as ignored results). */
  async fill(count: number, keep = false): Promise<string[]> {
    const ids: string[] = [];
    for (let sent = 0; sent < count; sent += 1000) {
      const size = Math.min(1000, count - sent);
      const jobs = Array.from({ length: size }, () => {
        const i = this.#next++;
        return {
          name: "add",
          data: { x: i, y: i },
          opts: { jobId: crypto.randomUUID(), removeOnComplete: !keep },
        };
      });
      for (const job of jobs) ids.push(job.opts.jobId);
      await this.#queue.addBulk(jobs);
    }
    return ids;
  }

  /** Milliseconds to add `count` jobs until BullMQ counts them waiting. */
  async enqueue(count: number): Promise<number> {
    const started = performance.now();
    await this.fill(count);
    await waitUntil(async () => await this.#queue.getWaitingCount() >= count, "bullmq enqueue");
    return performance.now() - started;
  }

  async #completions(): Promise<void> {
    if (this.#events) return;
    this.#events = new QueueEvents(this.#name, {
      connection: this.#connection,
      prefix: BULL_PREFIX,
    });
    this.#events.on("completed", ({ jobId }) => {
      const wake = this.#waiting.get(jobId);
      this.#waiting.delete(jobId);
      wake?.();
    });
    await this.#events.waitUntilReady();
  }

  #completed(id: string): Promise<void> {
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  /** Milliseconds from the first add to the last of `count` completions. */
  async roundTrip(count: number): Promise<number> {
    await this.#completions();
    for (let i = 0; i < 20; i++) await this.#one();
    const started = performance.now();
    const done: Promise<void>[] = [];
    for (let sent = 0; sent < count; sent += 1000) {
      const size = Math.min(1000, count - sent);
      const jobs = Array.from({ length: size }, () => {
        const id = crypto.randomUUID();
        done.push(this.#completed(id));
        const i = this.#next++;
        return { name: "add", data: { x: i, y: i }, opts: { jobId: id, removeOnComplete: true } };
      });
      await this.#queue.addBulk(jobs);
    }
    await Promise.all(done);
    return performance.now() - started;
  }

  async #one(): Promise<void> {
    const id = crypto.randomUUID();
    const done = this.#completed(id);
    const i = this.#next++;
    await this.#queue.add("add", { x: i, y: i }, { jobId: id, removeOnComplete: true });
    await done;
  }

  /** `count` sequential add → completion round trips (ms each). */
  async latency(count: number): Promise<number[]> {
    await this.#completions();
    for (let i = 0; i < 20; i++) await this.#one();
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await this.#one();
      samples.push(performance.now() - started);
    }
    return samples;
  }

  /** Closes connections. */
  async close(): Promise<void> {
    await this.#events?.close();
    await this.#queue.close();
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
