/**
 * `ResultSet` and `GroupResult`: the results of several tasks read
 * together, in order, as Celery's. `save()` / `restore()` keep a group in the
 * result backend where it can (Redis: `celery-taskset-meta-<gid>`, the
 * format Python reads). `revoke()` is not here yet (it needs remote control).
 *
 * @module
 */

import type { AsyncResult, GetOptions, ResultRevokeOptions } from "../task/async_result.ts";
import { NoResultBackendError } from "../errors.ts";
import type { ResultBackend } from "../backend/types.ts";
import { isNativeChordBackend } from "./chord_backend.ts";
import { asTuple, fromTuple, type ResultNode } from "./result_node.ts";

/** A task result or a group result: what a canvas member gives. */
export type AnyResult = AsyncResult | GroupResult;

/** Several results, read in order (Celery's `ResultSet`). */
export class ResultSet<R = unknown> {
  /** The results, in order. */
  readonly results: AnyResult[];

  /** Wraps results. */
  constructor(results: AnyResult[]) {
    this.results = results;
  }

  /** Number of results. */
  get length(): number {
    return this.results.length;
  }

  /**
   * Waits for every result and returns their values in order (Celery's
   * `get`/`join`); the first failure throws, unless `propagate` is false.
   * `timeout` (seconds) bounds the whole wait.
   */
  async get(options: GetOptions = {}): Promise<R[]> {
    // Waited for together (one round trip, not one per member), reported in order.
    const settled = await Promise.all(
      this.results.map((result) => result.get({ ...options, propagate: false })),
    );
    if (options.propagate ?? true) {
      const failure = settled.find((value) => value instanceof Error);
      if (failure) throw failure; // results hold no Error values otherwise (JSON)
    }
    return settled as R[];
  }

  /**
   * Revokes every task of the set on every worker (Celery's
   * `GroupResult.revoke`); with `terminate`, running ones are stopped.
   */
  async revoke(options: ResultRevokeOptions = {}): Promise<void> {
    await Promise.all(this.results.map((result) => result.revoke(options)));
  }

  /** Same as `get()` (Celery's `join`). */
  join(options: GetOptions = {}): Promise<R[]> {
    return this.get(options);
  }

  /** True when every result is ready. */
  async ready(): Promise<boolean> {
    return (await Promise.all(this.results.map((r) => r.ready()))).every(Boolean);
  }

  /** True when every result succeeded. */
  async successful(): Promise<boolean> {
    return (await Promise.all(this.results.map((r) => r.successful()))).every(Boolean);
  }

  /** True when any result failed. */
  async failed(): Promise<boolean> {
    return (await Promise.all(this.results.map((r) => r.failed()))).some(Boolean);
  }

  /** True when some result is not ready yet. */
  async waiting(): Promise<boolean> {
    return !(await this.ready());
  }

  /** How many results succeeded. */
  async completedCount(): Promise<number> {
    return (await Promise.all(this.results.map((r) => r.successful()))).filter(Boolean).length;
  }
}

/** The result of a group: its id and its members' results (Celery's `GroupResult`). */
export class GroupResult<R = unknown> extends ResultSet<R> {
  /** The group id. */
  readonly id: string;
  /** The result this group follows in a chain, if any. */
  parent?: AnyResult;
  readonly #backend: () => Promise<ResultBackend | undefined>;

  /** Wraps a group's results; `backend` gives the result backend for `save`/`restore`. */
  constructor(
    id: string,
    results: AnyResult[],
    backend: () => Promise<ResultBackend | undefined>,
  ) {
    super(results);
    this.id = id;
    this.#backend = backend;
  }

  /** Celery's result tuple. */
  asTuple(): unknown[] {
    return asTuple(nodeOf(this));
  }

  /** Stores the group so `GroupResult.restore(id)` finds it (Redis backends). */
  async save(): Promise<void> {
    const backend = await nativeBackend(this.#backend);
    await backend.saveGroup(this.id, this.results.map((r) => asTuple(nodeOf(r))));
  }

  /** Deletes the saved group. */
  async delete(): Promise<void> {
    await (await nativeBackend(this.#backend)).deleteGroup(this.id);
  }

  /** Reads a saved group; undefined when none is stored. */
  static async restore(
    id: string,
    backend: () => Promise<ResultBackend | undefined>,
    makeResult: (node: ResultNode) => AnyResult,
  ): Promise<GroupResult | undefined> {
    const tuples = await (await nativeBackend(backend)).restoreGroup(id);
    if (!tuples) return undefined;
    const nodes = tuples.map(fromTuple).filter((node): node is ResultNode => node !== undefined);
    return new GroupResult(id, nodes.map(makeResult), backend);
  }
}

async function nativeBackend(provider: () => Promise<ResultBackend | undefined>) {
  const backend = await provider();
  if (!backend) throw new NoResultBackendError();
  if (!isNativeChordBackend(backend)) {
    const error = new Error(`The ${backend.url.split(":")[0]} result backend cannot save groups.`);
    error.name = "NotImplementedError";
    throw error;
  }
  return backend;
}

/** The node of a result (ids only). */
export function nodeOf(result: AnyResult): ResultNode {
  const node: ResultNode = { id: result.id };
  if (result instanceof GroupResult) node.results = result.results.map(nodeOf);
  const parent = result.parent as AnyResult | undefined;
  if (parent) node.parent = nodeOf(parent);
  return node;
}
