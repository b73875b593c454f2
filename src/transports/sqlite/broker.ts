/**
 * The embedded broker, `sqlite:///absolute/path.sqlite3` (or
 * `sqlite://relative/path.sqlite3`): celeriac's zero-setup default. Queues
 * live in one SQLite file, shared by every process on the machine that opens
 * it (a worker in one terminal, a client in another), and no queued task is
 * lost when a worker restarts or is killed.
 *
 * Delivery uses leases: a consumer claims rows for `visibility_timeout`
 * seconds (`broker_transport_options.visibility_timeout`, default 30) and
 * renews the lease every third of it while it holds them, so a worker killed
 * with SIGKILL gives its messages back at most one lease later. An idle
 * consumer polls (`PRAGMA data_version` makes an idle poll nearly free),
 * starting fast and backing off to `polling_interval` seconds (default 0.05).
 *
 * @module
 */

import type { ResolvedConfig } from "../../app/config.ts";
import { BrokerConnectionError, ConfigurationError } from "../../errors.ts";
import { getLogger } from "../../log.ts";
import type {
  Broker,
  BrokerCapabilities,
  BrokerFactory,
  ConsumeOptions,
  Delivery,
  PublishTarget,
  QueueSpec,
  UnsettledRegistry,
  WireMessage,
} from "../../broker/types.ts";
import { WriteBatcher } from "./database.ts";
import { SqlitePoller } from "./poller.ts";
import { QueueStore } from "./queue_store.ts";
import { type ConsumerHost, SqliteConsumer } from "./sqlite_consumer.ts";

export { defaultEmbeddedUrl } from "./location.ts";

const log = getLogger("celeriac.broker.sqlite");

/** What the embedded SQLite broker can do. */
export const SQLITE_BROKER_CAPABILITIES: BrokerCapabilities = Object.freeze({
  priorities: "higher-first",
  fanout: true,
  delayedDelivery: true,
  crossProcess: true,
  persistent: true,
  deadLetter: true,
  maxUnackedMs: null,
});

/** Default lease of a claimed message, in seconds. */
export const DEFAULT_VISIBILITY_TIMEOUT = 30;
/** Default longest wait between two polls of an idle consumer, in seconds. */
export const DEFAULT_POLLING_INTERVAL = 0.05;

function secondsOption(options: Record<string, unknown>, key: string, fallback: number): number {
  const value = options[key] ?? fallback;
  if (typeof value !== "number" || !(value > 0)) {
    throw new ConfigurationError(
      `Invalid broker_transport_options.${key} ${JSON.stringify(value)}: expected seconds > 0.`,
    );
  }
  return value;
}

/** A connection to the embedded broker file. */
export class SqliteBroker implements Broker, ConsumerHost {
  readonly url: string;
  readonly capabilities: BrokerCapabilities = SQLITE_BROKER_CAPABILITIES;
  readonly store: QueueStore;
  readonly batcher: WriteBatcher;
  readonly holder = `${Deno.pid}-${crypto.randomUUID()}`;
  readonly leaseMs: number;
  readonly #poller: SqlitePoller;
  readonly #consumers = new Set<SqliteConsumer>();
  readonly #declared = new Set<string>();
  #renewTimer?: ReturnType<typeof setInterval>;
  #closed = false;

