/**
 * What each consumer thread is running, in shared memory: the thread writes
 * its slot when a run starts and clears it when the run ends, with no
 * message to the supervisor; the supervisor reads every slot on a timer to
 * enforce hard time limits, and reads a lost thread's slots to report the
 * runs it lost.
 *
 * A slot is a seqlock: its generation is odd while a run is written in it
 * and the run is in progress, even when the slot is free. A reader takes the
 * generation, the fields, then the generation again, and trusts the fields
 * only when both readings agree and are odd.
 *
 * @module
 */

/** What the supervisor needs to know of a run to report it without the thread. */
export interface RunningEntry {
  /** Task id. */
  id: string;
  /** Retries before this attempt (an attempt's message is told apart from its retries' by it). */
  retries: number;
  /** Task name. */
  task: string;
  /** The rpc reply queue (`reply_to`), when results go back by rpc://. */
  replyTo?: string;
  /** The rpc correlation id (the task id, unless the sender chose another). */
  correlationId?: string;
  /** Hard time limit in seconds, or null. */
  hardTimeLimit: number | null;
  /** The message stays unacked until the run ends (acks_late). */
  acksLate: boolean;
  /** acks_late message of a lost run goes back to the queue (`reject_on_worker_lost`). */
  rejectOnWorkerLost: boolean;
  /** Positional arguments (for `inspect active`; left out when the entry would not fit). */
  args?: unknown[];
  /** Keyword arguments (same). */
  kwargs?: Record<string, unknown>;
  /** Where the message came from (same). */
  deliveryInfo?: { exchange: string; routingKey: string; priority: number; redelivered: boolean };
}

/** A run read from the table, with when it started and must end. */
export interface RunningRead extends RunningEntry {
  /** Epoch ms the run started. */
  startedAt: number;
  /** Epoch ms past which the hard limit stops it (Infinity: none). */
  deadline: number;
}

/** Bytes of JSON a slot holds; a longer entry is cut to its id, retries, task and limits. */
const ENTRY_BYTES = 1024;
const INTS_PER_SLOT = 2; // generation, entry length
const FLOATS_PER_SLOT = 2; // startedAt, deadline

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The shared table: one slot per (thread, run slot). Made by the supervisor, sent to each thread. */
export class RunningTable {
  /** The memory behind the table (sent to threads in their `init`). */
  readonly buffer: SharedArrayBuffer;
  /** Number of slots. */
  readonly size: number;
  readonly #ints: Int32Array;
  readonly #floats: Float64Array;
  readonly #bytes: Uint8Array;
  /** Each slot's entry bytes (views of `#bytes`), written in place. */
  readonly #entries: Uint8Array[];

