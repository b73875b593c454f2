/**
 * One in-process queue: ready messages ordered by priority (higher first)
 * then by arrival, and delayed messages waiting for their `deliverAt`.
 *
 * @module
 */

import type { WireMessage } from "../../broker/types.ts";

/** A message as the memory broker keeps it. */
export interface StoredMessage {
  /** Arrival order; a requeued message goes back to its old place. */
  readonly seq: number;
  /** The message (a private copy). */
  readonly message: WireMessage;
  /** Exchange it was published to. */
  readonly exchange: string;
  /** Routing key it was published with. */
  readonly routingKey: string;
  /** Priority (0 when none was given). */
  readonly priority: number;
  /** Set once the message was handed out and given back. */
  redelivered: boolean;
}

/** A queue of `StoredMessage`s. */
export class MemoryQueue {
  /** Queue name. */
  readonly name: string;
  /** Ready messages per priority, each list in arrival order. */
  readonly #buckets = new Map<number, StoredMessage[]>();
  /** Priorities that have a bucket, highest first. */
  #levels: number[] = [];
  /** Delayed messages, earliest first. */
  #delayed: { at: number; entry: StoredMessage }[] = [];
  #ready = 0;

  /** An empty queue. */
  constructor(name: string) {
    this.name = name;
  }

  /** Number of ready messages. */
  get readyCount(): number {
    return this.#ready;
  }

  /** Adds a ready message at its place (by priority, then arrival). */
  push(entry: StoredMessage): void {
    let bucket = this.#buckets.get(entry.priority);
    if (!bucket) {
      bucket = [];
      this.#buckets.set(entry.priority, bucket);
      this.#levels = [...this.#buckets.keys()].sort((a, b) => b - a);
    }
    let at = bucket.length;
    while (at > 0 && bucket[at - 1].seq > entry.seq) at--;
    bucket.splice(at, 0, entry);
    this.#ready++;
  }

  /** Holds a message until `at` (epoch milliseconds). */
  pushDelayed(entry: StoredMessage, at: number): void {
    let index = this.#delayed.length;
    while (index > 0 && this.#delayed[index - 1].at > at) index--;
    this.#delayed.splice(index, 0, { at, entry });
  }

  /** Moves delayed messages that are due into the ready lists. */
  promoteDue(now: number): void {
    while (this.#delayed.length > 0 && this.#delayed[0].at <= now) {
      this.push(this.#delayed.shift()!.entry);
    }
  }

  /** When the next delayed message is due, if any. */
  nextDueAt(): number | undefined {
    return this.#delayed[0]?.at;
  }

  /** Takes the most urgent ready message. */
  shift(): StoredMessage | undefined {
    for (const level of this.#levels) {
      const bucket = this.#buckets.get(level)!;
      if (bucket.length > 0) {
        this.#ready--;
        return bucket.shift();
      }
    }
    return undefined;
  }

  /** Deletes every message not handed out, delayed ones included; returns how many. */
  purge(): number {
    const count = this.#ready + this.#delayed.length;
    this.#buckets.clear();
    this.#levels = [];
    this.#delayed = [];
    this.#ready = 0;
    return count;
  }
}
