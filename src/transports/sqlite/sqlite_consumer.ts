/**
 * One consumer of the embedded SQLite broker. When its reader asks for a
 * delivery it hands out a claimed row, claiming a batch (up to the prefetch
 * room) when it has none; when the queues are empty it asks the broker's
 * poller to wake it.
 *
 * @module
 */

import { getLogger } from "../../log.ts";
import type { Delivery } from "../../broker/types.ts";
import {
  type DeliveryFields,
  DeliveryWindow,
  PullStream,
  type SettleActions,
} from "../delivery_window.ts";
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

/** A claimed row as the fields of its delivery. */
function fieldsOf(row: MessageRow): DeliveryFields {
  return {
    message: {
      headers: JSON.parse(row.headers),
      properties: JSON.parse(row.properties),
      contentType: row.content_type,
      contentEncoding: row.content_encoding,
      body: row.body,
    },
    exchange: row.exchange,
    routingKey: row.routing_key,
    queue: row.queue,
    redelivered: row.redelivered !== 0,
  };
}

/** Consumes some queues through one broker connection. */
export class SqliteConsumer {
  /** The deliveries; cancelling stops this consumer. */
  readonly stream: ReadableStream<Delivery>;
  readonly #host: ConsumerHost;
  readonly #queues: string[];
  readonly #window: DeliveryWindow<number>;
  #buffer: MessageRow[] = [];
  readonly #out: PullStream;
  #next = 0;
  #stopped = false;

  /** Starts consuming `queues`. */
  constructor(host: ConsumerHost, queues: string[], prefetch: number) {
    this.#host = host;
    this.#queues = queues;
    this.#window = new DeliveryWindow(prefetch, { changed: () => this.wake() });
    this.#out = new PullStream(() => this.wake(), () => this.stop());
    this.stream = this.#out.stream;
  }

  /** Rows this consumer holds (claimed, handed out or not). */
  get holdingCount(): number {
    return this.#buffer.length + this.#window.out;
  }

  /** Hands out a delivery if the reader waits for one, claiming rows when needed. */
  wake(): void {
    if (this.#stopped || !this.#out.waiting) return;
    if (this.#buffer.length === 0 && !this.#claim()) return;
    const row = this.#buffer.shift()!;
    const delivery = this.#window.handOut(fieldsOf(row), this.#settleActions(row.id), row.id);
    this.#out.offer(delivery);
  }

  /** Stops claiming; rows claimed but not handed out are given back at once. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#out.release();
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
      this.#out.close();
    }
    const out = this.#window.outstanding().map((id): [number, boolean] => [id, true]);
    this.#window.forgetAll();
    return [...unread, ...out];
  }

  /** Claims rows into the buffer; false (and waiting registered) when there are none. */
  #claim(): boolean {
    const room = Math.min(this.#window.room(), MAX_CLAIM);
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
  #settleActions(id: number): SettleActions {
    const host = this.#host;
    const later = (write: () => void) => {
      if (!host.closed) host.batcher.defer(write);
      return Promise.resolve();
    };
    return {
      ack: () => later(() => host.store.ack(id, host.holder)),
      requeue: () =>
        later(() => {
          host.store.release(id, host.holder, true);
          queueMicrotask(() => host.localChange());
        }),
      drop: () => later(() => host.store.deadLetter(id, host.holder, Date.now())),
    };
  }
}
