/**
 * What a consumer thread's broker instance names so that, once the thread
 * is gone (terminated at a hard time limit, or dead), the supervisor can
 * give back at once what it left unsettled (`Broker.trackUnsettled`,
 * `Broker.restoreUnsettled`), instead of after the transport's visibility
 * timeout: the SQLite lease holder id, the Redis owner set and BRPOP
 * connections. A handful of keys per thread, written when they change (not
 * per message), in shared memory.
 *
 * Only the thread writes; the supervisor reads only once the thread is gone,
 * so no locking is needed. A key longer than an entry is not recorded (its
 * messages come back after the visibility timeout, as without the table).
 *
 * @module
 */

import type { UnsettledRegistry } from "../../broker/types.ts";

/** Bytes of one key (a Redis owner set's name carries the key prefix). */
const KEY_BYTES = 512;
/** Entries per thread. */
const CAPACITY = 32;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One thread's table (the thread writes, the supervisor reads after the thread is gone). */
export class UnsettledTable implements UnsettledRegistry {
  /** The memory behind it. */
  readonly buffer: SharedArrayBuffer;
  readonly #lengths: Uint16Array;
  readonly #bytes: Uint8Array;
  /** Thread side only: where each key is, and the free entries. */
  readonly #where = new Map<string, number>();
  readonly #free: number[] = [];
  #next = 0;

  /** A table over `buffer` (from `UnsettledTable.create`). */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#lengths = new Uint16Array(buffer, 0, CAPACITY);
    this.#bytes = new Uint8Array(buffer, CAPACITY * 2);
  }

  /** A new, empty table. */
  static create(): UnsettledTable {
    return new UnsettledTable(new SharedArrayBuffer(CAPACITY * (KEY_BYTES + 2)));
  }

  /** Thread side: `key` names something to give back. */
  add(key: string): void {
    if (this.#where.has(key)) return;
    const bytes = encoder.encode(key);
    if (bytes.length === 0 || bytes.length > KEY_BYTES) return;
    const entry = this.#free.pop() ?? (this.#next < CAPACITY ? this.#next++ : -1);
    if (entry < 0) return;
    this.#bytes.set(bytes, entry * KEY_BYTES);
    this.#lengths[entry] = bytes.length;
    this.#where.set(key, entry);
  }

  /** Thread side: `key` no longer does. */
  remove(key: string): void {
    const entry = this.#where.get(key);
    if (entry === undefined) return;
    this.#where.delete(key);
    this.#lengths[entry] = 0;
    this.#free.push(entry);
  }

  /** Supervisor side, once the thread is gone: every key left. */
  keys(): string[] {
    const keys: string[] = [];
    for (let entry = 0; entry < CAPACITY; entry++) {
      const length = this.#lengths[entry];
      if (length === 0) continue;
      const start = entry * KEY_BYTES;
      keys.push(decoder.decode(this.#bytes.slice(start, start + length)));
    }
    return keys;
  }

  /** Supervisor side: forgets every key. */
  clear(): void {
    this.#lengths.fill(0);
  }
}
