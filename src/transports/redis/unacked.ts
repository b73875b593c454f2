/**
 * kombu's ack emulation (spec §4.6): every delivered message sits in the
 * `unacked` hash and the `unacked_index` sorted set until it is acked; a
 * message whose consumer died is put back on its queue once its score is
 * older than `visibility_timeout`.
 *
 * How celeriac avoids restoring a message that is still being worked on
 * (Celery's duplicate-execution bug for tasks that outlive the visibility
 * timeout, and for ETA tasks held in memory): kombu scores a delivery once,
 * with its delivery time, so any task still running (or any ETA task still
 * waiting) after `visibility_timeout` is restored and runs a second time.
 * This ledger instead *refreshes* the `unacked_index` score of every
 * delivery it still holds (`ZADD unacked_index XX <now> <tag>…`) every
 * quarter of the visibility timeout (at most every 60 s). A held message's
 * score therefore never gets old, and only messages of a consumer that
 * stopped refreshing — a crashed or killed worker — are restored, by this
 * process or by a Python worker sharing the Redis. Restores also skip tags
 * this process holds, in case the event loop was blocked past a refresh.
 *
 * (Slightly over the usual length: record, ack, put back, refresh and restore
 * all keep the same ledger of unacked deliveries consistent with Redis.)
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { getLogger } from "../../log.ts";
import type { UnsettledRegistry } from "../../broker/types.ts";
import type { RedisConnection } from "./facade.ts";
import type { KombuKeys } from "./keys.ts";
import type { RedisTransportOptions } from "./options.ts";
import { type Envelope, envelopeProblem, redeliveredText } from "./envelope.ts";

const log = getLogger("redis");
const CHUNK = 1000;

/** A message this process popped and has not settled. */
export interface UnackedMessage {
  /** kombu's delivery tag (key in `unacked`). */
  tag: string;
  /** The envelope text as it was popped. */
  raw: string;
  /** The parsed envelope. */
  envelope: Envelope;
  /** The list it was popped from. */
  listKey: string;
}

/** Settles the promise `UnackedLedger.ack` returned. */
interface AckWaiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Acks taken to be sent together: `[tag, waiter]`. */
export type AckBatch = [string, AckWaiter][];

/** Finds the queues a message published to `exchange` with `routingKey` goes to. */
export type Router = (exchange: string, routingKey: string) => Promise<string[]>;

/** The unacked bookkeeping of one broker instance. */
export class UnackedLedger {
  /** Deliveries popped and not settled, by tag. */
  readonly unacked: Map<string, UnackedMessage> = new Map();
  /**
   * Set by `own()` (`Broker.trackUnsettled`): a Redis set, recorded in the
   * same step as `unacked`, of the tags this ledger holds, so that another
   * process or thread can give them back at once if this one is gone
   * (`restoreOwned`). Not part of kombu's layout; only consumer threads use it.
   */
  ownerKey?: string;
  /** Told of this consumer's BRPOP connections (`fetch.ts`) and its owner set. */
  registry?: UnsettledRegistry;
  readonly #conn: RedisConnection;
  readonly #keys: KombuKeys;
  readonly #options: Readonly<RedisTransportOptions>;
  readonly #route: Router;
  /** Acks not sent yet, by tag. */
  readonly #acks = new Map<string, AckWaiter>();
  /** Acks sent and not yet answered (by a flush, or with a batch pop: `takeAcks`), by tag. */
  readonly #sending = new Map<string, AckWaiter>();
  #flushing?: Promise<void>;
  #timer?: ReturnType<typeof setTimeout>;
  #maintaining?: Promise<void>;
  #lastRestore = 0;
  #closing = false;
  #closed = false;

  /** Creates the ledger; `start()` begins refreshing and restoring. */
  constructor(
    conn: RedisConnection,
    keys: KombuKeys,
    options: Readonly<RedisTransportOptions>,
    route: Router,
  ) {
    this.#conn = conn;
    this.#keys = keys;
    this.#options = options;
    this.#route = route;
  }

