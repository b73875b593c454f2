/**
 * The worker: connects, starts the pool, prints the banner, consumes the
 * queues and hands each delivery to the `TaskHandler`; stops warm (finish
 * running tasks, give back the rest) or cold (terminate running tasks).
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import { expandNodeName, hostName } from "../app/node_name.ts";
import { consumedQueues } from "../app/routing.ts";
import { sendSignal } from "../app/signals.ts";
import { maskUrl } from "../app/mask_url.ts";
import { holdProcess } from "../app/process_hold.ts";
import { connectAtStartup } from "../app/startup_connect.ts";
import type { ResolvedConfig } from "../app/config.ts";
import { defaultEmbeddedUrl } from "../app/embedded_default.ts";
import { sqliteFilePath } from "../transports/sqlite/location.ts";
import type { Broker, Delivery, QueueSpec } from "../broker/types.ts";
import type { ResultBackend } from "../backend/types.ts";
import { ConfigurationError } from "../errors.ts";
import { getLogger, type LogLevel } from "../log.ts";
import { runBeat } from "../beat/service.ts";
import { workerBanner } from "./banner.ts";
import { InlinePool } from "./pool/inline_pool.ts";
import type { AppLocation } from "./pool/messages.ts";
import type { Pool, PoolKind } from "./pool/types.ts";
import { ThreadPool } from "./pool/thread_pool.ts";
import { TaskHandler } from "./task_handler.ts";
import { defaultHoldLimitMs } from "./eta_plan.ts";
import { WorkerPresence } from "./presence.ts";
import { ConsumerSupervisor } from "./consumer_threads/supervisor.ts";
import { settingsForThreads } from "./consumer_threads/settings_snapshot.ts";
import { startHeapTrim } from "./heap_trim.ts";

/**
 * Whether the default pool is `threads` on this broker. Not on `memory://`,
 * which lives in one thread, nor on the embedded SQLite broker: there each
 * thread's claims and acks are write transactions on the one file, and two
 * consumer threads drained 3,400 tasks/s where the workers pool drains 7,400
 * (docs/threads_pool.md).
 */
function threadsByDefault(broker: Broker): boolean {
  return broker.capabilities.crossProcess && !broker.url.startsWith("sqlite:");
}

/** Options of a worker (the CLI's flags, or `app.worker(options)`). */
export interface WorkerOptions {
  /** Number of concurrent tasks (`-c`); default `worker_concurrency`, else the CPU count. */
  concurrency?: number;
  /**
   * Pool (`-P`): `threads` (default: threads that consume for themselves,
   * supervised by the main thread; on `memory://`, which lives in one
   * thread, and on the embedded SQLite broker the default is `workers`),
   * `workers` (the main thread consumes and hands each task to a thread),
   * `async` or `solo`.
   */
  pool?: PoolKind;
  /** Queues to consume (`-Q a,b`); default every `task_queues` entry, else the default queue. */
  queues?: string[];
  /** Node name (`-n`), `%h` is the host name; default `celery@%h`. */
  hostname?: string;
  /** Log level, which decides whether `[tasks]` is shown in the banner. */
  logLevel?: LogLevel;
  /** Where worker threads import the app from; default the module that created the app. */
  appLocation?: AppLocation;
  /** Print the banner to stdout (default true). */
  banner?: boolean;
  /** Run beat inside the worker (`-B`). */
  beat?: boolean;
  /** Beat's schedule file (`--schedule`). */
  scheduleFile?: string;
  /**
   * Longest time, in seconds, a message waiting for its ETA is held unacked
   * (see `eta_plan.ts`); overrides the `worker_eta_hold_limit` setting.
   * Default: 900 on RabbitMQ (half its default `consumer_timeout`), 60 on
   * SQLite and memory (longer ETAs are parked in the broker), unbounded on
   * Redis (held messages stay visible).
   */
  etaHoldLimit?: number;
  /** Send task events (`-E`); default `worker_send_task_events`. Worker events are always sent. */
  events?: boolean;
  /**
   * Ask running workers for their revoked ids at start (Celery's mingle,
   * up to 1 s). Default: on for `celeriac worker` (`--without-mingle` turns it
   * off), off for workers started from code.
   */
  mingle?: boolean;
  /** File the revoked ids are kept in (`--statedb`); default `worker_state_db`. */
  stateDb?: string;
  /** Seconds between heartbeat events (default 2). */
  heartbeatInterval?: number;
}

