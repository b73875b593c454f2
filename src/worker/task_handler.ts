/**
 * One delivery's path through the worker: decode, check, wait for its ETA,
 * run it in the pool, store its result, acknowledge. Every delivery is
 * settled exactly once (ack, reject, or requeue), whatever happens, and
 * nothing here throws into the consumer loop.
 *
 * @module
 */

import type { ResultBackend, ResultMeta, TaskState } from "../backend/types.ts";
import type { Broker, Delivery } from "../broker/types.ts";
import { NotRegistered, TaskRevokedError, TimeLimitExceeded, WorkerLostError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { buildResultMeta, errorResultMeta, type ResultContext } from "../protocol/result_meta.ts";
import { decodeTaskMessage, type TaskCall } from "../protocol/task_message.ts";
import type { ResolvedConfig } from "../app/settings.ts";
import { sendSignal } from "../app/signals.ts";
import type { TaskOutcome } from "../task/outcome.ts";
import type { TaskDefinition } from "../task/task.ts";
import * as lines from "./log_lines.ts";
import type { Pool, PoolResult } from "./pool/types.ts";
import { publishRetry } from "./republish.ts";
import { requestFromCall } from "./request_from_call.ts";
import { acceptedContentTypes } from "../protocol/json_content.ts";
import { encodeException, formatTraceback } from "../protocol/exceptions.ts";
import { pythonRepr } from "../protocol/python_repr.ts";

/** What the handler needs from the worker. */
export interface HandlerContext {
  /** Resolved settings. */
  config: ResolvedConfig;
  /** Finds a task by name. */
  lookup: (name: string) => TaskDefinition | undefined;
  /** The pool. */
  pool: Pool;
  /** The broker (for retries). */
  broker: Broker;
  /** The result backend, when results are enabled. */
  backend: ResultBackend | undefined;
  /** This worker's node name. */
  hostname: string;
  /** Where signals go (the app). */
  signals: EventTarget;
  /** The worker's logger. */
  logger: Logger;
}

/** Settles deliveries; handles each task message end to end. */
export class TaskHandler {
  readonly #context: HandlerContext;
  readonly #accepted: ReadonlySet<string>;
  readonly #held = new Map<Delivery, { timer: ReturnType<typeof setTimeout>; wake(): void }>();
  readonly #released = new WeakSet<Delivery>();
  readonly #inFlight = new Set<Promise<void>>();
  #cold = false;

  /** Creates a handler. */
  constructor(context: HandlerContext) {
    this.#context = context;
    this.#accepted = acceptedContentTypes(context.config.accept_content);
  }

  /** Number of deliveries being handled (held, waiting, running or being stored). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Handles a delivery; never throws. */
  handle(delivery: Delivery): void {
    const handling = this.#handle(delivery).catch((error) => {
      this.#context.logger.critical(`Internal error handling a message: ${error?.stack ?? error}`);
      return delivery.reject(true).catch(() => {});
    }).finally(() => this.#inFlight.delete(handling));
    this.#inFlight.add(handling);
  }

  /** Gives every message held for its ETA back to the broker (warm shutdown). */
  async releaseHeld(): Promise<void> {
    const held = [...this.#held.entries()];
    this.#held.clear();
    await Promise.allSettled(held.map(([delivery, { timer, wake }]) => {
      clearTimeout(timer);
      this.#released.add(delivery);
      wake();
      return delivery.reject(true);
    }));
  }

  /**
   * From now on, runs ended by terminating the pool are not failures: an
   * acks_late message goes back to the queue, an early-acked one is gone (as
   * in Celery's cold shutdown).
   */
  beginColdShutdown(): void {
    this.#cold = true;
  }

  /** Resolves when every delivery taken so far is settled. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #handle(delivery: Delivery): Promise<void> {
    const { logger } = this.#context;
    let call: TaskCall;
    try {
      call = decodeTaskMessage(delivery.message, this.#accepted);
    } catch (error) {
      const reason = (error as Error)?.message ?? String(error);
      logger.error(lines.malformedLine(delivery.queue, reason));
      sendSignal(this.#context.signals, "task_rejected", { sender: delivery.queue, reason });
      await delivery.reject(false);
      return;
    }
    const task = this.#context.lookup(call.task);
    if (!task) {
      logger.error(lines.unregisteredLine(call.task, call.id));
      sendSignal(this.#context.signals, "task_unknown", {
        sender: call.task,
        taskId: call.id,
        name: call.task,
      });
      await this.#store(
        call,
        errorResultMeta(this.#resultContext(call), "FAILURE", new NotRegistered(call.task)),
      );
      await delivery.reject(false);
      return;
    }
    logger.info(lines.receivedLine(call.task, call.id));
    if (this.#expired(call)) return await this.#revokeExpired(call, delivery);
    const wait = call.eta ? call.eta.getTime() - Date.now() : 0;
    if (wait > 0) {
      await new Promise<void>((wake) => {
        const timer = setTimeout(() => {
          this.#held.delete(delivery);
          wake();
        }, Math.min(wait, 2 ** 31 - 1));
        this.#held.set(delivery, { timer, wake });
      });
      if (this.#released.has(delivery)) return;
      if (this.#expired(call)) return await this.#revokeExpired(call, delivery);
    }
    await this.#execute(call, task, delivery);
  }

  #expired(call: TaskCall): boolean {
    return call.expires !== null && call.expires.getTime() <= Date.now();
  }

  async #revokeExpired(call: TaskCall, delivery: Delivery): Promise<void> {
    this.#context.logger.info(lines.discardingLine(call.task, call.id));
    sendSignal(this.#context.signals, "task_revoked", {
      sender: call.task,
      taskId: call.id,
      reason: "expired",
    });
    const error = new TaskRevokedError("expired", { taskName: call.task, taskId: call.id });
    await this.#store(call, errorResultMeta(this.#resultContext(call), "REVOKED", error, false));
    await delivery.ack();
  }

  async #execute(call: TaskCall, task: TaskDefinition, delivery: Delivery): Promise<void> {
    const { config, pool, hostname, signals } = this.#context;
    const acksLate = task.options.acksLate ?? config.task_acks_late;
    const request = requestFromCall(call, delivery, hostname);
    const hard = call.timeLimit[0] ?? task.options.timeLimit ?? config.task_time_limit;
    const soft = call.timeLimit[1] ?? task.options.softTimeLimit ?? config.task_soft_time_limit;
    let acked: Promise<void> | undefined;
    const result = await pool.run(
      { request, hardTimeLimit: hard, softTimeLimit: soft },
      () => {
        if (!acksLate) acked = delivery.ack();
        sendSignal(signals, "task_prerun", {
          sender: call.task,
          taskId: call.id,
          args: call.args,
          kwargs: call.kwargs,
        });
        if (task.options.trackStarted ?? config.task_track_started) {
          void this.#store(
            call,
            buildResultMeta(this.#resultContext(call), "STARTED", { pid: Deno.pid, hostname }),
          );
        }
      },
    );
    if (result.kind === "not-started") {
      await delivery.reject(true);
      return;
    }
    await acked;
    if (this.#cold && result.kind === "worker-lost") {
      if (acksLate) await delivery.reject(true);
      return;
    }
    const outcome = this.#outcomeOf(call, result);
    const settle = await this.#report(call, task, delivery, outcome, result);
    if (acksLate) await settle();
  }

  /** Turns a pool result into a task outcome (time limits and lost workers become failures). */
  #outcomeOf(call: TaskCall, result: Exclude<PoolResult, { kind: "not-started" }>): TaskOutcome {
    if (result.kind === "outcome") return result.outcome;
    const fields = { taskName: call.task, taskId: call.id };
    const error = result.kind === "time-limit"
      ? new TimeLimitExceeded(result.limit, fields)
      : new WorkerLostError(`Worker exited prematurely: ${result.reason}.`, fields);
    if (result.kind === "time-limit") {
      this.#context.logger.error(`Task handler raised error: TimeLimitExceeded(${result.limit})`);
      this.#context.logger.error(lines.hardLimitLine(call.task, call.id, result.limit));
    }
    return {
      state: "FAILURE",
      exception: encodeException(error),
      traceback: null,
      runtime: result.runtime,
      repr: pythonRepr(error),
    };
  }

  /**
   * Logs, stores and signals the outcome; returns how to settle the message
   * for acks_late (early-acked messages are already settled).
   */
  async #report(
    call: TaskCall,
    task: TaskDefinition,
    delivery: Delivery,
    outcome: TaskOutcome,
    result: PoolResult,
  ): Promise<() => Promise<void>> {
    const { logger, config, signals } = this.#context;
    const context = this.#resultContext(call, delivery.queue);
    const ack = () => delivery.ack();
    let state: TaskState | "REJECTED" | "IGNORED" = outcome.state;
    let retval: unknown = null;
    let settle = ack;
    switch (outcome.state) {
      case "SUCCESS": {
        retval = outcome.result;
        logger.info(lines.succeededLine(call.task, call.id, outcome.runtime, outcome.result));
        const ignore = call.ignoreResult ||
          (task.options.ignoreResult ?? config.task_ignore_result);
        if (!ignore) {
          const stored = await this.#store(
            call,
            buildResultMeta(context, "SUCCESS", outcome.result),
          );
          if (!stored) state = "FAILURE";
        }
        sendSignal(signals, "task_success", {
          sender: call.task,
          taskId: call.id,
          result: outcome.result,
        });
        break;
      }
      case "FAILURE": {
        retval = outcome.exception;
        logger.error(lines.failedLine(call.task, call.id, outcome.repr, outcome.traceback));
        const lost = result.kind === "worker-lost";
        const rejectOnLost = task.options.rejectOnWorkerLost ?? config.task_reject_on_worker_lost;
        if (lost && rejectOnLost) {
          settle = () => delivery.reject(true);
          break;
        }
        await this.#store(
          call,
          buildResultMeta(context, "FAILURE", outcome.exception, outcome.traceback),
        );
        sendSignal(signals, "task_failure", {
          sender: call.task,
          taskId: call.id,
          exception: {
            type: outcome.exception.exc_type,
            message: String(outcome.exception.exc_message),
          },
          traceback: outcome.traceback,
        });
        if (!config.task_acks_on_failure_or_timeout) settle = () => delivery.reject(false);
        break;
      }
      case "RETRY": {
        logger.info(lines.retryLine(call.task, call.id, outcome.reason));
        try {
          await publishRetry(this.#context.broker, call, delivery, outcome, this.#context.hostname);
        } catch (error) {
          logger.error(`Cannot publish the retry of ${call.task}[${call.id}]: ${error}`);
          settle = () => delivery.reject(true);
          break;
        }
        await this.#store(
          call,
          buildResultMeta(context, "RETRY", outcome.exception, outcome.traceback),
        );
        sendSignal(signals, "task_retry", {
          sender: call.task,
          taskId: call.id,
          reason: outcome.reason,
        });
        break;
      }
      case "REJECTED":
        logger.warning(lines.rejectedLine(call.task, call.id, outcome.reason, outcome.requeue));
        settle = () => delivery.reject(outcome.requeue);
        break;
      case "IGNORED":
        logger.info(lines.ignoredLine(call.task, call.id));
        break;
    }
    sendSignal(signals, "task_postrun", {
      sender: call.task,
      taskId: call.id,
      state,
      retval,
    });
    return settle;
  }

  #resultContext(call: TaskCall, queue = ""): ResultContext {
    const context: ResultContext = {
      taskId: call.id,
      groupId: call.group,
      parentId: call.parentId,
    };
    if (this.#context.config.result_extended) {
      context.extended = {
        name: call.task,
        args: call.args,
        kwargs: call.kwargs,
        worker: this.#context.hostname,
        retries: call.retries,
        queue,
      };
    }
    return context;
  }

  /**
   * Stores a result document; a value that cannot be encoded is stored as a
   * failure saying so. Returns false when the original could not be stored.
   */
  async #store(call: TaskCall, meta: ResultMeta): Promise<boolean> {
    const backend = this.#context.backend;
    if (!backend) return true;
    const route = { replyTo: call.replyTo, correlationId: call.correlationId };
    try {
      await backend.store(meta, route);
      return true;
    } catch (error) {
      this.#context.logger.error(
        `Cannot store the ${meta.status} result of ${call.task}[${call.id}]: ${error}`,
      );
      if (meta.status !== "SUCCESS") return false;
      const failure = buildResultMeta(
        this.#resultContext(call),
        "FAILURE",
        encodeException(error),
        formatTraceback(error),
      );
      await backend.store(failure, route).catch(() => {});
      return false;
    }
  }
}
