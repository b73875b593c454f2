/**
 * The `threads` pool's main-thread side: a supervisor of consumer threads
 * (`consumer_thread.ts`), each of which consumes, runs, stores and acks by
 * itself. The supervisor does no per-task work. It starts the threads and
 * replaces any that dies; it reads the shared running table on a timer and
 * stops a thread whose run passed its hard time limit (a terminated thread's
 * broker connection closes, so the messages it had prefetched go back to the
 * queue at once); it stores the outcome of a run it stopped or lost
 * (`TimeLimitExceeded`, `WorkerLostError`, or REVOKED for a revoke with
 * terminate) and remembers it: a thread that gets a message back from the
 * broker asks, and a run that ended so is reported and settled, not run
 * again (one message each way, only for redelivered messages); it passes revokes and
 * rate limits on to every thread, and stops them warm or cold.
 *
 * @module
 */

import type { ResultBackend } from "../../backend/types.ts";
import type { Broker, QueueSpec } from "../../broker/types.ts";
import { ConfigurationError, TaskRevokedError, TimeLimitExceeded } from "../../errors.ts";
import { WorkerLostError } from "../../errors.ts";
import type { Logger, LogLevel } from "../../log.ts";
import { errorResultMeta } from "../../protocol/result_meta.ts";
import * as lines from "../log_lines.ts";
import type { AppLocation } from "../pool/messages.ts";
import type { PoolKind } from "../pool/types.ts";
import { spawnConsumerThread } from "./consumer_thread_spawn.ts";
import {
  type ConsumerInit,
  type EndedRun,
  type FromConsumer,
  runKey,
  type ToConsumer,
} from "./messages.ts";
import { type RunningRead, RunningTable } from "./running_table.ts";
import { UnsettledTable } from "./unsettled_table.ts";
import { SettledRing } from "./settled_ring.ts";
import { SharedBuckets } from "./shared_token_bucket.ts";

/** How a run the supervisor stopped or lost ended. */
type StoppedRun = Exclude<EndedRun, { kind: "settled" }>;

/** How often the running table is read for hard time limits. */
const SCAN_MS = 50;
/** Most runs remembered as ended outside their thread (until their message comes back). */
const ENDED_KEPT = 10_000;
/**
 * Longest a thread's answer (`inspect reserved` / `scheduled`, `add_consumer`)
 * is waited for: well under the 1 s `celery inspect` waits for replies, so a
 * thread busy in a loop that never yields does not make the worker miss it.
 */
const REQUESTS_WAIT_MS = 400;
/** Most threads `pool_grow` can bring the pool to (the shared tables are sized for them). */
const MOST_THREADS = 64;

/** What the supervisor needs. */
export interface SupervisorOptions {
  /** Number of consumer threads (`-c`). */
  size: number;
  /** Runs at once per thread. */
  slots: number;
  /** Where each thread finds the app. */
  app: AppLocation;
  /** Settings each thread applies over the app module's own. */
  settings: Record<string, unknown>;
  /** The worker's node name. */
  hostname: string;
  /** Queues to consume at start. */
  queues: QueueSpec[];
  /** Each thread's prefetch window (0: none). */
  prefetch: number;
  /** Log level inside the threads. */
  logLevel: LogLevel;
  /** Send task events. */
  taskEvents: boolean;
  /** Longest time an ETA message is held unacked, ms. */
  holdLimitMs: number;
  /** The worker's broker: gives back what a lost thread left unsettled. */
  broker: Broker;
  /** Where the supervisor stores the outcome of runs it stopped or lost. */
  backend: ResultBackend | undefined;
  /** The app's task names (each gets a rate-limit bucket shared by the threads). */
  taskNames: readonly string[];
  /** Revoked ids known now (sent to each new thread). */
  revoked: () => string[];
  /** The main thread's logger. */
  logger: Logger;
}

/** One consumer thread and its state. */
interface ConsumerThread {
  index: number;
  worker: ReturnType<typeof spawnConsumerThread>;
  state: "starting" | "ready" | "stopping" | "gone";
  ready: Promise<void>;
  exited: Promise<void>;
  stopped: PromiseWithResolvers<void>;
  unsettled: UnsettledTable;
  settled: SettledRing;
  /** Stopping for `pool_shrink`: removed, not replaced, once it stopped. */
  surplus?: boolean;
}

