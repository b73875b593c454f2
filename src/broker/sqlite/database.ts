/**
 * Opening the embedded SQLite file (WAL mode, a busy timeout, parent
 * directories created) and batching writes: writes issued in the same tick
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
    Deno.mkdirSync(parentDirectory(path), { recursive: true });
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

interface PendingWrite {
  run: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Runs writes in one transaction per tick: `write()` queues a function that
 * runs statements, and its promise settles once the transaction committed.
 */
export class WriteBatcher {
  readonly #db: DatabaseSync;
  #pending: PendingWrite[] = [];
  #scheduled = false;

  /** Batches writes on `db`. */
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Queues `run` for the next transaction. */
  write(run: () => void): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#pending.push({ run, resolve, reject });
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
    return promise;
  }

  /** Commits everything queued now (also called before closing). */
  flush(): void {
    this.#scheduled = false;
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
      for (const write of batch) write.reject(error);
      return;
    }
    for (const write of batch) {
      if (failures.has(write)) write.reject(failures.get(write));
      else write.resolve();
    }
  }
}
