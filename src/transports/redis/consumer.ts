/**
 * The consume stream of the Redis broker. A fetch loop (fetch.ts) takes
 * messages while fewer than `prefetch` deliveries are unsettled and keeps
 * them in a buffer; the stream hands them out one per read. Cancelling the
 * stream ends a blocked BRPOP at once and puts messages that were fetched but
 * never handed out back where they came from; handed-out deliveries can still
 * be settled.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { getLogger } from "../../log.ts";
import type { Delivery, QueueSpec } from "../../broker/types.ts";
import { DeliveryWindow } from "../delivery_window.ts";
import { subscribeFanout } from "./fanout.ts";
import { type Fetched, ListFetcher } from "./fetch.ts";
import type { RedisConnection } from "./facade.ts";
import type { KombuKeys } from "./keys.ts";
import type { RedisTransportOptions } from "./options.ts";
import type { UnackedLedger } from "./unacked.ts";

const log = getLogger("redis");
const MAX_BATCH = 100;
/** How long the fetch loop waits for more of the window to free up (see `#fewFree`). */
const LINGER_MS = 1;
/** How often a consumer thread with deliveries out polls an empty queue (see `#mayBlock`). */
const BUSY_POLL_MS = 20;

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
  /** A longer list element is moved to the dead list unparsed. */
  maxElementLength?: number;
}

/** One `consume()` call: its fetch loop and its stream. */
export class RedisConsumer {
  /** The deliveries. */
  readonly stream: ReadableStream<Delivery>;
  readonly #done = Promise.withResolvers<void>();
  readonly #deps: ConsumerDeps;
  readonly #queues: QueueSpec[];
  readonly #prefetch: number;
  readonly #fetcher: ListFetcher;
  #buffer: Fetched[] = [];
  /** Deliveries out, by delivery tag. */
  readonly #window: DeliveryWindow<string>;
  #waiters: (() => void)[] = [];
  #stopping = false;
  #stopped?: Promise<void>;
  #loop: Promise<void> = Promise.resolve();
  #started = false;
  #subscriber?: RedisConnection;

  /** Starts fetching from `queues`, never holding more than `prefetch` unsettled (0: no limit). */
  constructor(deps: ConsumerDeps, queues: QueueSpec[], prefetch: number) {
    this.#deps = deps;
    this.#queues = queues;
    this.#prefetch = prefetch;
    this.#window = new DeliveryWindow(prefetch, { changed: () => this.#notify() });
    const names = queues.filter((q) => q.exchangeType !== "fanout").map((q) => q.name);
    this.#fetcher = new ListFetcher(deps, names);
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
    controller.enqueue(this.#delivery(next));
    this.#notify();
  }

  #delivery(fetched: Fetched): Delivery {
    const { tag, decoded } = fetched;
    const fields = { ...decoded, queue: fetched.queue };
    if (!tag) {
      const none = () => Promise.resolve();
      // A fanout message: nothing to settle, and out of the window (kombu does not count it).
      return new DeliveryWindow(0).handOut(fields, { ack: none, requeue: none, drop: none }, tag);
    }
    const ledger = this.#deps.ledger;
    return this.#window.handOut(fields, {
      ack: () => ledger.ack(tag),
      drop: () => ledger.ack(tag), // kombu drops a rejected message
      requeue: () => ledger.putBack(tag, { leftmost: true, redelivered: true }),
    }, tag);
  }

  /** Deliveries counted against the window: buffered, or handed out and not settled nor held. */
  #inWindow(): number {
    return this.#buffer.length + this.#window.counted;
  }

  #capacity(): number {
    if (this.#prefetch <= 0) return MAX_BATCH - this.#buffer.length;
    return this.#window.room(this.#buffer.length);
  }

  /**
   * Whether the loop may wait in a BRPOP now. Not in a consumer thread
   * (`UnackedLedger.ownerKey` set) while it has deliveries out: its thread
   * may be running a task that never yields, and a message BRPOP took
   * meanwhile would be in no bookkeeping (popped, its reply unread) if the
   * thread were then stopped; it polls without blocking instead (the
   * batch pop records atomically).
   */
  #mayBlock(): boolean {
    return this.#deps.ledger.ownerKey === undefined || this.#window.out === 0;
  }

  /**
   * True when less than half the window is free while deliveries are still
   * unsettled: the fetch loop then lingers once for up to LINGER_MS, so that
   * under load one round trip fetches several messages instead of one.
   */
  #fewFree(): boolean {
    return this.#inWindow() > 0 && this.#capacity() < Math.ceil(this.#prefetch / 2);
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
    let lingerUntil: number | undefined;
    let toTurnEnd = false;
    while (!this.#stopping) {
      try {
        if (!this.#started) await this.#start();
        if (!this.#fetcher.active) return; // fanout queues only: the subscriber delivers
        if (this.#capacity() <= 0) {
          await this.#changed();
          continue;
        }
        if (this.#fewFree()) {
          // Under load: wait until half the window is free, for LINGER_MS at most.
          lingerUntil ??= performance.now() + LINGER_MS;
          const left = lingerUntil - performance.now();
          if (left > 0) {
            await this.#pause(left);
            continue;
          }
        }
        lingerUntil = undefined;
        if (!toTurnEnd && this.#inWindow() > 0) {
          // Under load: fetch at the end of this turn, with the acks its runs made (see `takeAcks`).
          toTurnEnd = true;
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        toTurnEnd = false;
        const batch: Fetched[] = fast
          ? await this.#fetcher.popBatch(Math.min(this.#capacity(), MAX_BATCH))
          : [];
        if (!batch.length && !this.#mayBlock()) {
          await this.#pause(BUSY_POLL_MS);
          fast = true;
          continue;
        }
        const fetched = batch.length ? batch : await this.#fetcher.popBlocking();
        if (fetched) {
          this.#buffer.push(...fetched);
          this.#notify();
        }
        fast = batch.length > 0 || fetched !== undefined;
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
    if (this.#fetcher.active) this.#deps.ledger.start();
    this.#started = true;
  }

  /** Stops fetching, puts back what was fetched but not handed out, closes its connections. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#notify();
    await this.#fetcher.unblock();
    await this.#loop;
    const left = this.#buffer.reverse();
    this.#buffer = [];
    for (const fetched of left) {
      if (!fetched.tag) continue;
      await this.#deps.ledger.putBack(fetched.tag, { leftmost: false, redelivered: false })
        .catch((error) => log.error(`Could not put back ${fetched.tag}: ${error.message}`));
    }
    await this.#fetcher.close();
    await this.#subscriber?.close();
    this.#done.resolve();
  }

  /** Resolves once the consumer stopped (stream cancelled or broker closed). */
  get done(): Promise<void> {
    return this.#done.promise;
  }
}