/** Supervises consumer threads. */
export class ConsumerSupervisor {
  /** Pool kind (`-P threads`). */
  readonly kind: PoolKind = "threads";
  /** Number of threads (changed by `resize`). */
  size: number;
  readonly #options: SupervisorOptions;
  readonly #table: RunningTable;
  readonly #counters: Int32Array;
  /** `size`, shared with the threads (the give-back of `-O fair` looks only at their slots). */
  readonly #poolSize = new Int32Array(new SharedArrayBuffer(4));
  readonly #buckets: SharedBuckets;
  readonly #threads: ConsumerThread[] = [];
  readonly #ended = new Map<string, EndedRun>();
  /** Threads being terminated whose unsettled deliveries are being given back. */
  readonly #giveBacks = new Set<Promise<void>>();
  /** Questions to threads (`inspect reserved`, `add_consumer`, …) waiting for their answers. */
  readonly #queries = new Map<number, (answer: unknown) => void>();
  /** The queues consumed (`add_consumer` / `cancel_consumer` change them). */
  #queues: QueueSpec[];
  #nextQuery = 0;
  #scan?: ReturnType<typeof setInterval>;
  #closing = false;
  #taskEvents: boolean;
  #failure?: (message: string) => void;

  /** Prepares the pool; no thread starts before `start()`. */
  constructor(options: SupervisorOptions) {
    this.size = Math.max(1, options.size);
    this.#options = options;
    this.#taskEvents = options.taskEvents;
    this.#queues = options.queues;
    const capacity = Math.max(this.size, MOST_THREADS);
    this.#table = RunningTable.create(capacity * options.slots);
    this.#counters = new Int32Array(new SharedArrayBuffer(4 * capacity));
    this.#buckets = SharedBuckets.create(options.taskNames);
    Atomics.store(this.#poolSize, 0, this.size);
  }

  /** Runs in progress, from the running table. */
  get active(): number {
    let count = 0;
    for (let slot = 0; slot < this.#table.size; slot++) if (this.#table.busy(slot)) count++;
    return count;
  }

  /** Runs finished by every thread so far. */
  get processed(): number {
    return this.#counters.reduce((sum, n) => sum + n, 0);
  }

  /** The runs in progress, for `inspect active`. */
  runs(): RunningRead[] {
    const out: RunningRead[] = [];
    for (let slot = 0; slot < this.#table.size; slot++) {
      const run = this.#table.read(slot);
      if (run) out.push(run);
    }
    return out;
  }

  /**
   * What the threads hold reserved or scheduled (`inspect reserved` /
   * `scheduled`): each ready thread is asked (one message each way, per
   * command); a thread that does not answer within REQUESTS_WAIT_MS is left out.
   */
  async requests(phase: "reserved" | "scheduled"): Promise<Record<string, unknown>[]> {
    const answers = await this.#askReady(
      (query) => ({ type: "requests", phase, query }),
      [] as Record<string, unknown>[],
    );
    return answers.flat();
  }

  /**
   * `add_consumer` / `cancel_consumer`: every thread consumes `queues` from
   * now on (and so does each thread started later). Resolves once each
   * ready thread has reopened its stream (or did not answer within REQUESTS_WAIT_MS).
   */
  async setQueues(queues: QueueSpec[]): Promise<void> {
    this.#queues = [...queues];
    for (const thread of this.#threads) {
      if (thread.state === "starting") {
        thread.worker.postMessage({ type: "queues", queues, query: -1 } satisfies ToConsumer);
      }
    }
    await this.#askReady((query) => ({ type: "queues", queues, query }), undefined);
  }

  /**
   * Sends each ready thread the message `build(query)` and waits for the
   * answers that carry the same query number; a thread that does not answer
   * within REQUESTS_WAIT_MS counts as `otherwise`.
   */
  #askReady<T>(build: (query: number) => ToConsumer, otherwise: T): Promise<T[]> {
    const asked = this.#threads.filter((thread) => thread.state === "ready");
    return Promise.all(asked.map((thread) => {
      const query = this.#nextQuery++;
      return new Promise<T>((resolve) => {
        const timer = setTimeout(() => done(otherwise), REQUESTS_WAIT_MS);
        const done = (answer: unknown) => {
          clearTimeout(timer);
          this.#queries.delete(query);
          resolve(answer as T);
        };
        this.#queries.set(query, done);
        thread.worker.postMessage(build(query));
      });
    }));
  }

  /** Called once when a thread's consumer fails for good (the broker is gone). */
  onFailure(listener: (message: string) => void): void {
    this.#failure = listener;
  }

