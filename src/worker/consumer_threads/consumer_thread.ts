/**
 * The code each thread of the `threads` pool runs: a complete consumer. It
 * imports the app module, applies the supervisor's settings, opens its own
 * broker and backend connections, and consumes its share of the prefetch
 * window; decode, run (`slot_pool.ts`), result store, ack, retries and canvas
 * steps all happen here, through the same `TaskHandler` as every pool, with
 * no message to or from the supervisor per task. Task events are sent from
 * here too, under the worker's node name. Signals (`task_prerun`,
 * `task_success`, …) fire on this thread, so listeners registered at module
 * level in the app module run here.
 *
 * The message listener is set before anything is awaited, so no message is
 * lost.
 *
 * @module
 */

import { parentPort } from "node:worker_threads";
import type { Celery } from "../../app/celery.ts";
import type { ResolvedConfig } from "../../app/settings.ts";
import type { Broker, Delivery, QueueSpec } from "../../broker/types.ts";
import type { ResultBackend } from "../../backend/types.ts";
import { EventDispatcher } from "../../events/dispatcher.ts";
import { eventExchange } from "../../events/topology.ts";
import { getLogger, setupLogging } from "../../log.ts";
import { findApp } from "../pool/find_app.ts";
import { RevokedSet } from "../revoked_set.ts";
import { TaskHandler } from "../task_handler.ts";
import { TaskTracker } from "../task_tracker.ts";
import {
  type ConsumerInit,
  type EndedRun,
  type FromConsumer,
  runKey,
  type ToConsumer,
} from "./messages.ts";
import { SlotPool } from "./slot_pool.ts";
import { UnsettledTable } from "./unsettled_table.ts";
import { RecordingDelivery } from "./recording_delivery.ts";
import { RunningTable } from "./running_table.ts";
import { SettledRing } from "./settled_ring.ts";
import { SharedBuckets } from "./shared_token_bucket.ts";
import { startHeapTrim } from "../heap_trim.ts";
import { reservedInfo, scheduledInfo } from "../control_commands.ts";

const port = parentPort!;
startHeapTrim();
const log = getLogger("worker");
/** Deliveries the task handler is still handling, by task id (until reported and settled). */
const handlings = new Map<string, Promise<void>>();
/** Questions to the supervisor about redelivered messages, by `runKey`. */
const endedQueries = new Map<string, PromiseWithResolvers<EndedRun | null>>();
/** Longest a redelivered message waits for the supervisor to report a run of it on a lost thread. */
const SLOT_WAIT_MS = 10_000;
/** How long a run may keep the messages waiting behind it while another thread has a free slot. */
const GIVE_BACK_AFTER_MS = 5;

interface Running {
  app: Celery;
  broker: Broker;
  backend?: ResultBackend;
  pool: SlotPool;
  handler: TaskHandler;
  tracker: TaskTracker;
  events: EventDispatcher;
  reader: ReadableStreamDefaultReader<Delivery>;
  consuming: Promise<void>;
  /** Whether another thread has a free slot (then waiting runs are given back). */
  giveBack: () => boolean;
  /** Opens a new consume stream. */
  open: () => ReadableStreamDefaultReader<Delivery>;
  /** Consuming is paused by `balance()`. */
  paused: boolean;
  settled: SettledRing;
}

let running: Running | undefined;
let stopping: Promise<void> | undefined;
let tasksRun = 0;
/** The worker's node name (request-info for `inspect reserved` / `scheduled`). */
let hostname = "";
/** The queues consumed (from `init`, then `add_consumer` / `cancel_consumer`). */
let queues: QueueSpec[] = [];
/** Task events on (from `init`, then `enable_events` / `disable_events`). */
let taskEvents = false;
let balancing: ReturnType<typeof setInterval> | undefined;

function send(message: FromConsumer): void {
  port.postMessage(message);
}

/** Asks the supervisor how the run of a message (`runKey`) ended on a thread that is gone, if it did. */
function askEnded(key: string): Promise<EndedRun | null> {
  let query = endedQueries.get(key);
  if (!query) {
    query = Promise.withResolvers();
    endedQueries.set(key, query);
    send({ type: "ended-query", key });
  }
  return query.promise;
}

