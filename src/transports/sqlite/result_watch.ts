/**
 * Waiting for results in the embedded SQLite file, for every waiter of one
 * backend at once: one polling loop reads `PRAGMA data_version` (which
 * changes when another connection commits, and costs no I/O) every
 * millisecond or so, and only when it changed — or this process stored a
 * result itself — reads the rows of the tasks waited for, many per query.
 * While nothing changes the loop slows down, up to the longest interval a
 * waiter accepts. SQLite has no change notification across processes, so
 * this is the cheapest way to be told quickly.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { READY_STATES, type ResultMeta } from "../../backend/types.ts";

/** The first and shortest pause between polls (ms). */
const MIN_POLL_MS = 1;
/** Ids per SELECT … IN (…). */
const CHUNK = 200;

interface Waiter {
  resolve(meta: ResultMeta): void;
}

/** Polls the results table for the tasks someone waits for. */
export class ResultWatch {
  readonly #db: DatabaseSync;
  readonly #dataVersion: StatementSync;
  readonly #selects = new Map<number, StatementSync>();
  readonly #waiting = new Map<string, Set<Waiter>>();
  readonly #intervals = new Map<Waiter, number>();
  #timer?: ReturnType<typeof setTimeout>;
  #lastVersion = -1;
  #dirty = true;
  #pauseMs = MIN_POLL_MS;

  /** Watches the `celeriac_results` table of `db`. */
  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#dataVersion = db.prepare("PRAGMA data_version");
  }

  /** Something may have changed (this process stored a result): look on the next poll. */
  touch(): void {
    this.#dirty = true;
    if (this.#waiting.size) this.#schedule(0);
  }

  /** Resolves with the task's ready result; `intervalMs` is the longest pause accepted. */
  watch(taskId: string, intervalMs: number, signal: AbortSignal): Promise<ResultMeta> {
    return new Promise<ResultMeta>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (meta) => {
          signal.removeEventListener("abort", onAbort);
          resolve(meta);
        },
      };
      const onAbort = () => {
        this.#forget(taskId, waiter);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      let waiters = this.#waiting.get(taskId);
      if (!waiters) this.#waiting.set(taskId, waiters = new Set());
      waiters.add(waiter);
      this.#intervals.set(waiter, Math.max(intervalMs, MIN_POLL_MS));
      this.#dirty = true; // a first read for this task
      this.#schedule(0);
    });
  }

  /** Stops polling (pending waiters are rejected through their signals). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #forget(taskId: string, waiter: Waiter): void {
    const waiters = this.#waiting.get(taskId);
    waiters?.delete(waiter);
    if (waiters?.size === 0) this.#waiting.delete(taskId);
    this.#intervals.delete(waiter);
    if (this.#waiting.size === 0) this.stop();
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined && ms > 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#poll(), ms);
  }

  #poll(): void {
    this.#timer = undefined;
    if (this.#waiting.size === 0) return;
    const version = Number((this.#dataVersion.get() as { data_version: number }).data_version);
    if (version !== this.#lastVersion || this.#dirty) {
      this.#lastVersion = version;
      this.#dirty = false;
      this.#pauseMs = MIN_POLL_MS;
      this.#readReady();
    } else {
      const longest = Math.min(...this.#intervals.values());
      this.#pauseMs = Math.min(this.#pauseMs * 2, Math.max(longest, MIN_POLL_MS));
    }
    if (this.#waiting.size) this.#schedule(this.#pauseMs);
  }

  #readReady(): void {
    const ids = [...this.#waiting.keys()];
    const now = Date.now();
    for (let at = 0; at < ids.length; at += CHUNK) {
      const chunk = ids.slice(at, at + CHUNK);
      const rows = this.#select(chunk.length).all(...chunk, now) as {
        task_id: string;
        document: string;
      }[];
      for (const row of rows) {
        const meta = JSON.parse(row.document) as ResultMeta;
        if (!READY_STATES.has(meta.status)) continue;
        const waiters = this.#waiting.get(row.task_id);
        this.#waiting.delete(row.task_id);
        for (const waiter of waiters ?? []) {
          this.#intervals.delete(waiter);
          waiter.resolve(meta);
        }
      }
    }
  }

  #select(count: number): StatementSync {
    let statement = this.#selects.get(count);
    if (!statement) {
      statement = this.#db.prepare(
        `SELECT task_id, document FROM celeriac_results WHERE task_id IN (${
          Array(count).fill("?").join(", ")
        }) AND (expires_at IS NULL OR expires_at > ?)`,
      );
      this.#selects.set(count, statement);
    }
    return statement;
  }
}