  /** Starts every thread; resolves once each is consuming. */
  async start(): Promise<void> {
    for (let index = 0; index < this.size; index++) this.#threads.push(this.#spawn(index));
    try {
      await Promise.all(this.#threads.map((thread) => thread.ready));
    } catch (error) {
      await this.terminate();
      throw error;
    }
    this.#scan = setInterval(() => this.#checkDeadlines(), SCAN_MS);
  }

  #spawn(index: number): ConsumerThread {
    const worker = spawnConsumerThread();
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    const stopped = Promise.withResolvers<void>();
    const thread: ConsumerThread = {
      index,
      worker,
      state: "starting",
      ready: Promise.resolve(),
      exited,
      stopped,
      unsettled: UnsettledTable.create(),
      settled: SettledRing.create(),
    };
    thread.ready = new Promise<void>((resolve, reject) => {
      const failStart = (why: string) => {
        thread.state = "gone";
        void worker.terminate();
        reject(new ConfigurationError(why));
      };
      worker.on("message", (message: FromConsumer) => {
        if (thread.state === "gone") return;
        if (message.type === "ready") {
          thread.state = "ready";
          resolve();
        } else if (message.type === "init-failed") {
          failStart(`A consumer thread could not start: ${message.message}`);
        } else if (message.type === "stopped") {
          stopped.resolve();
          if (thread.surplus) this.#dropSurplus(thread);
        } else if (message.type === "retired") this.#retire(thread, message.reason);
        else if (message.type === "failed") this.#failure?.(message.message);
        else if (message.type === "ended-query") this.#answerEnded(thread, message.key);
        else if (message.type === "requests-answer") {
          this.#queries.get(message.query)?.(message.entries);
        } else if (message.type === "queues-set") this.#queries.get(message.query)?.(undefined);
      });
      worker.on("error", (error: unknown) => {
        const reason = String((error as Error)?.message ?? error);
        if (thread.state === "starting") failStart(`A consumer thread failed starting: ${reason}`);
        else if (thread.state !== "gone") this.#lose(thread, `uncaught error: ${reason}`);
      });
      worker.on("exit", (code: number) => {
        stopped.resolve();
        if (thread.state === "starting") failStart(`A consumer thread exited starting (${code})`);
        else if (thread.state !== "gone" && !this.#closing) {
          this.#lose(thread, `exitcode ${code}`);
        }
      });
    });
    thread.ready.catch(() => {});
    const options = this.#options;
    const init: ConsumerInit = {
      type: "init",
      ...options.app,
      settings: options.settings,
      hostname: options.hostname,
      queues: this.#queues,
      prefetch: options.prefetch,
      slots: options.slots,
      firstSlot: index * options.slots,
      table: this.#table.buffer,
      counters: this.#counters.buffer as SharedArrayBuffer,
      poolSize: this.#poolSize.buffer as SharedArrayBuffer,
      unsettled: thread.unsettled.buffer,
      settled: thread.settled.buffer,
      buckets: { buffer: this.#buckets.buffer, names: [...this.#buckets.names] },
      index,
      logLevel: options.logLevel,
      processName: `WorkerThread-${index + 1}`,
      taskEvents: this.#taskEvents,
      holdLimitMs: options.holdLimitMs,
      revoked: options.revoked(),
    };
    worker.postMessage(init);
    return thread;
  }

  #post(message: ToConsumer): void {
    for (const thread of this.#threads) {
      if (thread.state === "ready" || thread.state === "starting") {
        thread.worker.postMessage(message);
      }
    }
  }