  /** Opens the file of `url`; reads `visibility_timeout` and `polling_interval` from `transportOptions`. */
  constructor(url: string, transportOptions: Record<string, unknown> = {}) {
    this.url = url;
    this.leaseMs =
      secondsOption(transportOptions, "visibility_timeout", DEFAULT_VISIBILITY_TIMEOUT) * 1000;
    const maxPollMs =
      secondsOption(transportOptions, "polling_interval", DEFAULT_POLLING_INTERVAL) * 1000;
    this.store = new QueueStore(url);
    this.batcher = new WriteBatcher(
      this.store.db,
      (error) => log.error(`Settling a message failed; it will be redelivered: ${error}`),
    );
    this.#poller = new SqlitePoller(this.store, maxPollMs, Math.min(1000, this.leaseMs / 2));
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  async publish(message: WireMessage, target: PublishTarget): Promise<void> {
    this.#assertOpen();
    const declare = target.queue && !this.#declared.has(target.queue.name) ? target.queue : null;
    await this.batcher.write(() => {
      if (declare) this.store.declare(declare);
      this.store.insert(message, target);
    });
    if (declare) this.#declared.add(declare.name);
    this.localChange();
  }

  consume(options: ConsumeOptions): ReadableStream<Delivery> {
    this.#assertOpen();
    for (const queue of options.queues) this.store.declare(queue);
    const names = [...new Set(options.queues.map((q) => q.name))];
    const consumer = new SqliteConsumer(this, names, options.prefetch);
    this.#consumers.add(consumer);
    return consumer.stream;
  }

  /** Every lease this instance takes carries its holder id: one key names them all. */
  trackUnsettled(registry: UnsettledRegistry): void {
    registry.add(this.holder);
  }

  /** Releases every lease of the holders `keys` names (their instances are gone). */
  async restoreUnsettled(keys: string[]): Promise<number> {
    this.#assertOpen();
    let restored = 0;
    await this.batcher.write(() => {
      for (const holder of keys) restored += this.store.releaseAll(holder);
    });
    if (restored) this.localChange();
    return restored;
  }

  async declareQueue(queue: QueueSpec): Promise<void> {
    this.#assertOpen();
    await this.batcher.write(() => this.store.declare(queue));
    this.#declared.add(queue.name);
  }

  messageCount(queue: string): Promise<number> {
    if (this.#closed) return Promise.reject(this.#closedError());
    return Promise.resolve(this.store.count(queue, Date.now()));
  }

  /** Deletes every message of the queue that no consumer holds, delayed ones included. */
  async purge(queue: string): Promise<number> {
    this.#assertOpen();
    let purged = 0;
    await this.batcher.write(() => purged = this.store.purge(queue, Date.now()));
    return purged;
  }

  waitForMessages(consumer: SqliteConsumer, version: number, dueAt?: number): void {
    this.#poller.wait(consumer, version, dueAt);
  }

  holding(): void {
    this.#renewTimer ??= setInterval(() => this.#renew(), this.leaseMs / 3);
  }

  localChange(): void {
    if (!this.#closed) this.#poller.wakeAll();
  }

  /** Ends consume streams, gives back every message this connection holds, closes the file. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#poller.stop();
    clearInterval(this.#renewTimer);
    const held = [...this.#consumers].flatMap((consumer) => consumer.close());
    this.#consumers.clear();
    try {
      if (held.length > 0) {
        void this.batcher.write(() => {
          for (const [id, handedOut] of held) this.store.release(id, this.holder, handedOut);
        });
      }
      this.batcher.flush();
    } finally {
      this.store.db.close();
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #renew(): void {
    const holding = [...this.#consumers].reduce((sum, c) => sum + c.holdingCount, 0);
    if (holding === 0) {
      clearInterval(this.#renewTimer);
      this.#renewTimer = undefined;
      return;
    }
    try {
      this.store.renew(this.holder, Date.now() + this.leaseMs);
    } catch (error) {
      log.warning(`Renewing message leases failed (will retry): ${error}`);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw this.#closedError();
  }

  #closedError(): BrokerConnectionError {
    return new BrokerConnectionError(`Cannot use the broker ${this.url}: it is closed.`);
  }
}

/**
 * Opens the embedded SQLite broker for `url` (see the module docs for the
 * transport options it reads).
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS } from "../../app/settings.ts";
 * const dir = await Deno.makeTempDir();
 * const broker = await createBroker(`sqlite://${dir}/broker.sqlite3`, DEFAULT_SETTINGS);
 * console.log(await broker.messageCount("celery")); // 0
 * await broker.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export const createBroker: BrokerFactory = (url: string, config: ResolvedConfig) =>
  Promise.resolve(new SqliteBroker(url, config.broker_transport_options));
