/**
 * The consume stream of the Redis broker. A fetch loop pops envelopes while
 * fewer than `prefetch` deliveries are unsettled and keeps them in a buffer;
 * the stream hands them out one per read.
 *
 * Fetching: a batch pop (`POP_AND_RECORD`, which records each message in
 * `unacked` in the same atomic step) while messages are waiting, and BRPOP
 * on a connection of its own — over the priority lists in kombu's order,
 * with kombu's 1-second timeout — when the queues are empty. Cancelling the
 * stream ends a blocked BRPOP at once (`CLIENT UNBLOCK`) and puts messages
 * that were fetched but never handed out back where they came from.
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
import type { Delivery, QueueSpec } from "../types.ts";
import { RedisDelivery } from "./delivery.ts";
import { subscribeFanout } from "./fanout.ts";
import { type DecodedEnvelope, decodeEnvelope, type Envelope, parseEnvelope } from "./envelope.ts";
import type { RedisConnection } from "./facade.ts";
import type { KombuKeys, QueueList } from "./keys.ts";
import type { RedisTransportOptions } from "./options.ts";
import type { UnackedLedger } from "./unacked.ts";

const log = getLogger("redis");
const MAX_BATCH = 100;

/** What a consumer needs from its broker. */
export interface ConsumerDeps {
  /** The broker's commands connection. */
  commands: RedisConnection;
  /** Opens a connection for BRPOP or for pub/sub. */
  open: (role: "blocking" | "subscriber") => Promise<RedisConnection>;
  /** Declares the queues (binding sets). */
  declare: (queues: QueueSpec[]) => Promise<void>;
  /** Key layout. */
  keys: KombuKeys;
  /** Transport options. */
  options: Readonly<RedisTransportOptions>;
  /** The broker's unacked bookkeeping. */
  ledger: UnackedLedger;
}

interface Fetched {
  tag?: string;
  decoded: DecodedEnvelope;
  queue: string;
}

/** One `consume()` call: its fetch loop and its stream. */
export class RedisConsumer {
  /** The deliveries. */
  readonly stream: ReadableStream<Delivery>;
  readonly #done = Promise.withResolvers<void>();
  readonly #deps: ConsumerDeps;
  readonly #queues: QueueSpec[];
  readonly #prefetch: number;
  #order: string[];
  #buffer: Fetched[] = [];
  readonly #unsettled = new Set<string>();
  #waiters: (() => void)[] = [];
  #stopping = false;
  #stopped?: Promise<void>;
  #loop: Promise<void> = Promise.resolve();
  #started = false;
  #blocking?: RedisConnection;
  #blockingId?: number;
  #inBrpop = false;
  #subscriber?: RedisConnection;

  /** Starts fetching from `queues`, never holding more than `prefetch` unsettled (0: no limit). */
  constructor(deps: ConsumerDeps, queues: QueueSpec[], prefetch: number) {
    this.#deps = deps;
    this.#queues = queues;
    this.#prefetch = prefetch;
    const names = queues.filter((q) => q.exchangeType !== "fanout").map((q) => q.name);
    this.#order = deps.options.queueOrderStrategy === "sorted" ? names.sort() : names;
    this.stream = new ReadableStream<Delivery>({
      start: () => {
        this.#loop = this.#run();
      },
      pull: (controller) => this.#pull(controller),
      cancel: () => this.stop(),
    }, { highWaterMark: 0 });
  }

  async #pull(controller: ReadableStreamDefaultController<Delivery>): Promise<void> {
    while (!this.#stopping && this.#buffer.length === 0) await this.#changed();
    const next = this.#buffer.shift();
    if (this.#stopping || !next) {
      if (next) this.#buffer.unshift(next);
      try {
        controller.close();
      } catch { /* already cancelled */ }
      return;
    }
    if (next.tag) this.#unsettled.add(next.tag);
    controller.enqueue(this.#delivery(next));
    this.#notify();
  }

  #delivery(fetched: Fetched): RedisDelivery {
    const { tag, decoded } = fetched;
    const fields = { ...decoded, queue: fetched.queue };
    if (!tag) return new RedisDelivery(fields, { ack: async () => {}, requeue: async () => {} });
    const ledger = this.#deps.ledger;
    const settle = () => {
      this.#unsettled.delete(tag);
      this.#notify();
    };
    return new RedisDelivery(fields, {
      ack: () => {
        settle();
        return ledger.ack(tag);
      },
      requeue: () => {
        settle();
        return ledger.putBack(tag, { leftmost: true, redelivered: true });
      },
    });
  }

  #capacity(): number {
    if (this.#prefetch <= 0) return MAX_BATCH - this.#buffer.length;
    return this.#prefetch - this.#buffer.length - this.#unsettled.size;
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Waits `ms`, or less when something changes (stop, settle). */
  async #pause(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#changed(), new Promise((r) => timer = setTimeout(r, ms))]);
    clearTimeout(timer);
  }