  /** Every thread drops these ids if they are still waiting; a running one is stopped with its thread when `terminate`. */
  revoke(ids: string[], terminate: boolean, signal: string): string[] {
    this.#post({ type: "revoke", ids });
    const stopped: string[] = [];
    if (!terminate) return stopped;
    for (const thread of this.#threads) {
      if (thread.state !== "ready") continue;
      for (const slot of this.#slotsOf(thread)) {
        const run = this.#table.read(slot);
        if (!run || !ids.includes(run.id)) continue;
        const runtime = (Date.now() - run.startedAt) / 1000;
        this.#options.logger.info(`Terminating ${run.id} (${signal})`);
        stopped.push(run.id);
        this.#stopThread(
          thread,
          `terminated by revoke`,
          (lost) => lost.id === run.id ? { kind: "terminated", signal, runtime } : undefined,
        );
        break;
      }
    }
    return stopped;
  }

  /** `enable_events` / `disable_events`, for every thread (and those started later). */
  setTaskEvents(on: boolean): void {
    this.#taskEvents = on;
    this.#post({ type: "task-events", on });
  }

  /** The `rate_limit` command, for every thread. */
  setRateLimit(task: string, perSecond: number | null): void {
    this.#post({ type: "rate-limit", task, perSecond });
  }

  #slotsOf(thread: ConsumerThread): number[] {
    const first = thread.index * this.#options.slots;
    return Array.from({ length: this.#options.slots }, (_, i) => first + i);
  }

  #checkDeadlines(): void {
    const now = Date.now();
    for (const thread of this.#threads) {
      if (thread.state !== "ready" && thread.state !== "stopping") continue;
      for (const slot of this.#slotsOf(thread)) {
        if (this.#table.deadline(slot) > now) continue;
        const run = this.#table.read(slot);
        if (!run) continue;
        this.#options.logger.error(lines.hardLimitLine(run.task, run.id, run.hardTimeLimit!));
        this.#stopThread(
          thread,
          `hard time limit (${run.hardTimeLimit}s)`,
          (lost) =>
            lost.id === run.id && lost.deadline <= now
              ? {
                kind: "time-limit",
                limit: lost.hardTimeLimit!,
                runtime: (now - lost.startedAt) / 1000,
              }
              : undefined,
        );
        break;
      }
    }
  }

  /** The thread stopped itself, everything settled: it is replaced (or, when closing, done). */
  #retire(thread: ConsumerThread, reason: string): void {
    thread.stopped.resolve();
    if (thread.state === "gone") return;
    this.#options.logger.debug(`WorkerThread-${thread.index + 1} replaced (${reason})`);
    thread.state = "gone";
    void this.#giveBack(thread); // nothing is left unsettled; terminates the thread
    if (thread.surplus) this.#dropSurplus(thread);
    else if (!this.#closing) this.#replace(thread.index);
  }

  /** The thread died on its own: Celery's "Process … exited with …" line; its runs are lost. */
  #lose(thread: ConsumerThread, how: string): void {
    this.#options.logger.error(`Process 'WorkerThread-${thread.index + 1}' exited with '${how}'`);
    this.#stopThread(thread, how, () => undefined);
  }

  /**
   * Terminates `thread` (if not gone already), reports each run it had in
   * progress (`reason(run)` says how the one it was stopped for ended; the
   * others are lost), and starts a replacement.
   */
  #stopThread(
    thread: ConsumerThread,
    why: string,
    reason: (run: RunningRead) => StoppedRun | undefined,
  ): void {
    thread.state = "gone";
    void this.#giveBack(thread);
    // Settled on this thread, perhaps not yet at the broker: not to be run again if redelivered.
    const running = this.#slotsOf(thread).map((slot) => this.#table.read(slot))
      .map((run) => run && runKey(run.id, run.retries));
    for (const { key, dropped } of thread.settled.entries()) {
      if (!running.includes(key)) this.#remember(key, { kind: "settled", dropped });
    }
    for (const slot of this.#slotsOf(thread)) {
      const run = this.#table.read(slot);
      if (run) {
        const runtime = (Date.now() - run.startedAt) / 1000;
        const ended = reason(run) ?? { kind: "worker-lost", reason: why, runtime };
        void this.#report(run, ended); // remembered before the slot is freed
      }
      // A thread that gets this run's message redelivered waits while the slot holds it.
      this.#table.reset(slot);
    }
    if (thread.surplus) this.#dropSurplus(thread);
    else if (!this.#closing) this.#replace(thread.index);
  }

  /**
   * `pool_grow` / `pool_shrink`: starts threads up to `size + delta` (each
   * with its share of the prefetch window, so the worker's total stays
   * `concurrency × multiplier`, as Celery's), or stops the last ones warm
   * (they finish their runs and settle their messages first). Returns an
   * error text when it cannot.
   */
  resize(delta: number): string | undefined {
    if (this.#closing) return "the pool is stopping";
    const target = Math.max(1, this.size + delta);
    if (target > this.size) {
      if (this.#threads.some((thread) => thread.surplus)) {
        return "the pool is still shrinking; grow it once the stopped threads are gone";
      }
      if (target > Math.max(MOST_THREADS, this.#threads.length)) {
        return `the threads pool can have at most ${MOST_THREADS} threads`;
      }
      for (let index = this.#threads.length; index < target; index++) {
        const fresh = this.#spawn(index);
        this.#threads.push(fresh);
        fresh.ready.catch((error) =>
          this.#options.logger.critical(`Cannot start WorkerThread-${index + 1}: ${error}`)
        );
      }
    }
    for (const thread of this.#threads.slice(target)) {
      if (thread.surplus || thread.state === "gone") continue;
      thread.surplus = true;
      thread.state = "stopping";
      thread.worker.postMessage({ type: "stop" } satisfies ToConsumer);
    }
    this.size = target;
    Atomics.store(this.#poolSize, 0, target);
    return undefined;
  }

  /** A surplus thread is done: terminated, and the trailing gone ones leave the list. */
  #dropSurplus(thread: ConsumerThread): void {
    if (thread.state !== "gone") {
      thread.state = "gone";
      void this.#giveBack(thread);
    }
    while (this.#threads.length > this.size && this.#threads.at(-1)!.state === "gone") {
      this.#threads.pop();
    }
  }

  /** Starts a new thread in place `index`. */
  #replace(index: number): void {
    const fresh = this.#spawn(index);
    this.#threads[index] = fresh;
    fresh.ready.catch((error) =>
      this.#options.logger.critical(`Cannot replace WorkerThread-${index + 1}: ${error}`)
    );
  }

  /**
   * Terminates the thread and, once it is gone, gives back at once what its
   * broker instance left unsettled (RabbitMQ does so by itself when the
   * thread's connection closes).
   */
  #giveBack(thread: ConsumerThread): Promise<void> {
    const pending = this.#restoreLeft(thread).finally(() => this.#giveBacks.delete(pending));
    this.#giveBacks.add(pending);
    return pending;
  }

  async #restoreLeft(thread: ConsumerThread): Promise<void> {
    await thread.worker.terminate();
    const keys = thread.unsettled.keys();
    thread.unsettled.clear();
    const restore = this.#options.broker.restoreUnsettled;
    if (!keys.length || !restore) return;
    try {
      const restored = await restore.call(this.#options.broker, keys);
      if (restored) {
        this.#options.logger.info(
          `Restored ${restored} message(s) WorkerThread-${thread.index + 1} left unacknowledged`,
        );
      }
    } catch (error) {
      this.#options.logger.error(
        `Cannot give back what WorkerThread-${thread.index + 1} left unacknowledged ` +
          `(it comes back after the visibility timeout): ${error}`,
      );
    }
  }

  /**
   * Stores how a stopped or lost run ended and tells every thread, so its
   * message is reported and settled when the broker redelivers it. A lost
   * acks_late run with `reject_on_worker_lost` is left to run again.
   */
  async #report(run: RunningRead, ended: StoppedRun): Promise<void> {
    if (ended.kind === "worker-lost" && run.acksLate && run.rejectOnWorkerLost) return;
    this.#remember(runKey(run.id, run.retries), ended);
    const backend = this.#options.backend;
    if (!backend) return;
    const error = ended.kind === "time-limit"
      ? new TimeLimitExceeded(ended.limit)
      : ended.kind === "terminated"
      ? new TaskRevokedError("terminated", { taskName: run.task, taskId: run.id })
      : new WorkerLostError(`Worker exited prematurely: ${ended.reason}.`);
    const state = ended.kind === "terminated" ? "REVOKED" : "FAILURE";
    const meta = errorResultMeta({ taskId: run.id }, state, error, state === "FAILURE");
    await backend.store(meta, { replyTo: run.replyTo, correlationId: run.correlationId })
      .catch((failure) =>
        this.#options.logger.error(
          `Cannot store the ${state} result of ${lines.taskLabel(run.task, run.id)}: ${failure}`,
        )
      );
  }

  /** Remembers how the run of a message (`runKey`) ended, for when it comes back to a thread. */
  #remember(key: string, ended: EndedRun): void {
    this.#ended.delete(key);
    this.#ended.set(key, ended);
    if (this.#ended.size > ENDED_KEPT) this.#ended.delete(this.#ended.keys().next().value!);
  }

  /** A thread got a message (`runKey`) back from the broker: tells it how its run ended, if it did. */
  #answerEnded(thread: ConsumerThread, key: string): void {
    if (thread.state === "gone") return;
    const result = this.#ended.get(key) ?? null;
    thread.worker.postMessage({ type: "ended-answer", key, result } satisfies ToConsumer);
  }

  /** Warm stop: every thread stops consuming, finishes its runs and settles its messages. */
  async close(): Promise<void> {
    this.#closing = true; // hard time limits are still enforced until every thread stopped
    const live = this.#threads.filter((thread) => thread.state !== "gone");
    for (const thread of live) {
      thread.state = "stopping";
      thread.worker.postMessage({ type: "stop" } satisfies ToConsumer);
    }
    await Promise.all(live.map((thread) => thread.stopped.promise));
    await this.terminate();
  }

  /** Cold stop: every thread is terminated; acks_late messages go back with their connections. */
  async terminate(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#scan);
    for (const thread of this.#threads) {
      if (thread.state === "gone") continue;
      thread.state = "gone";
      void this.#giveBack(thread);
    }
    await Promise.all([...this.#giveBacks]);
    await Promise.all(this.#threads.map((thread) => thread.exited));
  }
}
