/**
 * Getting envelopes out of the queue lists. While messages are waiting, a
 * batch pop (`POP_AND_RECORD`, which records each one in `unacked` in the
 * same atomic step); when the queues are empty, BRPOP on a connection of its
 * own, over the priority lists in kombu's order, with kombu's 1-second
 * timeout. `unblock()` ends a blocked BRPOP at once (`CLIENT UNBLOCK`).
 *
 * Malformed list elements (not JSON, or without `properties`,
 * `properties.delivery_tag`, `properties.delivery_info` with `exchange` and
 * `routing_key`, or with an unreadable body) crash a Python worker and are
 * lost (spec §4.2). Here they are never handed out: each is moved to the list
 * `<queue>.dead` (with `global_keyprefix`) exactly as it was, and one WARNING
 * names the queue, the dead list and the reason.
 *
 * @module
 */

import { getLogger } from "../../log.ts";
import { type DecodedEnvelope, decodeEnvelope, type Envelope, parseEnvelope } from "./envelope.ts";
import type { RedisConnection } from "./facade.ts";
import type { KombuKeys, QueueList } from "./keys.ts";
import type { RedisTransportOptions } from "./options.ts";
import type { UnackedLedger, UnackedMessage } from "./unacked.ts";

/** The registry key naming a BRPOP connection (`Broker.trackUnsettled`): `client:<CLIENT ID>`. */
export function blockingClientKey(id: number): string {
  return `client:${id}`;
}

const log = getLogger("redis");

/** A message taken from Redis, not yet handed out. */
export interface Fetched {
  /** Its delivery tag; undefined for fanout messages (nothing to settle). */
  tag?: string;
  /** The decoded envelope. */
  decoded: DecodedEnvelope;
  /** The queue it came from. */
  queue: string;
}

/** What a fetcher needs from its broker. */
export interface FetcherDeps {
  /** The broker's commands connection. */
  commands: RedisConnection;
  /** Opens the BRPOP connection. */
  open: (role: "blocking") => Promise<RedisConnection>;
  /** Key layout. */
  keys: KombuKeys;
  /** Transport options. */
  options: Readonly<RedisTransportOptions>;
  /** The broker's unacked bookkeeping. */
  ledger: UnackedLedger;
  /** A longer list element is moved to the dead list unparsed (see `elementLimit`). */
  maxElementLength?: number;
}

/**
 * The longest list element a consumer parses, from `worker_max_message_size`:
 * the body in base64 (4/3 of its bytes) plus 1 MiB for headers and properties.
 */
export function elementLimit(maxMessageBytes: number): number {
  return Math.ceil(maxMessageBytes * 4 / 3) + 1024 * 1024;
}

/** Pops from the lists of some queues, in kombu's order and queue rotation. */
export class ListFetcher {
  readonly #deps: FetcherDeps;
  #order: string[];
  #blocking?: RedisConnection;
  #blockingId?: number;
  #inBrpop = false;
  #stopping = false;
  #fetched: Fetched[] = [];

  /** Fetches from `queues` (names). */
  constructor(deps: FetcherDeps, queues: string[]) {
    this.#deps = deps;
    this.#order = deps.options.queueOrderStrategy === "sorted" ? [...queues].sort() : queues;
  }

  /** True when there are queues to pop from. */
  get active(): boolean {
    return this.#order.length > 0;
  }