/** A running (or stopped) worker. */
export class CeleryWorker {
  /** Node name, such as `celery@host`. */
  readonly hostname: string;
  /** Resolves when the worker has stopped and settled every delivery. */
  readonly finished: Promise<void>;
  readonly #app: Celery;
  readonly #options: WorkerOptions;
  readonly #logger = getLogger("worker");
  #pool?: Pool;
  #supervisor?: ConsumerSupervisor;
  #handler?: TaskHandler;
  #reader?: ReadableStreamDefaultReader<Delivery>;
  #consuming?: Promise<void>;
  #beat?: { stop: AbortController; done: Promise<void> };
  #stopping?: Promise<void>;
  #markFinished!: () => void;
  #queues: QueueSpec[] = [];
  #failure?: Error;
  readonly #startAborted = new AbortController();
  #presence?: WorkerPresence;
  /** Queues added by the `add_consumer` command, each with its own stream. */
  readonly #added = new Map<
    string,
    { queue: QueueSpec; reader: ReadableStreamDefaultReader<Delivery>; done: Promise<void> }
  >();
  #prefetch = 0;

  /** Prepares a worker; nothing connects before `start()`. */
  constructor(app: Celery, options: WorkerOptions = {}) {
    this.#app = app;
    this.#options = options;
    this.hostname = expandNodeName(options.hostname ?? `celery@${hostName()}`);
    this.finished = new Promise((resolve) => (this.#markFinished = resolve));
  }

  /**
   * Why the worker stopped on its own, when it did: its consumer failed in a
   * way it cannot recover from (the broker gone past
   * `broker_connection_max_retries`). The CLI then exits non-zero.
   */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** The queues consumed. */
  get queues(): readonly QueueSpec[] {
    return this.#queues;
  }

  /**
   * Connects, starts the pool and consumes; resolves once the worker is
   * ready. The worker keeps the process alive until it has stopped.
   */
  async start(): Promise<void> {
    const release = holdProcess();
    this.finished.then(release);
    try {
      await this.#start();
    } catch (error) {
      release();
      throw error;
    }
  }

  async #start(): Promise<void> {
    startHeapTrim();
    const app = this.#app;
    await app.importDefaultModules(); // `imports` / `include`: their tasks register first
    const config = app.finalize().conf.resolve();
    let kind = this.#options.pool ?? config.worker_pool;
    if (!["workers", "threads", "async", "solo"].includes(kind)) {
      throw new ConfigurationError(
        `Unknown pool ${
          JSON.stringify(kind)
        }: accepted pools are workers, threads, async and solo.`,
      );
    }
    const concurrency = this.#options.concurrency ?? config.worker_concurrency ??
      navigator.hardwareConcurrency;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new ConfigurationError(
        `Invalid concurrency ${JSON.stringify(concurrency)}: expected a whole number of 1 or more.`,
      );
    }
    const holdLimit = this.#options.etaHoldLimit ?? config.worker_eta_hold_limit ?? undefined;
    if (holdLimit !== undefined && !(holdLimit > 0)) {
      throw new ConfigurationError(
        `Invalid etaHoldLimit: ${holdLimit}. Accepted: a number of seconds above 0.`,
      );
    }
    this.#queues = consumedQueues(this.#options.queues ?? [], config);
    const broker = await this.#connect(() => app.getBroker(), app.brokerUrl(), config);
    const backendUrl = app.backendUrl();
    const backend = broker && backendUrl
      ? await this.#connect(() => app.getBackend(), backendUrl, config)
      : undefined;
    if (!broker || (backendUrl && !backend)) return; // stopped while waiting for a server
    if (kind === "threads" && !this.#options.pool && !threadsByDefault(broker)) {
      this.#logger.info(`The workers pool runs the tasks on ${maskUrl(broker.url)}`);
      kind = "workers";
    }
    if (kind === "threads") {
      return await this.#startThreads(config, broker, backend, concurrency, holdLimit);
    }
    const retryDefaults = {
      defaultRetryDelay: config.task_default_retry_delay,
      maxRetries: config.task_max_retries,
    };
    const lookup = (name: string) => app.tasks.get(name);
    const logLevel = this.#options.logLevel ?? "WARNING";
    const pool: Pool = kind === "workers"
      ? new ThreadPool({
        size: concurrency,
        app: this.#options.appLocation ?? this.#defaultLocation(),
        logLevel,
        retryDefaults,
        maxTasksPerChild: config.worker_max_tasks_per_child,
        maxMemoryPerChild: config.worker_max_memory_per_child,
        logger: this.#logger,
      })
      : new InlinePool({ kind, size: concurrency, lookup, retryDefaults, logger: this.#logger });
    await pool.start();
    this.#pool = pool;
    const presence = this.#createPresence(config, broker, pool);
    this.#handler = new TaskHandler({
      tracker: presence.tracker,
      config,
      lookup,
      taskNames: app.tasks.names(),
      holdLimitMs: holdLimit === undefined ? defaultHoldLimitMs(broker) : holdLimit * 1000,
      pool,
      broker,
      backend,
      hostname: this.hostname,
      signals: app,
      logger: this.#logger,
    });
    if (this.#options.banner ?? true) {
      this.#printBanner(pool, logLevel === "DEBUG" || logLevel === "INFO");
    }
    // Declared before "ready.", so a message published by a client that does
    // not declare queues is not dropped as unroutable.
    for (const queue of this.#queues) await broker.declareQueue(queue);
    this.#logger.info(`Connected to ${maskUrl(app.brokerUrl())}`);
    await presence.start();
    const multiplier = config.worker_prefetch_multiplier;
    this.#prefetch = multiplier > 0 ? pool.size * multiplier : 0;
    const stream = broker.consume({ queues: this.#queues, prefetch: this.#prefetch });
    this.#reader = stream.getReader();
    this.#consuming = this.#consume(this.#reader);
    if (this.#options.beat) this.#startBeat();
    this.#logger.info(`${this.hostname} ready.`);
    sendSignal(app, "worker_ready", { sender: this.hostname });
  }

  /**
   * The `threads` pool: the main thread declares the queues, answers for the
   * worker (banner, presence, beat) and supervises threads that consume for
   * themselves (`consumer_threads/`); it handles no delivery.
   */
  async #startThreads(
    config: ResolvedConfig,
    broker: Broker,
    backend: ResultBackend | undefined,
    concurrency: number,
    holdLimit: number | undefined,
  ): Promise<void> {
    const app = this.#app;
    if (!broker.capabilities.crossProcess) {
      throw new ConfigurationError(
        `The threads pool needs a broker its threads can each connect to; ${
          maskUrl(app.brokerUrl())
        } lives in one thread. Use the workers pool with it.`,
      );
    }
    const logLevel = this.#options.logLevel ?? "WARNING";
    const multiplier = config.worker_prefetch_multiplier;
    this.#prefetch = multiplier > 0 ? concurrency * multiplier : 0;
    for (const queue of this.#queues) await broker.declareQueue(queue);
    const supervisor = new ConsumerSupervisor({
      size: concurrency,
      slots: 1,
      app: this.#options.appLocation ?? this.#defaultLocation(),
      settings: settingsForThreads(app),
      hostname: this.hostname,
      queues: this.#queues,
      prefetch: multiplier > 0 ? multiplier : 0,
      logLevel,
      taskEvents: this.#options.events ?? config.worker_send_task_events,
      holdLimitMs: holdLimit === undefined ? defaultHoldLimitMs(broker) : holdLimit * 1000,
      broker,
      backend,
      taskNames: app.tasks.names(),
      revoked: () => this.#presence?.tracker.revoked.ids() ?? [],
      logger: this.#logger,
    });
    supervisor.onFailure((message) => this.#consumerFailed(new Error(message)));
    const presence = this.#createPresence(config, broker, supervisor);
    if (this.#options.banner ?? true) {
      this.#printBanner(supervisor, logLevel === "DEBUG" || logLevel === "INFO");
    }
    this.#logger.info(`Connected to ${maskUrl(app.brokerUrl())}`);
    await presence.start(); // mingle first: the threads start with the revoked ids it brings
    await supervisor.start();
    this.#supervisor = supervisor;
    if (this.#options.beat) this.#startBeat();
    this.#logger.info(`${this.hostname} ready.`);
    sendSignal(app, "worker_ready", { sender: this.hostname });
  }

  /** Connects as Celery does at start-up: retries a server that is not up yet. */
  #connect<T>(
    connect: () => Promise<T>,
    url: string,
    config: ResolvedConfig,
  ): Promise<T | undefined> {
    return connectAtStartup(connect, {
      target: maskUrl(url),
      config,
      component: "consumer",
      logError: (message) => this.#logger.error(message),
      signal: this.#startAborted.signal,
    });
  }

  /** Events, heartbeats, remote control and revocations (`presence.ts`). */
  #createPresence(
    config: ResolvedConfig,
    broker: Broker,
    pool: Pool | ConsumerSupervisor,
  ): WorkerPresence {
    const supervisor = pool instanceof ConsumerSupervisor ? pool : undefined;
    if (this.#options.stateDb) this.#app.conf.update({ worker_state_db: this.#options.stateDb });
    this.#presence = new WorkerPresence({
      app: this.#app,
      hostname: this.hostname,
      broker,
      config: this.#app.conf.resolve(),
      logger: this.#logger,
      pool,
      taskEvents: this.#options.events ?? config.worker_send_task_events,
      mingle: (this.#options.mingle ?? false) && broker.capabilities.crossProcess,
      heartbeatInterval: this.#options.heartbeatInterval,
      queues: () => [...this.#queues, ...[...this.#added.values()].map((added) => added.queue)],
      prefetchCount: () => this.#prefetch,
      addConsumer: (queue) => this.#addConsumer(queue),
      cancelConsumer: (name) => this.#cancelConsumer(name),
      setRateLimit: (name, perSecond) => {
        this.#handler?.setRateLimit(name, perSecond);
        supervisor?.setRateLimit(name, perSecond);
      },
      revoked: supervisor
        ? (ids, terminate, signal) => supervisor.revoke(ids, terminate, signal)
        : undefined,
      counts: supervisor
        ? () => ({ active: supervisor.active, processed: supervisor.processed })
        : undefined,
      taskEventsChanged: (on) => supervisor?.setTaskEvents(on),
      requestsElsewhere: supervisor ? (phase) => supervisor.requests(phase) : undefined,
      activeElsewhere: supervisor
        ? () =>
          supervisor.runs().map((run) => ({
            id: run.id,
            name: run.task,
            args: run.args ?? null,
            kwargs: run.kwargs ?? null,
            type: run.task,
            hostname: this.hostname,
            time_start: run.startedAt / 1000,
            acknowledged: !run.acksLate,
            delivery_info: run.deliveryInfo
              ? {
                exchange: run.deliveryInfo.exchange,
                routing_key: run.deliveryInfo.routingKey,
                priority: run.deliveryInfo.priority,
                redelivered: run.deliveryInfo.redelivered,
              }
              : null,
            worker_pid: Deno.pid,
          }))
        : undefined,
      shutdown: () => void this.stop("warm"),
    });
    return this.#presence;
  }

  /**
   * `add_consumer`: consumes one more queue, on its own stream (the threads
   * pool: every thread consumes it too).
   */
  async #addConsumer(queue: QueueSpec): Promise<boolean> {
    if (this.#stopping) return false;
    if (this.#queues.some((q) => q.name === queue.name) || this.#added.has(queue.name)) {
      return false;
    }
    const broker = await this.#app.getBroker();
    await broker.declareQueue(queue);
    if (this.#supervisor) {
      this.#queues = [...this.#queues, queue];
      await this.#supervisor.setQueues(this.#queues);
      this.#logger.info(`Started consuming from ${queue.name}`);
      return true;
    }
    const reader = broker.consume({ queues: [queue], prefetch: this.#prefetch }).getReader();
    this.#added.set(queue.name, { queue, reader, done: this.#consume(reader) });
    this.#logger.info(`Started consuming from ${queue.name}`);
    return true;
  }

  /** `cancel_consumer`: stops consuming a queue (the others restart on a new stream). */
  async #cancelConsumer(name: string): Promise<boolean> {
    const added = this.#added.get(name);
    if (added) {
      this.#added.delete(name);
      await added.reader.cancel().catch(() => {});
      await added.done;
      return true;
    }
    if (!this.#queues.some((q) => q.name === name) || this.#stopping) return false;
    this.#queues = this.#queues.filter((q) => q.name !== name);
    if (this.#supervisor) {
      await this.#supervisor.setQueues(this.#queues);
      return true;
    }
    await this.#reader?.cancel().catch(() => {});
    await this.#consuming;
    if (this.#stopping || this.#queues.length === 0) return true;
    const broker = await this.#app.getBroker();
    this.#reader = broker.consume({ queues: this.#queues, prefetch: this.#prefetch }).getReader();
    this.#consuming = this.#consume(this.#reader);
    return true;
  }

  #defaultLocation(): AppLocation {
    const moduleUrl = this.#app.definedIn;
    if (!moduleUrl) {
      throw new ConfigurationError(
        "The workers pool cannot tell which module defines the app: pass " +
          "{ appLocation: { moduleUrl: import.meta.url, main } } or use pool async/solo.",
      );
    }
    return { moduleUrl, main: this.#app.main };
  }

  #printBanner(pool: Pool | ConsumerSupervisor, showTasks: boolean): void {
    const app = this.#app;
    const brokerUrl = app.brokerUrl();
    const embedded = brokerUrl === defaultEmbeddedUrl() ? sqliteFilePath(brokerUrl) : undefined;
    const text = workerBanner({
      hostname: this.hostname,
      app: String(app).replace(/^<Celery (\S+) at (\S+)>$/, "$1:$2"),
      transport: maskUrl(brokerUrl),
      results: app.backendUrl() ? maskUrl(app.backendUrl()!) : "disabled://",
      embeddedData: embedded,
      concurrency: pool.size,
      pool: pool.kind,
      queues: this.#queues,
      tasks: app.tasks.names(),
      showTasks,
      taskEvents: this.#presence?.events.taskEvents,
    });
    console.log(" \n" + text);
  }

  async #consume(reader: ReadableStreamDefaultReader<Delivery>): Promise<void> {
    const handler = this.#handler!;
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) return;
        handler.handle(value);
      }
    } catch (error) {
      this.#consumerFailed(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** A consumer failed for good (the broker gone past its retries): the worker stops, and says why. */
  #consumerFailed(error: Error): void {
    if (this.#stopping) return;
    this.#failure = error;
    this.#logger.critical(`Consumer stopped: ${error}`);
    void this.stop("warm");
  }

  #startBeat(): void {
    const stop = new AbortController();
    const done = runBeat(this.#app, {
      signal: stop.signal,
      scheduleFile: this.#options.scheduleFile,
    })
      .catch((error) => this.#logger.error(`beat stopped: ${error}`));
    this.#beat = { stop, done };
  }

  /**
   * Stops. Warm: stop consuming, give back prefetched and ETA-held messages,
   * let running tasks finish and store their results. Cold: also terminate
   * running tasks. A second call can turn a warm stop cold.
   */
  stop(mode: "warm" | "cold" = "warm"): Promise<void> {
    this.#startAborted.abort();
    if (mode === "cold" && this.#supervisor) void this.#supervisor.terminate();
    if (mode === "cold" && this.#pool) {
      this.#handler?.beginColdShutdown();
      void this.#pool.terminate();
    }
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    sendSignal(this.#app, "worker_shutdown", { sender: this.hostname });
    this.#beat?.stop.abort();
    await this.#reader?.cancel().catch(() => {});
    await this.#consuming;
    for (const added of this.#added.values()) await added.reader.cancel().catch(() => {});
    await Promise.all([...this.#added.values()].map((added) => added.done));
    this.#handler?.releaseHeld();
    this.#pool?.cancelPending();
    await this.#handler?.drain();
    await this.#pool?.close();
    await this.#supervisor?.close();
    await this.#presence?.stop();
    await this.#beat?.done;
    this.#markFinished();
  }
}
