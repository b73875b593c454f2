/**
 * Opening the embedded SQLite file (WAL mode, a busy timeout, created
 * owner-only with its parent directories) and batching writes: writes issued in the same tick
 * share one transaction, which is what makes publishing and acking thousands
 * of messages fast.
 *
 * Durability: WAL with `synchronous = NORMAL`. Every committed write survives
 * the process being killed (even with SIGKILL); only a power loss or OS crash
 * can lose the last few commits.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { BrokerConnectionError } from "../../errors.ts";
import { parentDirectory, sqliteFilePath } from "./location.ts";

/** How long a write waits for another process's write lock before failing. */
export const BUSY_TIMEOUT_MS = 10_000;

/** Opens (creating when missing) the SQLite file of a `sqlite://` URL and runs `schema`. */
export function openEmbeddedDatabase(url: string, schema: string): DatabaseSync {
  const path = sqliteFilePath(url);
  try {
    createOwnerOnly(path);
    const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    db.exec(`BEGIN IMMEDIATE; ${schema}; COMMIT;`);
    return db;
  } catch (cause) {
    throw new BrokerConnectionError(
      `Cannot open the embedded SQLite file ${JSON.stringify(path)} (from ${url}): ${cause}`,
      { cause },
    );
  }
}

/**
 * Creates the file (and missing parent directories) readable by its owner
 * only, 0600 in 0700 directories: it holds the queued tasks and results.
 * SQLite gives its `-wal` and `-shm` files the same mode. An existing file
 * keeps its mode (it may be shared on purpose).
 */
export function createOwnerOnly(path: string): void {
  Deno.mkdirSync(parentDirectory(path), { recursive: true, mode: 0o700 });
  try {
    Deno.openSync(path, { createNew: true, write: true, mode: 0o600 }).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
}

interface PendingWrite {
  run: () => void;
  resolve?: () => void;
  reject?: (error: unknown) => void;
}

/** Deferred writes flush at once when this many are queued. */
const MAX_DEFERRED = 1000;

/**
 * Runs writes in shared transactions. `write()` commits in the same tick and
 * its promise settles once committed; `defer()` (for acks, which AMQP does not
 * confirm either) commits within about a millisecond, so a consumer acking
 * message after message shares one transaction among many acks.
 */
export class WriteBatcher {
  readonly #db: DatabaseSync;
  readonly #onDeferredError: (error: unknown) => void;
  #pending: PendingWrite[] = [];
  #microtask = false;
  #timer?: ReturnType<typeof setTimeout>;

  /** Batches writes on `db`; failures of deferred writes go to `onDeferredError`. */
  constructor(db: DatabaseSync, onDeferredError: (error: unknown) => void = () => {}) {
    this.#db = db;
    this.#onDeferredError = onDeferredError;
  }

  /** Queues `run` for a transaction committed in this tick; resolves once committed. */
  write(run: () => void): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#pending.push({ run, resolve, reject });
    this.#flushSoon();
    return promise;
  }

  /** Queues `run` for a transaction committed shortly (errors are reported, not returned). */
  defer(run: () => void): void {
    this.#pending.push({ run });
    if (this.#pending.length >= MAX_DEFERRED) this.#flushSoon();
    else if (!this.#microtask && this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), 0);
    }
  }

  #flushSoon(): void {
    if (this.#microtask) return;
    this.#microtask = true;
    queueMicrotask(() => this.flush());
  }

  /** Commits everything queued now (also called before closing). */
  flush(): void {
    this.#microtask = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const failures = new Map<PendingWrite, unknown>();
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      for (const write of batch) {
        try {
          write.run();
        } catch (error) {
          failures.set(write, error);
        }
      }
      this.#db.exec("COMMIT");
    } catch (cause) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      const error = new BrokerConnectionError(
        `Cannot write to the embedded SQLite file: ${cause}`,
        {
          cause,
        },
      );
      for (const write of batch) this.#fail(write, error);
      return;
    }
    for (const write of batch) {
      if (failures.has(write)) this.#fail(write, failures.get(write));
      else write.resolve?.();
    }
  }

  #fail(write: PendingWrite, error: unknown): void {
    if (write.reject) write.reject(error);
    else this.#onDeferredError(error);
  }
}