  async #run(): Promise<void> {
    let fast = true;
    let failures = 0;
    while (!this.#stopping) {
      try {
        if (!this.#started) await this.#start();
        if (this.#order.length === 0) return; // fanout queues only: the subscriber delivers
        if (this.#capacity() <= 0) {
          await this.#changed();
          continue;
        }
        if (fast && await this.#popBatch() > 0) continue;
        fast = await this.#popBlocking();
        failures = 0;
      } catch (error) {
        if (this.#stopping) break;
        if (failures++ === 0) log.warning(`Redis consumer: ${(error as Error).message}; retrying.`);
        fast = true;
        await this.#pause(Math.min(failures * 200, 2000));
      }
    }
  }

  async #start(): Promise<void> {
    await this.#deps.declare(this.#queues);
    const fanout = this.#queues.filter((q) => q.exchangeType === "fanout");
    if (fanout.length && !this.#subscriber) {
      this.#subscriber = await this.#deps.open("subscriber");
      await subscribeFanout(this.#subscriber, this.#deps.keys, fanout, (queue, decoded) => {
        this.#buffer.push({ decoded, queue });
        this.#notify();
      });
    }
    if (this.#order.length) this.#deps.ledger.start();
    this.#started = true;
  }

  #lists(): QueueList[] {
    return this.#deps.keys.consumeOrder(this.#order);
  }

  async #popBatch(): Promise<number> {
    const { keys, commands, options } = this.#deps;
    const lists = this.#lists();
    const count = Math.min(this.#capacity(), MAX_BATCH);
    const reply = await commands.popAndRecord(
      [keys.unacked, keys.unackedIndex, ...lists.flatMap((l) => [l.key, keys.deadList(l.queue)])],
      [count, Date.now() / 1000, options.ackEmulation ? "1" : "0"],
    ) as [number, string, string, string][];
    for (const [index, raw, tag, reason] of reply) {
      const list = lists[index - 1];
      if (reason) this.#reportMalformed(list.queue, reason);
      else await this.#accept(list, raw, tag);
    }
    return reply.length;
  }

  async #popBlocking(): Promise<boolean> {
    const blocking = await this.#blockingConnection();
    const lists = this.#lists();
    this.#blockingId ??= await blocking.clientId();
    if (this.#stopping) return false;
    this.#inBrpop = true;
    let reply: [string, string] | null;
    try {
      reply = await blocking.brpop(lists.map((l) => l.key), this.#deps.options.pollingInterval);
    } finally {
      this.#inBrpop = false;
    }
    if (!reply) return false;
    const list = lists.find((l) => l.key === reply[0]) ?? lists[0];
    await this.#accept(list, reply[1]);
    return true;
  }

  async #blockingConnection(): Promise<RedisConnection> {
    if (!this.#blocking) {
      this.#blocking = await this.#deps.open("blocking");
      this.#blocking.onReconnect(() => this.#blockingId = undefined);
    }
    return this.#blocking;
  }

  /**
   * Takes one popped element: records it in `unacked` (unless the batch pop,
   * which passes `recordedTag`, already did), decodes it and buffers it.
   */
  async #accept(list: QueueList, raw: string, recordedTag?: string): Promise<void> {
    const { ledger, keys, commands } = this.#deps;
    const parsed = parseEnvelope(raw);
    if (typeof parsed === "string") {
      // Lua's cjson accepted what JSON.parse refuses: move it out of `unacked` too.
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
    if (recordedTag) ledger.held.set(held.tag, held);
    else await ledger.record(held);
    const decoded = decodeEnvelope(parsed);
    if (typeof decoded === "string") {
      await ledger.quarantine(held, keys.deadList(list.queue));
      return this.#reportMalformed(list.queue, decoded);
    }
    this.#buffer.push({ tag: held.tag, decoded, queue: list.queue });
    if (this.#deps.options.queueOrderStrategy === "round_robin") {
      this.#order = [...this.#order.filter((q) => q !== list.queue), list.queue];
    }
    this.#notify();
  }

  #reportMalformed(queue: string, reason: string): void {
    const dead = this.#deps.keys.deadList(queue);
    log.warning(
      `Moved a malformed message from queue ${JSON.stringify(queue)} to list ` +
        `${JSON.stringify(dead)}: ${reason.replace(/^the element/, "it")}.`,
    );
  }

  /** Ends a BRPOP in progress; retries while the BRPOP has not reached Redis yet. */
  async #unblock(): Promise<void> {
    const deadline = Date.now() + 1000 * this.#deps.options.pollingInterval;
    while (this.#inBrpop && this.#blockingId !== undefined && Date.now() < deadline) {
      const unblocked = await this.#deps.commands.clientUnblock(this.#blockingId).catch(() => true);
      if (unblocked) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Stops fetching, puts back what was fetched but not handed out, closes its connections. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#notify();
    await this.#unblock();
    await this.#loop;
    const left = this.#buffer.reverse();
    this.#buffer = [];
    for (const fetched of left) {
      if (!fetched.tag) continue;
      await this.#deps.ledger.putBack(fetched.tag, { leftmost: false, redelivered: false })
        .catch((error) => log.error(`Could not put back ${fetched.tag}: ${error.message}`));
    }
    await this.#blocking?.close();
    await this.#subscriber?.close();
    this.#done.resolve();
  }

  /** Resolves once the consumer stopped (stream cancelled or broker closed). */
  get done(): Promise<void> {
    return this.#done.promise;
  }
}
