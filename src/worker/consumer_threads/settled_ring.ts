/**
 * The last messages a consumer thread was done with and settled for good
 * (acked, or rejected without requeue), by `runKey`, in shared memory: an
 * entry is written once the run's outcome is stored and its settle called.
 * Acks are batched, so when a thread is terminated or dies, the last few may
 * never have reached the broker, which then redelivers those messages: the
 * supervisor reads this ring and remembers them, and a thread that gets one
 * back asks and settles it without running it again (its result is stored
 * already).
 *
 * The ring only needs to cover what can be batched and unsent when the
 * thread stops (acks of about one event-loop turn: runs yield at least every
 * millisecond); it holds the last 256.
 *
 * @module
 */

/** Entries per thread. */
const ENTRIES = 256;
/** Bytes of one key (Celery ids are 36-character uuids; a longer key is not recorded). */
const ID_BYTES = 63;
/** Flag in an entry's length byte: the message was dropped (rejected without requeue), not acked. */
const DROPPED = 0x80;

/** A message (`runKey`: task id, and retries if a retry) and how it was settled. */
export interface SettledEntry {
  /** The message's `runKey`. */
  key: string;
  /** Rejected without requeue (dead-lettered where the broker can), rather than acked. */
  dropped: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One thread's ring (the thread writes; the supervisor reads once the thread is gone). */
export class SettledRing {
  /** The memory behind it. */
  readonly buffer: SharedArrayBuffer;
  readonly #lengths: Uint8Array;
  readonly #bytes: Uint8Array;
  #next = 0;

  /** A ring over `buffer` (from `SettledRing.create`). */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.#lengths = new Uint8Array(buffer, 0, ENTRIES);
    this.#bytes = new Uint8Array(buffer, ENTRIES);
  }

  /** A new, empty ring. */
  static create(): SettledRing {
    return new SettledRing(new SharedArrayBuffer(ENTRIES * (ID_BYTES + 1)));
  }

  /** Thread side: the message `key` (`runKey`) was acked, or dropped. */
  record(key: string, dropped = false): void {
    const bytes = encoder.encode(key);
    if (bytes.length === 0 || bytes.length > ID_BYTES) return;
    const entry = this.#next;
    this.#next = (entry + 1) % ENTRIES;
    this.#bytes.set(bytes, entry * ID_BYTES);
    this.#lengths[entry] = bytes.length | (dropped ? DROPPED : 0);
  }

  /** Supervisor side, once the thread is gone: the settles recorded. */
  entries(): SettledEntry[] {
    const entries: SettledEntry[] = [];
    for (let entry = 0; entry < ENTRIES; entry++) {
      const length = this.#lengths[entry] & ~DROPPED;
      if (length === 0) continue;
      const start = entry * ID_BYTES;
      entries.push({
        key: decoder.decode(this.#bytes.slice(start, start + length)),
        dropped: (this.#lengths[entry] & DROPPED) !== 0,
      });
    }
    return entries;
  }
}
