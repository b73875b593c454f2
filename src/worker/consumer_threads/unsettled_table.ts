/**
 * A consumer thread's unsettled deliveries, in shared memory: its broker
 * instance reports each one it takes and each it settles
 * (`Broker.trackUnsettled`), and when the thread is gone (terminated at a
 * hard time limit, or dead) the supervisor reads what is left and gives it
 * back at once through its own instance (`Broker.restoreUnsettled`), instead
 * of after the transport's visibility timeout.
 *
 * Only the thread writes; the supervisor reads only once the thread is gone,
 * so no locking is needed. A key longer than an entry, or one more than the
 * table holds, is not recorded: that message comes back after the
 * visibility timeout, as it would without the table.
 *
 * @module
 */

import type { UnsettledRegistry } from "../../broker/types.ts";

/** Bytes of one key (kombu delivery tags are 36-character uuids; SQLite holders are ~50). */
const KEY_BYTES = 96;
/** Entries per thread. */
export const UNSETTLED_CAPACITY = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One thread's table (the thread writes, the supervisor reads after the thread is gone). */
export class UnsettledTable implements UnsettledRegistry {
  /** The memory behind it. */
  readonly buffer: SharedArrayBuffer;
  readonly #lengths: Uint8Array;
  readonly #bytes: Uint8Array;
  readonly #capacity: number;
  /** Thread side only: where each key is, and the free entries. */
  readonly #where = new Map<string, number>();
  readonly #free: number[] = [];
  #next = 0;

  /** A table over `buffer` (from `UnsettledTable.create`). */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#capacity = buffer.byteLength / (KEY_BYTES + 1);
    this.#lengths = new Uint8Array(buffer, 0, this.#capacity);
    this.#bytes = new Uint8Array(buffer, this.#capacity);
  }

  /** A new, empty table. */
  static create(capacity = UNSETTLED_CAPACITY): UnsettledTable {
    return new UnsettledTable(new SharedArrayBuffer(capacity * (KEY_BYTES + 1)));
  }

  /** Thread side: `key` was taken. */
  add(key: string): void {
    if (this.#where.has(key)) return;
    const bytes = encoder.encode(key);
    if (bytes.length === 0 || bytes.length > KEY_BYTES) return;
    const entry = this.#free.pop() ?? (this.#next < this.#capacity ? this.#next++ : -1);
    if (entry < 0) return;
    this.#bytes.set(bytes, entry * KEY_BYTES);
    this.#lengths[entry] = bytes.length;
    this.#where.set(key, entry);
  }

  /** Thread side: `key` was settled. */
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
    for (let entry = 0; entry < this.#capacity; entry++) {
      const length = this.#lengths[entry];
      if (length === 0) continue;
      const start = entry * KEY_BYTES;
      keys.push(decoder.decode(this.#bytes.slice(start, start + length)));
    }
    return keys;
  }

  /** Supervisor side: forgets every key (before a new thread takes the table). */
  clear(): void {
    this.#lengths.fill(0);
  }
}
