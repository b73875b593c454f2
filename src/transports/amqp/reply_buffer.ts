/**
 * The client side of rpc:// results: the latest state received per task id,
 * and the callers waiting for a ready state. A stored SUCCESS is never
 * replaced. The buffer is bounded: past `limit` task ids the oldest are
 * dropped (Python keeps a similar bounded buffer of pending messages).
 *
 * @module
 */

import { READY_STATES, type ResultMeta } from "../../backend/types.ts";

/** Latest states by task id, and waiters. */
export class ReplyBuffer {
  readonly #limit: number;
  readonly #states = new Map<string, ResultMeta>();
  readonly #waiters = new Map<string, Set<(meta: ResultMeta) => void>>();

  /** A buffer keeping at most `limit` task ids. */
  constructor(limit = 65_536) {
    this.#limit = limit;
  }

  /** The latest state of `taskId`, if one arrived. */
  get(taskId: string): ResultMeta | undefined {
    return this.#states.get(taskId);
  }

  /** Records the state of `taskId` (the reply's correlation id) and wakes its waiters when ready. */
  put(taskId: string, meta: ResultMeta): void {
    const previous = this.#states.get(taskId);
    if (previous?.status === "SUCCESS") return;
    this.#states.delete(taskId);
    this.#states.set(taskId, meta);
    if (this.#states.size > this.#limit) {
      const oldest = this.#states.keys().next().value;
      if (oldest !== undefined) this.#states.delete(oldest);
    }
    if (!READY_STATES.has(meta.status)) return;
    for (const wake of this.#waiters.get(taskId) ?? []) wake(meta);
  }

  /** Calls `wake` with the ready state of `taskId`; returns the function that unregisters it. */
  listen(taskId: string, wake: (meta: ResultMeta) => void): () => void {
    let set = this.#waiters.get(taskId);
    if (!set) this.#waiters.set(taskId, set = new Set());
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.#waiters.get(taskId) === set) this.#waiters.delete(taskId);
    };
  }

  /** Number of callers waiting. */
  get waiting(): number {
    return this.#waiters.size;
  }
}
