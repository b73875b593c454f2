/**
 * `AsyncResult`: a handle on a sent task's state and result, read from the
 * result backend. Times are in seconds, as in Celery.
 *
 * @module
 */

import {
  READY_STATES,
  type ResultBackend,
  type ResultMeta,
  type TaskState,
} from "../backend/types.ts";
import { PROPAGATE_STATES } from "../backend/types.ts";
import { isEncodedException, RemoteError } from "../protocol/exceptions.ts";
import { whileHoldingProcess } from "../app/process_hold.ts";
import {
  childrenOf,
  collectResults,
  parentFailure,
  type ParentResult,
} from "../canvas/result_tree.ts";

/** Options of `get()`. */
export interface GetOptions {
  /** Seconds to wait before throwing TimeoutError; default forever. */
  timeout?: number;
  /** Throw the task's error (default true); false returns it. */
  propagate?: boolean;
  /** Seconds between polls, for backends that poll (default 0.5). */
  interval?: number;
}

/** Options of `AsyncResult.revoke()`. */
export interface ResultRevokeOptions {
  /** Also stop the task if it is running. */
  terminate?: boolean;
  /** Signal name with `terminate` (default `SIGTERM`). */
  signal?: string;
  /** Wait for the workers' replies (default false). */
  reply?: boolean;
  /** Seconds to wait for replies. */
  timeout?: number;
}

/** Broadcasts a revoke (the app's `control.revoke`). */
export type Revoker = (id: string, options: ResultRevokeOptions) => Promise<unknown>;

/** Where an AsyncResult reads from. */
export type BackendProvider = () => Promise<ResultBackend>;

/**
 * A sent task's result.
 *
 * @example
 * ```ts ignore
 * const result = await add.delay(4, 4);
 * console.log(await result.get({ timeout: 10 })); // 8
 * ```
 */
export class AsyncResult<R = unknown> {
  /** Task id. */
  readonly id: string;
  /** Task name, when known. */
  readonly taskName?: string;
  /** True when the task was sent with `ignoreResult`: `get()` returns null at once. */
  readonly ignored: boolean;
  /** The result this one follows in a chain (Celery's `parent`), when known. */
  parent?: ParentResult;
  readonly #backend: BackendProvider;
  readonly #revoke?: Revoker;
  #cache?: ResultMeta;

  /** Creates a handle; `backend` gives the result backend when first needed. */
  constructor(
    id: string,
    backend: BackendProvider,
    options: { taskName?: string; ignored?: boolean; revoke?: Revoker } = {},
  ) {
    this.#revoke = options.revoke;
    this.id = id;
    this.#backend = backend;
    this.taskName = options.taskName;
    this.ignored = options.ignored ?? false;
  }

  async #meta(): Promise<ResultMeta | undefined> {
    if (this.#cache) return this.#cache;
    const meta = await whileHoldingProcess(async () => (await this.#backend()).read(this.id));
    if (meta && READY_STATES.has(meta.status)) this.#cache = meta;
    return meta;
  }

  /** The task's state: PENDING, STARTED, SUCCESS, FAILURE, RETRY, REVOKED or a custom one. */
  async state(): Promise<TaskState> {
    return (await this.#meta())?.status ?? "PENDING";
  }

  /** True once the task succeeded, failed or was revoked. */
  async ready(): Promise<boolean> {
    return READY_STATES.has(await this.state());
  }

  /** True when the task succeeded. */
  async successful(): Promise<boolean> {
    return (await this.state()) === "SUCCESS";
  }

  /** True when the task failed (REVOKED is not failed). */
  async failed(): Promise<boolean> {
    return (await this.state()) === "FAILURE";
  }

  /** The stored result: the return value, the error for failures, or null. */
  async result(): Promise<R | Error | null> {
    const meta = await this.#meta();
    if (!meta) return null;
    return this.#valueOf(meta) as R | Error | null;
  }

  /** The stored traceback text, or null. */
  async traceback(): Promise<string | null> {
    return (await this.#meta())?.traceback ?? null;
  }

  /** The whole stored document (Celery's meta), or undefined while PENDING. */
  async meta(): Promise<ResultMeta | undefined> {
    return await this.#meta();
  }

  /**
   * Waits for the task to be ready and returns its value. A failed task
   * throws a `RemoteError` carrying the remote type, message and traceback,
   * unless `propagate` is false, when the error is returned.
   */
  get(options?: GetOptions & { propagate?: true }): Promise<R>;
  /** With `propagate: false`, a failure's error is returned instead of thrown. */
  get(options: GetOptions & { propagate: false }): Promise<R | Error>;
  /** Either of the above, decided at run time. */
  get(options: GetOptions): Promise<R | Error>;
  async get(options: GetOptions = {}): Promise<R | Error> {
    if (this.ignored) return null as R;
    const meta = this.#cache ??
      await whileHoldingProcess(async () =>
        (await this.#backend()).waitFor(this.id, {
          timeoutMs: options.timeout === undefined ? undefined : options.timeout * 1000,
          intervalMs: (options.interval ?? 0.5) * 1000,
        })
      );
    this.#cache = meta;
    const value = this.#valueOf(meta);
    if (PROPAGATE_STATES.has(meta.status) && (options.propagate ?? true)) {
      // As Celery: a failed parent's error (a chain step, a chord's header) comes first.
      throw (this.parent && await parentFailure(this.parent)) ?? value;
    }
    return value as R;
  }

  /**
   * Revokes the task on every worker (Celery's `AsyncResult.revoke`): a worker
   * that has not run it yet discards it; with `terminate`, a running one is stopped.
   */
  async revoke(options: ResultRevokeOptions = {}): Promise<void> {
    if (!this.#revoke) throw new Error(`Cannot revoke ${this.id}: this result has no app.`);
    await this.#revoke(this.id, options);
  }

  /** Deletes the stored result (where the backend supports it). */
  async forget(): Promise<void> {
    this.#cache = undefined;
    await whileHoldingProcess(async () => (await this.#backend()).forget(this.id));
  }

  #valueOf(meta: ResultMeta): unknown {
    if (isEncodedException(meta.result) && meta.status !== "SUCCESS") {
      return new RemoteError(meta.result, meta.traceback, this.id);
    }
    return meta.result;
  }

  /** The tasks this one sent (callbacks, next chain step), read from its stored result. */
  async children(): Promise<ParentResult[]> {
    return childrenOf(await this.#meta(), this.#backend, this.#revoke);
  }

  /** Waits for this result and every child, depth first: `[result, value]` pairs (Celery's `collect`). */
  collect(options: GetOptions = {}): AsyncGenerator<[ParentResult, unknown]> {
    return collectResults(this, options);
  }

  /** `<AsyncResult: id>`. */
  toString(): string {
    return `<AsyncResult: ${this.id}>`;
  }
}