  /** A table over `buffer` (from `RunningTable.create`, possibly in another thread). */
  constructor(buffer: SharedArrayBuffer) {
    const perSlot = RunningTable.#slotBytes();
    this.buffer = buffer;
    this.size = buffer.byteLength / perSlot;
    const floatsBytes = this.size * FLOATS_PER_SLOT * 8;
    const intsBytes = this.size * INTS_PER_SLOT * 4;
    this.#floats = new Float64Array(buffer, 0, this.size * FLOATS_PER_SLOT);
    this.#ints = new Int32Array(buffer, floatsBytes, this.size * INTS_PER_SLOT);
    this.#bytes = new Uint8Array(buffer, floatsBytes + intsBytes, this.size * ENTRY_BYTES);
    this.#entries = Array.from(
      { length: this.size },
      (_, slot) => this.#bytes.subarray(slot * ENTRY_BYTES, (slot + 1) * ENTRY_BYTES),
    );
  }

  static #slotBytes(): number {
    return FLOATS_PER_SLOT * 8 + INTS_PER_SLOT * 4 + ENTRY_BYTES;
  }

  /** A new, empty table of `size` slots. */
  static create(size: number): RunningTable {
    return new RunningTable(new SharedArrayBuffer(size * RunningTable.#slotBytes()));
  }

  /** Thread side: `slot` now runs `entry`. */
  write(slot: number, entry: RunningEntry, now = Date.now()): void {
    const generation = Atomics.load(this.#ints, slot * INTS_PER_SLOT);
    if (generation % 2 === 1) this.clear(slot);
    const target = this.#entries[slot];
    const text = JSON.stringify(entry);
    let { read, written } = encoder.encodeInto(text, target);
    if (read < text.length) {
      const { id, retries, task, hardTimeLimit, acksLate, rejectOnWorkerLost } = entry;
      const short = { id, retries, task, hardTimeLimit, acksLate, rejectOnWorkerLost };
      written = encoder.encodeInto(JSON.stringify(short), target).written;
    }
    Atomics.store(this.#ints, slot * INTS_PER_SLOT + 1, written);
    this.#floats[slot * FLOATS_PER_SLOT] = now;
    this.#floats[slot * FLOATS_PER_SLOT + 1] = entry.hardTimeLimit && entry.hardTimeLimit > 0
      ? now + entry.hardTimeLimit * 1000
      : Infinity;
    Atomics.add(this.#ints, slot * INTS_PER_SLOT, 1); // odd: running
  }

  /** Thread side: `slot`'s run ended. */
  clear(slot: number): void {
    const index = slot * INTS_PER_SLOT;
    if (Atomics.load(this.#ints, index) % 2 === 1) Atomics.add(this.#ints, index, 1);
  }

  /** Supervisor side: the run in `slot`, or undefined when it is free. */
  read(slot: number): RunningRead | undefined {
    const index = slot * INTS_PER_SLOT;
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = Atomics.load(this.#ints, index);
      if (before % 2 === 0) return undefined;
      const length = Atomics.load(this.#ints, index + 1);
      const startedAt = this.#floats[slot * FLOATS_PER_SLOT];
      const deadline = this.#floats[slot * FLOATS_PER_SLOT + 1];
      const text = decoder.decode(
        this.#bytes.slice(slot * ENTRY_BYTES, slot * ENTRY_BYTES + Math.min(length, ENTRY_BYTES)),
      );
      if (Atomics.load(this.#ints, index) !== before) continue;
      try {
        return { ...JSON.parse(text) as RunningEntry, startedAt, deadline };
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** Whether `slot` has a run in progress (no decoding). */
  busy(slot: number): boolean {
    return Atomics.load(this.#ints, slot * INTS_PER_SLOT) % 2 === 1;
  }

  /** Supervisor side: the deadline of `slot`'s run without decoding it (Infinity when free). */
  deadline(slot: number): number {
    if (Atomics.load(this.#ints, slot * INTS_PER_SLOT) % 2 === 0) return Infinity;
    return this.#floats[slot * FLOATS_PER_SLOT + 1];
  }

  /**
   * Whether any of the first `inUse` slots outside `first` … `first + count - 1`
   * is free (another thread could run a task now). The table is sized for the
   * most threads the pool may grow to; only the slots of its threads count.
   */
  anyFreeOutside(first: number, count: number, inUse = this.size): boolean {
    for (let slot = 0; slot < Math.min(inUse, this.size); slot++) {
      if (slot >= first && slot < first + count) continue;
      if (Atomics.load(this.#ints, slot * INTS_PER_SLOT) % 2 === 0) return true;
    }
    return false;
  }

  /**
   * Whether a slot outside `first` … `first + count - 1` holds a run of task
   * `id`: its thread died or was stopped and the supervisor has not freed the
   * slot yet (RabbitMQ may redeliver the message before the supervisor hears
   * of the death).
   */
  runsElsewhere(id: string, first: number, count: number): boolean {
    for (let slot = 0; slot < this.size; slot++) {
      if (slot >= first && slot < first + count) continue;
      if (this.read(slot)?.id === id) return true;
    }
    return false;
  }

  /** Supervisor side: frees `slot` (its thread was stopped or lost). */
  reset(slot: number): void {
    this.clear(slot);
  }
}