  #lists(): QueueList[] {
    return this.#deps.keys.consumeOrder(this.#order);
  }

  #take(): Fetched[] {
    const out = this.#fetched;
    this.#fetched = [];
    return out;
  }

  /** Pops up to `count` waiting messages at once (recorded in `unacked` atomically). */
  async popBatch(count: number): Promise<Fetched[]> {
    const { keys, commands, options, ledger } = this.#deps;
    const lists = this.#lists();
    const acks = ledger.takeAcks(); // the acks of this turn ride along
    let reply: [number, string, string, string][];
    try {
      reply = await commands.popAndRecord(
        [keys.unacked, keys.unackedIndex, ...lists.flatMap((l) => [l.key, keys.deadList(l.queue)])],
        [
          count,
          Date.now() / 1000,
          options.ackEmulation ? "1" : "0",
          ledger.ownerKey ?? "",
          ...acks.map(([tag]) => tag),
        ],
      ) as [number, string, string, string][];
    } catch (error) {
      ledger.acksSent(acks, error);
      throw error;
    }
    ledger.acksSent(acks);
    for (const [index, raw, tag, reason] of reply) {
      const list = lists[index - 1];
      if (reason) this.#reportMalformed(list.queue, reason);
      else await this.#accept(list, raw, tag);
    }
    return this.#take();
  }

  /** Waits up to the polling interval for one message (BRPOP), then records it. */
  async popBlocking(): Promise<Fetched[] | undefined> {
    const blocking = await this.#blockingConnection();
    const lists = this.#lists();
    if (this.#blockingId === undefined) {
      this.#blockingId = await blocking.clientId();
      // A BRPOP still waiting on a connection its thread left would take a restored message.
      this.#deps.ledger.registry?.add(blockingClientKey(this.#blockingId));
    }
    if (this.#stopping) return undefined;
    this.#inBrpop = true;
    let reply: [string, string] | null;
    try {
      reply = await blocking.brpop(lists.map((l) => l.key), this.#deps.options.pollingInterval);
    } finally {
      this.#inBrpop = false;
    }
    if (!reply) return undefined;
    const list = lists.find((l) => l.key === reply[0]) ?? lists[0];
    await this.#accept(list, reply[1]);
    return this.#take();
  }

  async #blockingConnection(): Promise<RedisConnection> {
    if (!this.#blocking) {
      this.#blocking = await this.#deps.open("blocking");
      this.#blocking.onReconnect(() => {
        if (this.#blockingId !== undefined) {
          this.#deps.ledger.registry?.remove(blockingClientKey(this.#blockingId));
        }
        this.#blockingId = undefined;
      });
    }
    return this.#blocking;
  }

  /**
   * Takes one popped element: records it in `unacked` (unless the batch pop,
   * which passes `recordedTag`, already did), decodes it and collects it.
   */
  async #accept(list: QueueList, raw: string, recordedTag?: string): Promise<void> {
    const { ledger, keys, commands, maxElementLength } = this.#deps;
    const parsed = maxElementLength !== undefined && raw.length > maxElementLength
      ? `the element is ${raw.length} characters long, over the limit of ${maxElementLength} ` +
        "(from the setting worker_max_message_size)"
      : parseEnvelope(raw);
    if (typeof parsed === "string") {
      // Too long, or Lua's cjson accepted what JSON.parse refuses: move it out of `unacked` too.
      if (recordedTag) {
        const envelope = {} as Envelope;
        await ledger.quarantine(
          { tag: recordedTag, raw, envelope, listKey: list.key },
          keys.deadList(list.queue),
        );
      } else await commands.lpush(keys.deadList(list.queue), [raw]);
      return this.#reportMalformed(list.queue, parsed);
    }
    const held = { tag: parsed.properties.delivery_tag, raw, envelope: parsed, listKey: list.key };
    if (recordedTag) ledger.keep(held);
    else await this.#recordPopped(held);
    const decoded = decodeEnvelope(parsed);
    if (typeof decoded === "string") {
      await ledger.quarantine(held, keys.deadList(list.queue));
      return this.#reportMalformed(list.queue, decoded);
    }
    this.#fetched.push({ tag: held.tag, decoded, queue: list.queue });
    if (this.#deps.options.queueOrderStrategy === "round_robin") {
      this.#order = [...this.#order.filter((q) => q !== list.queue), list.queue];
    }
  }

  /**
   * Records an element BRPOP removed. It exists only in this process now, so a
   * failure (Redis restarting) is retried until it succeeds; only a broker
   * closed meanwhile gives up, and then the envelope is logged, not dropped silently.
   */
  async #recordPopped(held: UnackedMessage): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#deps.ledger.record(held);
      } catch (error) {
        if (this.#deps.commands.closed) {
          log.error(`Lost a popped message (broker closed): ${held.raw}`);
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(attempt * 200, 2000)));
      }
    }
  }

  #reportMalformed(queue: string, reason: string): void {
    const dead = this.#deps.keys.deadList(queue);
    log.warning(
      `Moved a malformed message from queue ${JSON.stringify(queue)} to list ` +
        `${JSON.stringify(dead)}: ${reason.replace(/^the element/, "it")}.`,
    );
  }

  /** Stops: ends a BRPOP in progress, retrying while the BRPOP has not reached Redis yet. */
  async unblock(): Promise<void> {
    this.#stopping = true;
    const deadline = Date.now() + 1000 * this.#deps.options.pollingInterval;
    while (this.#inBrpop && this.#blockingId !== undefined && Date.now() < deadline) {
      const unblocked = await this.#deps.commands.clientUnblock(this.#blockingId).catch(() => true);
      if (unblocked) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Closes the BRPOP connection. */
  async close(): Promise<void> {
    await this.#blocking?.close();
  }
}