async function start(init: ConsumerInit): Promise<void> {
  try {
    await setupLogging({ level: init.logLevel, processName: init.processName });
    const module = await import(init.moduleUrl);
    const app = findApp(module, {
      specifier: init.moduleUrl,
      exportName: init.exportName,
      main: init.main,
    }) as unknown as Celery;
    await app.importDefaultModules();
    app.conf.update(init.settings);
    const config = app.finalize().conf.resolve();
    const broker = await app.getBroker();
    broker.trackUnsettled?.(new UnsettledTable(init.unsettled));
    const backend = app.backendUrl() ? await app.getBackend() : undefined;
    const counters = new Int32Array(init.counters);
    const poolSize = new Int32Array(init.poolSize);
    const table = new RunningTable(init.table);
    const pool = new SlotPool({
      slots: init.slots,
      table,
      firstSlot: init.firstSlot,
      lookup: (name) => app.tasks.get(name),
      config,
      retryDefaults: {
        defaultRetryDelay: config.task_default_retry_delay,
        maxRetries: config.task_max_retries,
      },
      logger: log,
      handlingOf: (id) => handlings.get(id),
      onFinished: () => {
        Atomics.add(counters, init.index, 1);
        const why = recycleReason(config, ++tasksRun);
        if (why) stopping ??= stop(why);
        return why !== undefined;
      },
      // A run that may loop: a hard time limit, or something written at its start to send first.
      yieldsBeforeBody: (job) =>
        job.hardTimeLimit !== null || taskEvents ||
        (app.tasks.get(job.request.task)?.options.trackStarted ?? config.task_track_started),
    });
    const events = new EventDispatcher({
      broker,
      exchange: eventExchange(config, broker.url),
      hostname: init.hostname,
      clock: app.clock,
      logger: log,
      batchTaskEvents: true,
    });
    taskEvents = init.taskEvents;
    events.taskEvents = taskEvents;
    const revoked = new RevokedSet();
    revoked.add(...init.revoked);
    const tracker = new TaskTracker(events, revoked);
    const buckets = new SharedBuckets(init.buckets.buffer, init.buckets.names);
    const handler = new TaskHandler({
      config,
      lookup: (name) => app.tasks.get(name),
      taskNames: app.tasks.names(),
      holdLimitMs: init.holdLimitMs,
      pool,
      broker,
      backend,
      hostname: init.hostname,
      signals: app,
      logger: log,
      tracker,
      rateBuckets: (name, perSecond) => buckets.bucket(name, perSecond),
      endedElsewhere: async (id, retries) => {
        // Its run may still be in a slot of a thread that just died: wait for the supervisor.
        for (let waited = 0; waited < SLOT_WAIT_MS; waited += 5) {
          if (!table.runsElsewhere(id, init.firstSlot, init.slots)) break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return await askEnded(runKey(id, retries)) ?? undefined;
      },
    });
    const settled = new SettledRing(init.settled);
    const open = () =>
      queues.length
        ? broker.consume({ queues, prefetch: init.prefetch }).getReader()
        : new ReadableStream<Delivery>({ start: (controller) => controller.close() }).getReader();
    running = {
      settled,
      app,
      broker,
      backend,
      pool,
      handler,
      tracker,
      events,
      reader: open(),
      consuming: Promise.resolve(),
      giveBack: () =>
        table.anyFreeOutside(init.firstSlot, init.slots, Atomics.load(poolSize, 0) * init.slots),
      open,
      paused: false,
    };
    running.consuming = consume(running);
    send({ type: "ready" });
  } catch (error) {
    send({ type: "init-failed", message: (error as Error)?.message ?? String(error) });
  }
}

async function consume(current: Running): Promise<void> {
  const { reader, handler, settled } = current;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      const delivery = new RecordingDelivery(value, settled);
      const handling = handler.handle(delivery).then(() => delivery.handled());
      keepBalancing(current);
      const id = delivery.taskId;
      if (id === undefined) continue;
      handlings.set(id, handling);
      void handling.finally(() => handlings.get(id) === handling && handlings.delete(id));
    }
  } catch (error) {
    if (stopping || current.paused) return;
    log.critical(`Consumer stopped: ${error}`);
    send({ type: "failed", message: (error as Error)?.message ?? String(error) });
  }
}

/**
 * Celery's `-O fair` for a thread that consumes for itself: when its run has
 * lasted GIVE_BACK_AFTER_MS while messages wait behind it here and a slot of
 * another thread is free, it stops consuming (what its transport had
 * prefetched goes back to the queue), gives back the runs waiting in its
 * pool, and consumes again once its run ends. (A run that never yields, a
 * CPU-bound loop, holds its thread's event loop: what that thread had
 * prefetched waits for it.)
 */
