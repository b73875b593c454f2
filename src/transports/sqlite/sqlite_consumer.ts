/**
 * One consumer of the embedded SQLite broker. When its reader asks for a
 * delivery it hands out a claimed row, claiming a batch (up to the prefetch
 * room) when it has none; when the queues are empty it asks the broker's
 * poller to wake it.
 *
 * @module
 */

import { getLogger } from "../../log.ts";
import type { Delivery, WireMessage } from "../../broker/types.ts";
import type { WriteBatcher } from "./database.ts";
import type { MessageRow, QueueStore } from "./queue_store.ts";

const log = getLogger("celeriac.broker.sqlite");

/** Most rows claimed at once when prefetch does not limit it. */
const MAX_CLAIM = 200;

/** What a consumer needs from its broker. */
export interface ConsumerHost {
  /** The broker tables. */
  readonly store: QueueStore;
  /** Batches acks and rejects into transactions. */
  readonly batcher: WriteBatcher;
  /** Lease holder id of this broker. */
  readonly holder: string;
  /** Lease length in milliseconds. */
  readonly leaseMs: number;
  /** Whether the broker was closed (settling then does nothing). */
  readonly closed: boolean;
  /**
   * Wake `consumer` when messages may be ready: `version` is the data version
   * read before its empty claim, `dueAt` the time its next delayed message is due.
   */
  waitForMessages(consumer: SqliteConsumer, version: number, dueAt?: number): void;
  /** Rows were claimed: keep their leases renewed. */
  holding(): void;
  /** This process committed a change other consumers may want to see. */
  localChange(): void;
}

class SqliteDelivery implements Delivery {
  readonly message: WireMessage;
  readonly exchange: string;
  readonly routingKey: string;
  readonly queue: string;
  readonly redelivered: boolean;
  readonly #settle: (how: "ack" | boolean | "hold") => Promise<void>;

  constructor(row: MessageRow, settle: (how: "ack" | boolean | "hold") => Promise<void>) {
    this.message = {
      headers: JSON.parse(row.headers),
      properties: JSON.parse(row.properties),
      contentType: row.content_type,
      contentEncoding: row.content_encoding,
      body: row.body,
    };
    this.exchange = row.exchange;
    this.routingKey = row.routing_key;
    this.queue = row.queue;
    this.redelivered = row.redelivered !== 0;
    this.#settle = settle;
  }

  ack(): Promise<void> {
    return this.#settle("ack");
  }

  reject(requeue: boolean): Promise<void> {
    return this.#settle(requeue);
  }

  hold(): void {
    void this.#settle("hold");
  }
}

/** Consumes some queues through one broker connection. */
export class SqliteConsumer {
  /** The deliveries; cancelling stops this consumer. */
  readonly stream: ReadableStream<Delivery>;
  readonly #host: ConsumerHost;
  readonly #queues: string[];
  readonly #prefetch: number;
  #buffer: MessageRow[] = [];
  readonly #handedOut = new Set<number>();
  /** Handed-out rows that do not count against prefetch (`Delivery.hold`). */
  readonly #held = new Set<number>();
  #controller?: ReadableStreamDefaultController<Delivery>;
  #resolvePull?: () => void;
  #next = 0;
  #stopped = false;

  /** Starts consuming `queues`. */
  constructor(host: ConsumerHost, queues: string[], prefetch: number) {
    this.#host = host;
    this.#queues = queues;
    this.#prefetch = prefetch;
    this.stream = new ReadableStream<Delivery>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () =>
        new Promise<void>((resolve) => {
          this.#resolvePull = resolve;
          this.wake();
        }),
      cancel: () => this.stop(),
    }, { highWaterMark: 0 });
  }

  /** Rows this consumer holds (claimed, handed out or not). */
  get holdingCount(): number {
    return this.#buffer.length + this.#handedOut.size;
  }

  /** Hands out a delivery if the reader waits for one, claiming rows when needed. */
  wake(): void {
    if (this.#stopped || !this.#resolvePull) return;
    if (this.#buffer.length === 0 && !this.#claim()) return;
    const row = this.#buffer.shift()!;
    this.#handedOut.add(row.id);
    const resolve = this.#resolvePull;
    this.#resolvePull = undefined;
    this.#controller!.enqueue(new SqliteDelivery(row, (how) => this.#settle(row.id, how)));
    resolve();
  }

  /** Stops claiming; rows claimed but not handed out are given back at once. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#resolvePull?.();
    this.#resolvePull = undefined;
    const { store, holder } = this.#host;
    const unread = this.#buffer;
    this.#buffer = [];
    if (unread.length > 0 && !this.#host.closed) {
      void this.#host.batcher.write(() => {
        for (const row of unread) store.release(row.id, holder, false);
      }).then(() => this.#host.localChange(), (e) => log.warning(`Releasing rows failed: ${e}`));
    }
  }

  /** Broker closing: ends the stream; returns the held rows as [id, was handed out]. */
  close(): [number, boolean][] {
    const unread = this.#buffer.map((row): [number, boolean] => [row.id, false]);
    const wasStopped = this.#stopped;
    this.#buffer = [];
    this.stop();
    if (!wasStopped) {
      try {
        this.#controller?.close();
      } catch { /* cancelled already */ }
    }
    const held = [...this.#handedOut].map((id): [number, boolean] => [id, true]);
    this.#handedOut.clear();
    this.#held.clear();
    return [...unread, ...held];
  }

  /** Claims rows into the buffer; false (and waiting registered) when there are none. */
  #claim(): boolean {
    const counted = this.#handedOut.size - this.#held.size;
    const room = this.#prefetch > 0 ? this.#prefetch - counted : MAX_CLAIM;
    if (room <= 0) return false; // a settle wakes us
    const { store, holder, leaseMs } = this.#host;
    const now = Date.now();
    let dueAt: number | undefined;
    let version = -1;
    try {
      version = store.dataVersion();
      for (let i = 0; i < this.#queues.length && this.#buffer.length === 0; i++) {
        const queue = this.#queues[(this.#next + i) % this.#queues.length];
        this.#buffer = store.claim(queue, holder, Math.min(room, MAX_CLAIM), now, now + leaseMs);
        if (this.#buffer.length > 0) this.#next = (this.#next + i + 1) % this.#queues.length;
        else {
          const at = store.nextVisibleAt(queue, now);
          if (at !== undefined && (dueAt === undefined || at < dueAt)) dueAt = at;
        }
      }
    } catch (error) {
      log.warning(`Claiming messages failed, retrying: ${error}`);
    }
    if (this.#buffer.length > 0) {
      this.#host.holding();
      return true;
    }
    this.#host.waitForMessages(this, version, dueAt);
    return false;
  }

  /** Settles like AMQP: the ack or reject is written within a millisecond, not awaited. */
  #settle(id: number, how: "ack" | boolean | "hold"): Promise<void> {
    if (how === "hold") {
      if (this.#handedOut.has(id)) this.#held.add(id);
      this.wake();
      return Promise.resolve();
    }
    this.#held.delete(id);
    if (!this.#handedOut.delete(id) || this.#host.closed) return Promise.resolve();
    const { store, holder, batcher } = this.#host;
    if (how === "ack") batcher.defer(() => store.ack(id, holder));
    else if (how) {
      batcher.defer(() => {
        store.release(id, holder, true);
        queueMicrotask(() => this.#host.localChange());
      });
    } else batcher.defer(() => store.deadLetter(id, holder, Date.now()));
    this.wake();
    return Promise.resolve();
  }
}
