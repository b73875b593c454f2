/**
 * One delivery's path through the worker: decode, check, wait for its ETA
 * (see `eta_plan.ts`) and its rate limit, run it in the pool, report the
 * outcome (`outcome_report.ts`), acknowledge. Every delivery is settled
 * exactly once (ack, reject, or requeue), whatever happens, and nothing here
 * throws into the consumer loop.
 *
 * @module
 */

import type { EncodedException, ResultBackend } from "../backend/types.ts";
import type { Broker, Delivery } from "../broker/types.ts";
import { NotRegistered, TaskRevokedError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { buildResultMeta, errorResultMeta } from "../protocol/result_meta.ts";
import { decodeTaskMessage, type TaskCall } from "../protocol/task_message.ts";
import type { ResolvedConfig } from "../app/settings.ts";
import { sendSignal } from "../app/signals.ts";
import type { TaskDefinition } from "../task/task.ts";
import * as lines from "./log_lines.ts";
import type { Pool, PoolResult } from "./pool/types.ts";
import { publishCopy } from "./republish.ts";
import { requestFromCall } from "./request_from_call.ts";
import { acceptedContentTypes } from "../protocol/json_content.ts";
import type { MessageLimits } from "../protocol/message_limits.ts";
import { planEta } from "./eta_plan.ts";
import { type BucketFactory, parseRateLimit, RateLimiter } from "./rate_limit.ts";
import { ResultWriter } from "./result_writer.ts";
import { outcomeOf, reportOutcome } from "./outcome_report.ts";
import { finishRevokedCanvas } from "./canvas_after_task.ts";
import type { TaskTracker, TrackedRequest } from "./task_tracker.ts";

/** What the handler needs from the worker. */
export interface HandlerContext {
  /** Resolved settings. */
  config: ResolvedConfig;
  /** Finds a task by name. */
  lookup: (name: string) => TaskDefinition | undefined;
  /** Registered task names (their rate-limit buckets are made at start, as Celery does). */
  taskNames: readonly string[];
  /** The pool. */
  pool: Pool;
  /** The broker (for retries and re-sent ETA messages). */
  broker: Broker;
  /** The result backend, when results are enabled. */
  backend: ResultBackend | undefined;
  /** This worker's node name. */
  hostname: string;
  /** Where signals go (the app). */
  signals: EventTarget;
  /** The worker's logger. */
  logger: Logger;
  /** Longest time an ETA message is held unacked (see `eta_plan.ts`). */
  holdLimitMs: number;
  /** The book of held tasks, revoked ids and task events (`task_tracker.ts`). */
  tracker?: TaskTracker;
  /** Makes rate-limit buckets shared with other threads (the threads pool); default: its own. */
  rateBuckets?: BucketFactory;
  /**
   * How the run of task `id` (attempt `retries`) already ended in this
   * worker on a thread that was stopped or lost before its settle reached
   * the broker, which redelivered the message (consumer threads). Asked once per redelivered message: a run
   * the supervisor stopped or lost is reported as if the pool had returned
   * that result; `settled` (the run finished and was reported) is settled
   * the same way again (acked, or dropped). Either way the message is not run again.
   */
  endedElsewhere?: (
    id: string,
    retries: number,
  ) =>
    | PoolResult
    | { kind: "settled"; dropped: boolean }
    | undefined
    | Promise<PoolResult | { kind: "settled"; dropped: boolean } | undefined>;
}

/** Settles deliveries; handles each task message end to end. */
export class TaskHandler {
  readonly #context: HandlerContext;
  readonly #accepted: ReadonlySet<string>;
  readonly #limits: MessageLimits;
  readonly #writer: ResultWriter;
  readonly #limiter: RateLimiter;
  readonly #inFlight = new Set<Promise<void>>();
  /** Aborts when the worker stops taking new work: waits end and messages go back. */
  readonly #stopAccepting = new AbortController();
  #cold = false;

  /** Creates a handler. */
  constructor(context: HandlerContext) {
    this.#context = context;
    this.#limiter = new RateLimiter(undefined, context.rateBuckets);
    this.#accepted = acceptedContentTypes(context.config.accept_content);
    this.#limits = {
      maxDepth: context.config.worker_max_message_depth,
      maxBytes: context.config.worker_max_message_size,
    };
    this.#writer = new ResultWriter(
      context.backend,
      context.config,
      context.hostname,
      context.logger,
    );
    if (!context.config.worker_disable_rate_limits) {
      for (const name of context.taskNames) {
        const task = context.lookup(name);
        const limit = task?.options.rateLimit ?? context.config.task_default_rate_limit;
        this.#limiter.prepare(name, parseRateLimit(limit));
      }
    }
  }

  /** Number of deliveries being handled (held, waiting, running or being stored). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Handles a delivery; never throws. An unexpected error settles this one
   * delivery (rejected without requeue, so it cannot come back and fail
   * again: dead-lettered where the broker can) and is logged with the
   * message's id; the worker goes on with the next. The promise returned
   * (never rejected) resolves when the handler is done with the delivery:
   * its run reported and its message settled, or handed back.
   */
  handle(delivery: Delivery): Promise<void> {
    let handling: Promise<void>;
    try {
      handling = this.#handle(delivery);
    } catch (error) {
      handling = Promise.reject(error);
    }
    handling = handling.catch((error) => this.#internalError(delivery, error))
      .finally(() => this.#inFlight.delete(handling));
    this.#inFlight.add(handling);
    return handling;
  }

  async #internalError(delivery: Delivery, error: unknown): Promise<void> {
    const headers = delivery.message?.headers ?? {};
    const id = typeof headers.id === "string" ? headers.id : "unknown id";
    const task = typeof headers.task === "string" ? headers.task : "unknown task";
    let text: string;
    try {
      text = String((error as Error)?.stack ?? error);
    } catch {
      text = "(an error that cannot be printed)";
    }
    this.#context.logger.critical(
      lines.internalErrorLine(delivery.queue, task, id, text),
    );
    await delivery.reject(false).catch(() => {});
  }

  /**
   * Warm shutdown: messages waiting for their ETA or their rate limit go
   * back to the broker, and nothing new is handed to the pool.
   */
  releaseHeld(): void {
    this.#stopAccepting.abort();
  }

  /**
   * From now on, runs ended by terminating the pool are not failures: an
   * acks_late message goes back to the queue, an early-acked one is gone (as
   * in Celery's cold shutdown).
   */
  beginColdShutdown(): void {
    this.#cold = true;
    this.#stopAccepting.abort();
  }

  /** Sets a task's rate limit (per second, null for none): the `rate_limit` command. */
  setRateLimit(taskName: string, perSecond: number | null): void {
    this.#limiter.prepare(taskName, perSecond);
  }

  /** Resolves when every delivery taken so far is settled. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    this.#limiter.close();
  }

  async #handle(delivery: Delivery): Promise<void> {
    const { logger, signals } = this.#context;
    let call: TaskCall;
    try {
      call = decodeTaskMessage(delivery.message, this.#accepted, this.#limits);
    } catch (error) {
      const reason = (error as Error)?.message ?? String(error);
      logger.error(lines.malformedLine(delivery.queue, reason));
      sendSignal(signals, "task_rejected", { sender: delivery.queue, reason });
      await delivery.reject(false);
      return;
    }
    const task = this.#context.lookup(call.task);
    if (!task) return await this.#unregistered(call, delivery);
    logger.info(lines.receivedLine(call.task, call.id));
    const early = this.#discardReason(call);
    if (early) return await this.#revokeExpired(call, delivery, early);
    const tracked = this.#context.tracker?.received(call, delivery);
    try {
      if (call.eta && !await this.#waitForEta(call, delivery)) return;
      if (tracked) this.#context.tracker!.due(tracked);
      const late = this.#discardReason(call);
      if (late) return await this.#revokeExpired(call, delivery, late);
      if (!await this.#mayStart(call.task, delivery)) {
        await delivery.reject(true); // a no-op when the delivery was lost with its channel
        return;
      }
      await this.#execute(call, task, delivery, tracked);
    } finally {
      this.#context.tracker?.forget(tracked);
    }
  }

  /** Why a task must not run: its id was revoked, or it expired. */
  #discardReason(call: TaskCall): "revoked" | "expired" | undefined {
    if (this.#context.tracker?.revoked.has(call.id)) return "revoked";
    return this.#expired(call) ? "expired" : undefined;
  }

  /** Takes a rate-limit token if the task has a limit; false when the message must go back. */
  async #mayStart(taskName: string, delivery: Delivery): Promise<boolean> {
    if (!this.#limiter.limits(taskName)) {
      return !this.#stopAccepting.signal.aborted && !delivery.lost?.aborted;
    }
    const giveBack = this.#giveBackSignal(delivery);
    return await this.#limiter.acquire(taskName, giveBack) && !giveBack.aborted;
  }

  async #unregistered(call: TaskCall, delivery: Delivery): Promise<void> {
    this.#context.logger.error(lines.unregisteredLine(call.task, call.id));
    this.#context.tracker?.unregistered(call);
    sendSignal(this.#context.signals, "task_unknown", {
      sender: call.task,
      taskId: call.id,
      name: call.task,
    });
    const error = new NotRegistered(call.task);
    await this.#writer.store(call, errorResultMeta(this.#writer.context(call), "FAILURE", error));
    await delivery.reject(false);
  }

  /**
   * Holds, parks or re-sends a message until its ETA. Returns true when it
   * is due and still ours; false when it was settled here (parked, re-sent,
   * or given back at shutdown).
   */
  async #waitForEta(call: TaskCall, delivery: Delivery): Promise<boolean> {
    const { broker, holdLimitMs } = this.#context;
    let holding = false;
    while (true) {
      const plan = planEta(
        call.eta!.getTime() - Date.now(),
        holdLimitMs,
        broker.capabilities.delayedDelivery,
      );
      if (plan.action === "run") return true;
      if (plan.action === "park") return await this.#sendAgain(call, delivery, call.eta!);
      if (!holding) delivery.hold?.();
      holding = true;
      if (!await this.#sleep(plan.ms, this.#giveBackSignal(delivery))) {
        await delivery.reject(true);
        return false;
      }
      if (plan.action === "hold-then-resend") return await this.#sendAgain(call, delivery);
    }
  }

  /** Publishes a copy of the message (parked until `deliverAt`, if given), then acks this one. */
  async #sendAgain(call: TaskCall, delivery: Delivery, deliverAt?: Date): Promise<false> {
    try {
      await publishCopy(this.#context.broker, delivery, call, deliverAt);
    } catch (error) {
      this.#context.logger.error(
        `Cannot hand ${
          lines.taskLabel(call.task, call.id)
        } back to the broker until its ETA: ${error}; requeued.`,
      );
      await delivery.reject(true);
      return false;
    }
    this.#context.logger.debug(
      `Task ${lines.taskLabel(call.task, call.id)} sent back to the broker until its ETA ${
        call.eta!.toISOString()
      }`,
    );
    await delivery.ack();
    return false;
  }

  /**
   * Aborts when a waiting message must not run here: the worker is stopping,
   * or the broker lost the delivery (it will redeliver it).
   */
  #giveBackSignal(delivery: Delivery): AbortSignal {
    const stop = this.#stopAccepting.signal;
    return delivery.lost ? AbortSignal.any([stop, delivery.lost]) : stop;
  }

  /** Waits `ms`; false when `signal` aborted first. */
  #sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, Math.min(ms, 2 ** 31 - 1));
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #expired(call: TaskCall): boolean {
    return call.expires !== null && call.expires.getTime() <= Date.now();
  }

  async #revokeExpired(
    call: TaskCall,
    delivery: Delivery,
    reason: "revoked" | "expired" | "terminated" = "expired",
    signal?: string,
    ack = true,
  ): Promise<void> {
    if (reason === "terminated") this.#context.logger.info(`Terminating ${call.id} (${signal})`);
    else this.#context.logger.info(lines.discardingLine(call.task, call.id));
    this.#context.tracker?.discarded(call, reason, signal);
    sendSignal(this.#context.signals, "task_revoked", {
      sender: call.task,
      taskId: call.id,
      reason,
    });
    const error = new TaskRevokedError(reason, { taskName: call.task, taskId: call.id });
    const meta = errorResultMeta(this.#writer.context(call), "REVOKED", error, false);
    await this.#writer.store(call, meta);
    await finishRevokedCanvas(this.#context, call, meta.result as EncodedException);
    if (ack) await delivery.ack();
  }

  async #execute(
    call: TaskCall,
    task: TaskDefinition,
    delivery: Delivery,
    tracked?: TrackedRequest,
  ): Promise<void> {
    const { config, pool, hostname, signals } = this.#context;
    const acksLate = task.options.acksLate ?? config.task_acks_late;
    const request = requestFromCall(call, delivery, hostname);
    const set = this.#context.tracker?.timeLimits.get(call.task); // the time_limit command
    const hard = call.timeLimit[0] ?? (set ? set.hard : task.options.timeLimit) ??
      config.task_time_limit;
    const soft = call.timeLimit[1] ?? (set ? set.soft : task.options.softTimeLimit) ??
      config.task_soft_time_limit;
    let acked: Promise<void> | undefined;
    const ended = delivery.redelivered
      ? await this.#context.endedElsewhere?.(call.id, call.retries)
      : undefined;
    if (ended) this.#context.logger.info(lines.endedElsewhereLine(call.task, call.id, ended.kind));
    if (ended?.kind === "settled") {
      return await (ended.dropped ? delivery.reject(false) : delivery.ack());
    }
    // The early ack is awaited after the run: until then a failure must not count as unhandled.
    const ackEarly = () => {
      acked = delivery.ack();
      acked.catch(() => {});
    };
    if (ended && !acksLate) ackEarly();
    const abandoned = [delivery.lost, tracked?.discard.signal].filter((signal) =>
      signal !== undefined
    );
    const result = ended ?? await pool.run(
      {
        request,
        hardTimeLimit: hard,
        softTimeLimit: soft,
        abandoned,
        terminate: tracked?.terminate.signal,
      },
      () => {
        if (!acksLate) ackEarly();
        if (tracked) this.#context.tracker!.started(tracked, !acksLate);
        // Revoked while a thread already held it: stopped at once, as revoke with terminate.
        if (tracked?.discard.signal.aborted) tracked.terminate.abort("SIGTERM");
        sendSignal(signals, "task_prerun", {
          sender: call.task,
          taskId: call.id,
          args: call.args,
          kwargs: call.kwargs,
        });
        if (task.options.trackStarted ?? config.task_track_started) {
          const started = { pid: Deno.pid, hostname };
          void this.#writer.store(
            call,
            buildResultMeta(this.#writer.context(call), "STARTED", started),
          );
        }
      },
    );
    await this.#finishRun(call, task, delivery, result, acked, acksLate, tracked);
  }

  /** After a run: discard, requeue or report it, and settle its message. */
  async #finishRun(
    call: TaskCall,
    task: TaskDefinition,
    delivery: Delivery,
    result: PoolResult,
    acked: Promise<void> | undefined,
    acksLate: boolean,
    tracked?: TrackedRequest,
  ): Promise<void> {
    if (result.kind === "not-started") {
      // Revoked while waiting for a slot: discarded here, not requeued.
      if (tracked?.discard.signal.aborted && !delivery.lost?.aborted) {
        return await this.#revokeExpired(call, delivery, "revoked");
      }
      await delivery.reject(true);
      return;
    }
    if (this.#cold && result.kind === "worker-lost") {
      await acked;
      if (acksLate) await delivery.reject(true);
      return;
    }
    if (result.kind === "terminated") {
      await acked;
      return await this.#revokeExpired(call, delivery, "terminated", result.signal, acksLate);
    }
    const outcome = outcomeOf(call, result, this.#context.logger);
    if (tracked) this.#context.tracker!.finished(tracked, outcome, acksLate);
    // An early ack and the outcome's store go out together (as in Celery, where the
    // consumer acks and the pool stores): waiting for one before the other costs a round trip.
    const settle = await reportOutcome(
      { ...this.#context, writer: this.#writer },
      { call, task, delivery, outcome, result, acksLate },
    );
    await acked;
    if (acksLate) await settle();
  }
}