async function balance(current: Running): Promise<void> {
  const { pool } = current;
  if (current.paused) return;
  if (stopping || pool.waiting === 0) {
    // Nothing waits here: no timer until the next delivery (an idle thread is not woken).
    clearInterval(balancing);
    balancing = undefined;
    return;
  }
  if (pool.busyForMs < GIVE_BACK_AFTER_MS || !current.giveBack()) return;
  await reopenStream(current, async () => {
    pool.cancelPending();
    await pool.idle();
  });
}

/** Looks at `-O fair` every GIVE_BACK_AFTER_MS while deliveries come (see `balance`). */
function keepBalancing(current: Running): void {
  if (stopping) return;
  balancing ??= setInterval(() => void balance(current), GIVE_BACK_AFTER_MS);
}

/**
 * Stops the consume stream (what its transport prefetched goes back to the
 * queues), waits for `meanwhile`, then consumes again (with the queues of
 * that moment) unless the thread is stopping. `balance()` stays out
 * meanwhile.
 */
async function reopenStream(current: Running, meanwhile?: () => Promise<void>): Promise<void> {
  current.paused = true;
  await current.reader.cancel().catch(() => {});
  await current.consuming;
  await meanwhile?.();
  if (!stopping) {
    current.reader = current.open();
    current.consuming = consume(current);
  }
  current.paused = false;
}

/**
 * `add_consumer` / `cancel_consumer`: consume `next` from now on. The stream
 * is reopened (what it had prefetched goes back to the queues); the runs
 * already taken here go on. Answered once the new stream is open.
 */
async function setQueues(next: QueueSpec[], query: number): Promise<void> {
  queues = next;
  // While `balance()` holds the stream paused, it reopens it with `next` itself.
  if (running && !stopping && !running.paused) await reopenStream(running);
  send({ type: "queues-set", query });
}

/**
 * Why this thread should be replaced after a run (Celery's
 * `worker_max_tasks_per_child`, `worker_max_memory_per_child` in KiB of its
 * isolate's heap and external memory), if it should.
 */
function recycleReason(config: ResolvedConfig, tasksRun: number): string | undefined {
  const maxTasks = config.worker_max_tasks_per_child;
  if (maxTasks !== null && maxTasks > 0 && tasksRun >= maxTasks) {
    return `max tasks per child (${maxTasks})`;
  }
  const maxMemory = config.worker_max_memory_per_child;
  if (maxMemory === null || maxMemory === undefined || maxMemory <= 0) return undefined;
  const usage = Deno.memoryUsage();
  const kib = Math.round((usage.heapTotal + usage.external) / 1024);
  if (kib <= maxMemory) return undefined;
  log.warning(`child process exiting after exceeding memory limit (${kib}KiB / ${maxMemory}KiB)`);
  return `memory limit (${kib}KiB / ${maxMemory}KiB)`;
}

/**
 * Warm stop: stop consuming, give back what waits, let running tasks finish,
 * settle everything. With `retiring`, the thread stops on its own to be
 * replaced (the supervisor is told why).
 */
async function stop(retiring?: string): Promise<void> {
  clearInterval(balancing);
  const current = running;
  if (!current) return send({ type: "stopped" });
  current.pool.stopStarting(); // at once: a run ending meanwhile must not start the next
  await current.reader.cancel().catch(() => {});
  await current.consuming;
  current.handler.releaseHeld();
  current.pool.cancelPending();
  await current.handler.drain();
  await current.pool.close();
  await current.events.close();
  await current.backend?.close().catch(() => {});
  await current.broker.close().catch(() => {});
  send(retiring ? { type: "retired", reason: retiring } : { type: "stopped" });
}

port.on("message", (message: ToConsumer) => {
  if (message.type === "init") {
    hostname = message.hostname;
    queues = message.queues;
    void start(message);
  } else if (message.type === "stop") stopping ??= stop();
  else if (message.type === "revoke") running?.tracker.revoke(message.ids, false, "SIGTERM");
  else if (message.type === "requests") {
    const { phase, query } = message;
    const tracker = running?.tracker;
    const entries = !tracker
      ? []
      : (phase === "scheduled" ? scheduledInfo : reservedInfo)(tracker, hostname);
    send({ type: "requests-answer", query, entries });
  } else if (message.type === "ended-answer") {
    endedQueries.get(message.key)?.resolve(message.result);
    endedQueries.delete(message.key);
  } else if (message.type === "queues") void setQueues(message.queues, message.query);
  else if (message.type === "task-events") {
    taskEvents = message.on;
    if (running) running.events.taskEvents = message.on;
  } else if (message.type === "rate-limit") {
    running?.handler.setRateLimit(message.task, message.perSecond);
  }
});
