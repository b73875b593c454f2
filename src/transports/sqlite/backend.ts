/**
 * The embedded result backend, `sqlite:///absolute/path.sqlite3`: results in
 * the table `celeriac_results` of a SQLite file (the same file as the
 * embedded broker by default), readable by every process on the machine.
 * Results expire after `result_expires` seconds; expired rows are invisible at
 * once and deleted lazily. Waiting polls (`result_watch.ts`): one loop for
 * all waiters, every millisecond while results arrive, slowing down to the
 * interval the waiters give while nothing changes.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ResolvedConfig } from "../../app/config.ts";
import { BrokerConnectionError, TimeoutError } from "../../errors.ts";
import { openEmbeddedDatabase, WriteBatcher } from "./database.ts";
import { ResultWatch } from "./result_watch.ts";
import {
  type BackendCapabilities,
  READY_STATES,
  type ResultBackend,
  type ResultBackendFactory,
  type ResultMeta,
  type WaitOptions,
} from "../../backend/types.ts";

/** What the embedded SQLite result backend can do. */
export const SQLITE_BACKEND_CAPABILITIES: BackendCapabilities = Object.freeze({
  crossProcess: true,
  forget: true,
  pushNotify: false,
  rereadable: true,
});

const SCHEMA = `
CREATE TABLE IF NOT EXISTS celeriac_results (
  task_id TEXT PRIMARY KEY, status TEXT NOT NULL, document TEXT NOT NULL, expires_at INTEGER);
CREATE INDEX IF NOT EXISTS celeriac_results_expiry ON celeriac_results (expires_at)
  WHERE expires_at IS NOT NULL`;

/** Expired rows are deleted at most this often. */
const SWEEP_EVERY_MS = 60_000;

/** A connection to the results table. */
export class SqliteResultBackend implements ResultBackend {
  readonly url: string;
  readonly capabilities: BackendCapabilities = SQLITE_BACKEND_CAPABILITIES;
  readonly #db: DatabaseSync;
  readonly #batcher: WriteBatcher;
  readonly #upsert: StatementSync;
  readonly #select: StatementSync;
  readonly #delete: StatementSync;
  readonly #sweep: StatementSync;
  readonly #expiresMs: number | null;
  readonly #closing = new AbortController();
  readonly #watch: ResultWatch;
  #nextSweepAt = 0;

  /** Opens the file of `url`; results expire after `resultExpires` seconds (null: never). */
  constructor(url: string, resultExpires: number | null) {
    this.url = url;
    this.#db = openEmbeddedDatabase(url, SCHEMA);
    this.#batcher = new WriteBatcher(this.#db);
    this.#expiresMs = resultExpires === null || resultExpires <= 0 ? null : resultExpires * 1000;
    this.#upsert = this.#db.prepare(`INSERT INTO celeriac_results VALUES (?, ?, ?, ?)
      ON CONFLICT (task_id) DO UPDATE SET status = excluded.status,
        document = excluded.document, expires_at = excluded.expires_at
      WHERE celeriac_results.status != 'SUCCESS' OR celeriac_results.expires_at <= ?`);
    this.#select = this.#db.prepare(`SELECT document FROM celeriac_results
      WHERE task_id = ? AND (expires_at IS NULL OR expires_at > ?)`);
    this.#delete = this.#db.prepare(`DELETE FROM celeriac_results WHERE task_id = ?`);
    this.#sweep = this.#db.prepare(`DELETE FROM celeriac_results WHERE expires_at <= ?`);
    this.#watch = new ResultWatch(this.#db);
  }

  prepare(_taskId: string): Promise<string | undefined> {
    return this.#closed() ?? Promise.resolve(undefined);
  }

  store(meta: ResultMeta): Promise<void> {
    const closed = this.#closed();
    if (closed) return closed;
    const document = JSON.stringify(meta);
    return this.#batcher.write(() => {
      const now = Date.now();
      const expiresAt = this.#expiresMs === null ? null : now + this.#expiresMs;
      this.#upsert.run(meta.task_id, meta.status, document, expiresAt, now);
      if (this.#expiresMs !== null && now >= this.#nextSweepAt) {
        this.#nextSweepAt = now + SWEEP_EVERY_MS;
        this.#sweep.run(now);
      }
    }).then(() => this.#watch.touch()); // our own commits do not change data_version
  }

  read(taskId: string): Promise<ResultMeta | undefined> {
    return this.#closed() ?? Promise.resolve(this.#read(taskId));
  }

  async waitFor(taskId: string, options: WaitOptions): Promise<ResultMeta> {
    const timeout = new AbortController();
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(
      () => timeout.abort(new TimeoutError("The operation timed out.", { taskId })),
      options.timeoutMs,
    );
    const signals = [this.#closing.signal, timeout.signal, options.signal];
    const stop = AbortSignal.any(signals.filter((s) => s !== undefined));
    try {
      stop.throwIfAborted();
      const meta = this.#read(taskId);
      if (meta && READY_STATES.has(meta.status)) return meta;
      return await this.#watch.watch(taskId, options.intervalMs, stop);
    } finally {
      clearTimeout(timer);
    }
  }

  forget(taskId: string): Promise<void> {
    return this.#closed() ?? this.#batcher.write(() => this.#delete.run(taskId));
  }

  /** Commits pending writes, stops pending `waitFor`s and closes the file. */
  close(): Promise<void> {
    if (this.#closing.signal.aborted) return Promise.resolve();
    this.#closing.abort(
      new BrokerConnectionError(`The result backend ${this.url} was closed while waiting.`),
    );
    this.#watch.stop();
    try {
      this.#batcher.flush();
    } finally {
      this.#db.close();
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #read(taskId: string): ResultMeta | undefined {
    const row = this.#select.get(taskId, Date.now()) as { document: string } | undefined;
    return row ? JSON.parse(row.document) as ResultMeta : undefined;
  }

  /** A rejected promise when closed, else undefined. */
  #closed(): Promise<never> | undefined {
    if (!this.#closing.signal.aborted) return undefined;
    return Promise.reject(
      new BrokerConnectionError(`Cannot use the result backend ${this.url}: it is closed.`),
    );
  }
}

/**
 * Opens the embedded SQLite result backend for `url`.
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS } from "../../app/settings.ts";
 * const dir = await Deno.makeTempDir();
 * const backend = await createResultBackend(`sqlite://${dir}/results.sqlite3`, DEFAULT_SETTINGS);
 * console.log(await backend.read("unknown-id")); // undefined
 * await backend.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export const createResultBackend: ResultBackendFactory = (url: string, config: ResolvedConfig) =>
  Promise.resolve(new SqliteResultBackend(url, config.result_expires));
