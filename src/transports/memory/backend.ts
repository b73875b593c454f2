/**
 * The `memory://<name>` result backend: results kept inside this process.
 * Backends opened with the same URL in one process share their results, and
 * a waiting client is woken the moment a ready state is stored.
 *
 * @module
 */

import type { ResolvedConfig } from "../../app/config.ts";
import { BrokerConnectionError, TimeoutError } from "../../errors.ts";
import {
  type BackendCapabilities,
  READY_STATES,
  type ResultBackend,
  type ResultBackendFactory,
  type ResultMeta,
  type WaitOptions,
} from "../../backend/types.ts";

/** What the memory result backend can do. */
export const MEMORY_BACKEND_CAPABILITIES: BackendCapabilities = Object.freeze({
  crossProcess: false,
  forget: true,
  pushNotify: true,
  rereadable: true,
});

interface StoredResult {
  meta: ResultMeta;
  expiresAt: number;
}

/** Results and waiters of one `memory://` name. */
class ResultStore {
  readonly results = new Map<string, StoredResult>();
  readonly waiters = new Map<string, Set<(meta: ResultMeta) => void>>();

  read(taskId: string): ResultMeta | undefined {
    const stored = this.results.get(taskId);
    if (stored && stored.expiresAt <= Date.now()) this.results.delete(taskId);
    else if (stored) return structuredClone(stored.meta);
    return undefined;
  }
}

const stores = new Map<string, ResultStore>();

function storeFor(url: string): ResultStore {
  const name = url.replace(/^memory:\/\//i, "").replace(/\/+$/, "");
  let store = stores.get(name);
  if (!store) {
    store = new ResultStore();
    stores.set(name, store);
  }
  return store;
}

/** An in-process result backend. */
export class MemoryResultBackend implements ResultBackend {
  readonly url: string;
  readonly capabilities: BackendCapabilities = MEMORY_BACKEND_CAPABILITIES;
  readonly #store: ResultStore;
  readonly #expiresMs: number;
  readonly #closing = new AbortController();

  /** Opens the backend named by `url`; results expire after `resultExpires` seconds (null: never). */
  constructor(url: string, resultExpires: number | null) {
    this.url = url;
    this.#store = storeFor(url);
    this.#expiresMs = resultExpires === null || resultExpires <= 0
      ? Infinity
      : resultExpires * 1000;
  }

  prepare(_taskId: string): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  store(meta: ResultMeta): Promise<void> {
    if (this.#closing.signal.aborted) return Promise.reject(this.#closedError());
    const current = this.#store.read(meta.task_id);
    if (current?.status === "SUCCESS") return Promise.resolve();
    const copy = structuredClone(meta);
    this.#store.results.set(meta.task_id, { meta: copy, expiresAt: Date.now() + this.#expiresMs });
    if (READY_STATES.has(meta.status)) {
      for (const wake of this.#store.waiters.get(meta.task_id) ?? []) wake(copy);
    }
    return Promise.resolve();
  }

  read(taskId: string): Promise<ResultMeta | undefined> {
    return Promise.resolve(this.#store.read(taskId));
  }

  waitFor(taskId: string, options: WaitOptions): Promise<ResultMeta> {
    if (this.#closing.signal.aborted) return Promise.reject(this.#closedError());
    const current = this.#store.read(taskId);
    if (current && READY_STATES.has(current.status)) return Promise.resolve(current);
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const { promise, resolve, reject } = Promise.withResolvers<ResultMeta>();
    const waiters = this.#store.waiters.get(taskId) ?? new Set();
    this.#store.waiters.set(taskId, waiters);
    const signals = [this.#closing.signal, options.signal].filter((s) => s !== undefined);
    const stopped = AbortSignal.any(signals);
    const done = () => {
      clearTimeout(timer);
      stopped.removeEventListener("abort", onAbort);
      waiters.delete(wake);
      if (waiters.size === 0) this.#store.waiters.delete(taskId);
    };
    const wake = (meta: ResultMeta) => {
      done();
      resolve(structuredClone(meta));
    };
    const onAbort = () => {
      done();
      reject(stopped.reason);
    };
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      done();
      reject(new TimeoutError("The operation timed out.", { taskId }));
    }, options.timeoutMs);
    waiters.add(wake);
    stopped.addEventListener("abort", onAbort);
    return promise;
  }

  forget(taskId: string): Promise<void> {
    this.#store.results.delete(taskId);
    return Promise.resolve();
  }

  /** Stops every pending `waitFor` of this backend (they reject). */
  close(): Promise<void> {
    if (!this.#closing.signal.aborted) {
      this.#closing.abort(
        new BrokerConnectionError(`The result backend ${this.url} was closed while waiting.`),
      );
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #closedError(): BrokerConnectionError {
    return new BrokerConnectionError(`Cannot use the result backend ${this.url}: it is closed.`);
  }
}

/**
 * Opens a `memory://` result backend.
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS } from "../../app/settings.ts";
 * const backend = await createResultBackend("memory://doc", DEFAULT_SETTINGS);
 * console.log(await backend.read("unknown-id")); // undefined
 * await backend.close();
 * ```
 */
export const createResultBackend: ResultBackendFactory = (url: string, config: ResolvedConfig) =>
  Promise.resolve(new MemoryResultBackend(url, config.result_expires));
