/**
 * Connections one app shares between its broker and its result backend:
 * with `rpc://` results the broker and the backend talk to the same
 * RabbitMQ, and one connection lets a worker's ack and the result it
 * publishes leave in one write, and a client's task and the replies it
 * waits for use one socket. Each transport decides what may be shared (its
 * key); the share counts users, so the connection closes with the last.
 *
 * @module
 */

/** Connections shared by key, counted by users. */
export class ConnectionShare {
  readonly #entries = new Map<string, { connection: unknown; users: number }>();

  /** Connections open in this share. */
  get size(): number {
    return this.#entries.size;
  }

  /** The connection under `key`, opened with `open` when there is none; counts one more user. */
  acquire<T>(key: string, open: () => T): T {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { connection: open(), users: 0 };
      this.#entries.set(key, entry);
    }
    entry.users++;
    return entry.connection as T;
  }

  /** One user of `key` is done; true when it was the last (the caller closes the connection). */
  release(key: string): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return true;
    if (--entry.users > 0) return false;
    this.#entries.delete(key);
    return true;
  }
}