  /** How often unacked deliveries get a fresh score. */
  get refreshIntervalMs(): number {
    return Math.min(Math.max(this.#options.visibilityTimeout * 250, 250), 60_000);
  }

  /** How often timed-out deliveries are looked for (kombu: about every 100 s). */
  get restoreIntervalMs(): number {
    return Math.min(Math.max(this.#options.visibilityTimeout * 1000, 1000), 100_000);
  }

  /** Starts the refresh / restore timer (idempotent); restores timed-out messages at once. */
  start(): void {
    if (this.#timer !== undefined || this.#closing || !this.#options.ackEmulation) return;
    const tick = async () => {
      this.#maintaining = this.#maintain();
      await this.#maintaining;
      this.#maintaining = undefined;
      if (!this.#closing) this.#timer = setTimeout(tick, this.refreshIntervalMs);
    };
    this.#timer = setTimeout(tick, 0);
  }

  async #maintain(): Promise<void> {
    try {
      await this.refresh();
      if (Date.now() - this.#lastRestore >= this.restoreIntervalMs) {
        this.#lastRestore = Date.now();
        await this.restoreVisible();
      }
    } catch (error) {
      log.debug(`Redis unacked maintenance failed: ${(error as Error).message}`);
    }
  }

  /** Records deliveries popped by BRPOP (kombu's `MULTI; ZADD; HSET; EXEC`). */
  async record(message: UnackedMessage): Promise<void> {
    if (this.#options.ackEmulation) {
      const info = message.envelope.properties.delivery_info;
      const value = `[${message.raw}, ${JSON.stringify(info.exchange)}, ` +
        `${JSON.stringify(info.routing_key)}]`;
      const transaction = this.#conn.transaction()
        .zadd(this.#keys.unackedIndex, Date.now() / 1000, message.tag)
        .hset(this.#keys.unacked, message.tag, value);
      if (this.ownerKey) transaction.sadd(this.ownerKey, message.tag);
      await transaction.exec();
    }
    this.keep(message);
  }

  /** Counts a popped message (already in `unacked`) as unacked by this ledger. */
  keep(message: UnackedMessage): void {
    this.unacked.set(message.tag, message);
  }

  /** Whether this ledger still holds `tag`: unacked, or its ack not yet answered. */
  #holds(tag: string): boolean {
    return this.unacked.has(tag) || this.#acks.has(tag) || this.#sending.has(tag);
  }

  /** From now on, the tags this ledger holds are also kept in an owner set (see `ownerKey`). */
  own(registry: UnsettledRegistry): void {
    this.ownerKey = this.#keys.ownerSet(crypto.randomUUID());
    this.registry = registry;
    registry.add(`owner:${this.ownerKey}`);
  }

  /**
   * Acks a delivery. The acks of one turn of the event loop go together:
   * with the consumer's next batch pop when it comes in that turn (see
   * `takeAcks`), else as one `ACK_TAGS` script call at the end of the turn.
   */
  ack(tag: string): Promise<void> {
    if (!this.unacked.delete(tag) || !this.#options.ackEmulation) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.#acks.set(tag, { resolve, reject }));
    this.#scheduleFlush();
    return done;
  }

  /**
   * Takes the acks not sent yet (up to a chunk), for a batch pop to carry
   * (`POP_AND_RECORD` acks them first): one command instead of two. Give
   * them back with `acksSent`.
   */
  takeAcks(): AckBatch {
    const batch: AckBatch = [];
    for (const entry of this.#acks) {
      if (batch.length >= CHUNK) break;
      batch.push(entry);
      this.#acks.delete(entry[0]);
      this.#sending.set(entry[0], entry[1]);
    }
    return batch;
  }

  /**
   * The command carrying `batch` was answered (`error` undefined) or failed:
   * the acks are done, or go back to be sent again (rejected only once the
   * connection is closed for good).
   */
  acksSent(batch: AckBatch, error?: unknown): void {
    for (const [tag, waiter] of batch) {
      this.#sending.delete(tag);
      if (error === undefined) waiter.resolve();
      else if (this.#closed || this.#conn.closed) waiter.reject(error);
      else this.#acks.set(tag, waiter);
    }
    if (this.#acks.size) this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushing) return;
    this.#flushing = (async () => {
      try {
        // At the end of this turn, with the acks made meanwhile, after the consumer's batch pop
        // (also deferred to the end of the turn) had the chance to take them.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
        await this.#flushAcks();
      } finally {
        this.#flushing = undefined;
      }
      // An ack that arrived while the last batch was finishing.
      if (this.#acks.size) this.#scheduleFlush();
    })();
  }

  async #flushAcks(): Promise<void> {
    let failures = 0;
    while (this.#acks.size > 0) {
      const batch = this.takeAcks();
      try {
        const keys = [this.#keys.unacked, this.#keys.unackedIndex];
        if (this.ownerKey) keys.push(this.ownerKey);
        await this.#conn.ackTags(keys, batch.map(([tag]) => tag));
        this.acksSent(batch);
        failures = 0;
      } catch (error) {
        const retry = !this.#closed && !this.#conn.closed;
        this.acksSent(batch, error);
        if (!retry) continue;
        if (failures++ === 0) {
          log.warning(`Redis ack failed, retrying: ${(error as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(failures * 200, 2000)));
      }
    }
  }

  /** Puts a unacked delivery back on the list it came from and drops it from `unacked`. */
  async putBack(tag: string, how: { leftmost: boolean; redelivered: boolean }): Promise<void> {
    const message = this.unacked.get(tag);
    if (!message) return;
    this.unacked.delete(tag);
    const text = how.redelivered ? redeliveredText(message.envelope) : message.raw;
    await this.#conn.restoreTag(
      [this.#keys.unacked, this.#keys.unackedIndex, message.listKey],
      [tag, text, how.leftmost ? "left" : "right", this.#options.ackEmulation ? "1" : "0"],
    );
    if (this.ownerKey) await this.#conn.srem(this.ownerKey, [tag]);
  }

  /** Moves an unreadable unacked delivery from `unacked` to a dead list. */
  async quarantine(message: UnackedMessage, deadList: string): Promise<void> {
    this.unacked.delete(message.tag);
    await this.#conn.restoreTag(
      [this.#keys.unacked, this.#keys.unackedIndex, deadList],
      [message.tag, message.raw, "left", "0"],
    );
    if (this.ownerKey) await this.#conn.srem(this.ownerKey, [message.tag]);
  }

  /**
   * Puts back at once the messages another consumer (a thread that is gone)
   * left in `unacked`, marked redelivered: `keys` are what its registry
   * held, its owner set (`owner:<key>`, see `own()`) and its BRPOP
   * connections (`client:<id>`, see `fetch.ts`), which are closed first.
   * Returns how many went back.
   */
  async restoreTags(keys: string[]): Promise<number> {
    // First close the BRPOP connections left behind: one still waiting would take what is restored.
    for (const key of keys.filter((k) => k.startsWith("client:"))) {
      await this.#conn.clientKill(Number(key.slice("client:".length))).catch(() => false);
    }
    let restored = 0;
    for (const key of keys.filter((k) => k.startsWith("owner:"))) {
      const ownerKey = key.slice("owner:".length);
      for (const tag of await this.#conn.smembers(ownerKey)) {
        if (this.#holds(tag)) continue;
        if (await this.#restoreForeign(tag)) restored++;
      }
      await this.#conn.del([ownerKey]);
    }
    return restored;
  }

  /** Gives every unacked delivery and every delivery being acked a fresh score. */
  async refresh(): Promise<void> {
    const tags = [...this.unacked.keys(), ...this.#acks.keys(), ...this.#sending.keys()];
    for (let i = 0; i < tags.length; i += CHUNK) {
      await this.#conn.zaddExisting(
        this.#keys.unackedIndex,
        Date.now() / 1000,
        tags.slice(i, i + CHUNK),
      );
    }
  }

  /**
   * kombu's `restore_visible`: under `unacked_mutex`, puts back every message
   * scored before now − visibility_timeout (RPUSH, redelivered flags set).
   * Returns how many were restored.
   */
  async restoreVisible(): Promise<number> {
    const token = crypto.randomUUID();
    const lockMs = this.#options.unackedMutexExpire * 1000;
    if (!await this.#conn.setNxPx(this.#keys.unackedMutex, token, lockMs)) return 0;
    let restored = 0;
    try {
      const ceiling = Date.now() / 1000 - this.#options.visibilityTimeout;
      const tags = await this.#conn.zrevrangebyscore(
        this.#keys.unackedIndex,
        ceiling,
        0,
        this.#options.unackedRestoreLimit,
      );
      for (const tag of tags) {
        if (this.#holds(tag)) continue;
        if (await this.#restoreForeign(tag)) restored++;
      }
    } finally {
      await this.#conn.releaseLock(this.#keys.unackedMutex, token).catch(() => {});
    }
    if (restored) {
      log.info(`Restored ${restored} unacknowledged message(s) older than the visibility timeout.`);
    }
    return restored;
  }

  async #restoreForeign(tag: string): Promise<boolean> {
    const bookkeeping = [this.#keys.unacked, this.#keys.unackedIndex];
    const value = await this.#conn.hget(this.#keys.unacked, tag);
    if (value === null) {
      await this.#conn.restoreTag(bookkeeping, [tag, "", "right", "1"]);
      return false;
    }
    let entry: unknown;
    try {
      entry = JSON.parse(value);
    } catch { /* handled below */ }
    const [envelope, exchange, routingKey] = Array.isArray(entry) ? entry : [];
    if (
      envelopeProblem(envelope) !== undefined || typeof exchange !== "string" ||
      typeof routingKey !== "string"
    ) {
      log.warning(
        `Unreadable entry ${JSON.stringify(tag)} in ${JSON.stringify(this.#keys.unacked)}: ` +
          `moved to ${JSON.stringify(this.#keys.unackedDeadList)}.`,
      );
      await this.#conn.restoreTag([...bookkeeping, this.#keys.unackedDeadList], [
        tag,
        value,
        "left",
        "1",
      ]);
      return false;
    }
    const lists = await this.#listsFor(envelope as Envelope, exchange, routingKey);
    return await this.#conn.restoreTag(
      [...bookkeeping, ...lists],
      [tag, redeliveredText(envelope as Envelope), "right", "1"],
    );
  }

  async #listsFor(envelope: Envelope, exchange: string, routingKey: string): Promise<string[]> {
    let queues = exchange === "" ? [routingKey] : await this.#route(exchange, routingKey);
    if (queues.length === 0) {
      log.warning(
        `No queue bound to exchange ${JSON.stringify(exchange)} with routing key ` +
          `${JSON.stringify(routingKey)}: restoring to list ${JSON.stringify(routingKey)}.`,
      );
      queues = [routingKey];
    }
    // kombu 5.4+ keeps the priority on restore; 5.2.4 used the bare list.
    const priority = this.#keys.messagePriority(envelope.properties.priority);
    return queues.map((queue) => this.#keys.listFor(queue, priority));
  }

  /**
   * Graceful shutdown (kombu's `restore_at_shutdown`): flushes pending acks,
   * puts every unacked delivery back (RPUSH, redelivered flags) and stops the timer.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#timer);
    await this.#maintaining;
    await this.#flushing?.catch(() => {});
    const held = [...this.unacked.keys()].reverse();
    if (held.length) log.info(`Restoring ${held.length} unacknowledged message(s)`);
    for (const tag of held) {
      await this.putBack(tag, { leftmost: false, redelivered: true }).catch((error) =>
        log.error(`Could not restore message ${tag}: ${(error as Error).message}`)
      );
    }
    await this.#flushing?.catch(() => {});
    this.#closed = true;
  }
}
