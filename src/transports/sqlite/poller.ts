/**
 * Wakes idle consumers of the embedded broker when messages may be ready.
 * Each poll only reads `PRAGMA data_version` (which changes when another
 * connection commits); consumers are woken to claim when it changed, when a
 * delayed message falls due, or every `forcedEveryMs` (to pick up messages
 * whose lease ran out because their consumer died). The poll interval starts
 * at a few milliseconds and doubles up to `maxIntervalMs` while nothing happens.
 *
 * @module
 */

import type { QueueStore } from "./queue_store.ts";

/** Something the poller wakes. */
export interface Wakeable {
  /** Try to claim messages again. */
  wake(): void;
}

const MIN_INTERVAL_MS = 2;

/** Polls for one broker connection. */
export class SqlitePoller {
  readonly #store: QueueStore;
  readonly #maxIntervalMs: number;
  readonly #forcedEveryMs: number;
  readonly #waiting = new Set<Wakeable>();
  #timer?: ReturnType<typeof setTimeout>;
  #fireAt = Infinity;
  #intervalMs = MIN_INTERVAL_MS;
  #lastVersion = -1;
  #dueAt = Infinity;
  #nextForcedAt = 0;
  #stopped = false;

  /** Polls `store`. */
  constructor(store: QueueStore, maxIntervalMs: number, forcedEveryMs: number) {
    this.#store = store;
    this.#maxIntervalMs = maxIntervalMs;
    this.#forcedEveryMs = forcedEveryMs;
  }

  /**
   * Wakes `consumer` once messages may be ready. `version` is the data version
   * read before its empty claim; `dueAt` when its next delayed message is due.
   */
  wait(consumer: Wakeable, version: number, dueAt?: number): void {
    if (this.#stopped) return;
    if (this.#waiting.size === 0) {
      this.#lastVersion = version;
      this.#intervalMs = MIN_INTERVAL_MS;
      this.#nextForcedAt = Date.now() + this.#forcedEveryMs;
    } else {
      this.#lastVersion = Math.min(this.#lastVersion, version);
    }
    this.#waiting.add(consumer);
    if (dueAt !== undefined && dueAt < this.#dueAt) this.#dueAt = dueAt;
    this.#schedule();
  }

  /** Wakes every waiting consumer now. */
  wakeAll(): void {
    if (this.#waiting.size === 0) return;
    this.#lastVersion = this.#store.dataVersion();
    this.#nextForcedAt = Date.now() + this.#forcedEveryMs;
    this.#dueAt = Infinity;
    this.#intervalMs = MIN_INTERVAL_MS;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const consumer of waiting) consumer.wake();
  }

  /** Stops polling for good. */
  stop(): void {
    this.#stopped = true;
    this.#waiting.clear();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#stopped || this.#waiting.size === 0) return;
    const now = Date.now();
    const fireAt = Math.min(now + this.#intervalMs, Math.max(now, this.#dueAt));
    if (this.#timer !== undefined && this.#fireAt <= fireAt) return;
    clearTimeout(this.#timer);
    this.#fireAt = fireAt;
    this.#timer = setTimeout(() => this.#tick(), fireAt - now);
  }

  #tick(): void {
    this.#timer = undefined;
    this.#fireAt = Infinity;
    if (this.#stopped || this.#waiting.size === 0) return;
    const now = Date.now();
    if (
      this.#store.dataVersion() !== this.#lastVersion || now >= this.#dueAt ||
      now >= this.#nextForcedAt
    ) {
      this.wakeAll();
    } else {
      this.#intervalMs = Math.min(this.#intervalMs * 2, this.#maxIntervalMs);
    }
    this.#schedule();
  }
}
