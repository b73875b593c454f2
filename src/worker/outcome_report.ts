/**
 * After a run: turn what the pool reported into an outcome, log it as Celery
 * does, store its state, send its signals, and say how its message is
 * settled (for acks_late; an early ack was sent when the run started, and may
 * still be on its way while the state is stored). Celery's rules (spec §3.4, §5.3, §5.5, §7.1):
 *
 * - SUCCESS: stored unless the task or the message says `ignore_result`.
 * - FAILURE: stored unless the task ignores results (then only with
 *   `task_store_errors_even_if_ignored`); acked, or rejected without requeue
 *   when `task_acks_on_failure_or_timeout` is off. A lost worker thread with
 *   acks_late and `reject_on_worker_lost` requeues instead and stores nothing.
 * - RETRY: stored, the retry published, then the original acked; a retry
 *   that cannot be published fails the task (early ack) or requeues it.
 * - Reject: rejected with its requeue flag. Ignore: acked, nothing stored.
 *
 * @module
 */

import type { TaskState } from "../backend/types.ts";
import type { Broker, Delivery } from "../broker/types.ts";
import type { ResolvedConfig } from "../app/settings.ts";
import { sendSignal } from "../app/signals.ts";
import type { Logger } from "../log.ts";
import { TimeLimitExceeded, WorkerLostError } from "../errors.ts";
import { encodeException, formatTraceback } from "../protocol/exceptions.ts";
import { pythonRepr } from "../protocol/python_repr.ts";
import { buildResultMeta } from "../protocol/result_meta.ts";
import type { TaskCall } from "../protocol/task_message.ts";
import type { FailureOutcome, RetryOutcome, TaskOutcome } from "../task/outcome.ts";
import type { TaskDefinition } from "../task/task.ts";
import * as lines from "./log_lines.ts";
import type { PoolResult } from "./pool/types.ts";
import { publishRetry } from "./republish.ts";
import type { ResultWriter } from "./result_writer.ts";
import {
  applySuccessCanvas,
  finishFailureCanvas,
  finishSuccessCanvas,
  type WorkerCanvasContext,
} from "./canvas_after_task.ts";

/** What reporting needs from the worker (the backend and task lookup serve the canvas). */
export interface ReportContext extends WorkerCanvasContext {
  /** Resolved settings. */
  config: ResolvedConfig;
  /** Where retries are published. */
  broker: Broker;
  /** Stores states. */
  writer: ResultWriter;
  /** Where signals go. */
  signals: EventTarget;
  /** The worker's logger. */
  logger: Logger;
  /** This worker's node name. */
  hostname: string;
}

/** One finished run. */
export interface FinishedRun {
  /** The decoded message. */
  call: TaskCall;
  /** The task. */
  task: TaskDefinition;
  /** Its delivery. */
  delivery: Delivery;
  /** What the body (or the pool) produced. */
  outcome: TaskOutcome;
  /** How the pool ended the run. */
  result: PoolResult;
  /** Whether the message is still unsettled (acks_late). */
  acksLate: boolean;
}

/** How to settle the message of an acks_late run. */
export type Settle = () => Promise<void>;

/**
 * The outcome of a run: the task's own, or a failure when the pool ended it
 * (TimeLimitExceeded, WorkerLostError), logged with Celery's lines.
 */
export function outcomeOf(
  call: TaskCall,
  result: Exclude<PoolResult, { kind: "not-started" | "terminated" }>,
  logger: Logger,
): TaskOutcome {
  if (result.kind === "outcome") return result.outcome;
  const fields = { taskName: call.task, taskId: call.id };
  const error = result.kind === "time-limit"
    ? new TimeLimitExceeded(result.limit, fields)
    : new WorkerLostError(`Worker exited prematurely: ${result.reason}.`, fields);
  if (result.kind === "time-limit") {
    logger.error(`Task handler raised error: TimeLimitExceeded(${result.limit})`);
    logger.error(lines.hardLimitLine(call.task, call.id, result.limit));
  } else {
    logger.error(`Task handler raised error: ${pythonRepr(error)}`);
  }
  return {
    state: "FAILURE",
    exception: encodeException(error),
    traceback: null,
    runtime: result.runtime,
    repr: pythonRepr(error),
  };
}

/** Logs, stores and signals `run`'s outcome; returns how to settle an acks_late message. */
export async function reportOutcome(context: ReportContext, run: FinishedRun): Promise<Settle> {
  const { outcome, call, delivery } = run;
  const taskIgnores = run.task.options.ignoreResult ?? context.config.task_ignore_result;
  const storeErrors = !taskIgnores || context.config.task_store_errors_even_if_ignored;
  let state: TaskState | "REJECTED" | "IGNORED" = outcome.state;
  let retval: unknown = null;
  let settle: Settle = () => delivery.ack();
  switch (outcome.state) {
    case "SUCCESS": {
      retval = outcome.result;
      const children: unknown[] = [];
      const canvasFailure = await applySuccessCanvas(
        context,
        call,
        retval,
        outcome.runtime,
        children,
      );
      if (canvasFailure) {
        [state, retval] = ["FAILURE", canvasFailure.exception];
        settle = await reportFailure(
          context,
          { ...run, outcome: canvasFailure },
          canvasFailure,
          storeErrors,
        );
        break;
      }
      if (context.logger.isEnabledFor("INFO")) { // the result's repr is costly; skip it below INFO
        context.logger.info(lines.succeededLine(call.task, call.id, outcome.runtime, retval));
      }
      if (!(call.ignoreResult || taskIgnores)) {
        const meta = buildResultMeta(
          context.writer.context(call, delivery.queue),
          "SUCCESS",
          retval,
        );
        if (children.length) meta.children = children;
        if (!await context.writer.store(call, meta)) state = "FAILURE";
      }
      await finishSuccessCanvas(context, call, retval);
      sendSignal(context.signals, "task_success", {
        sender: call.task,
        taskId: call.id,
        result: retval,
      });
      break;
    }
    case "FAILURE":
      retval = outcome.exception;
      settle = await reportFailure(context, run, outcome, storeErrors);
      break;
    case "RETRY":
      settle = await reportRetry(context, run, outcome, storeErrors);
      break;
    case "REJECTED":
      context.logger.warning(
        lines.rejectedLine(call.task, call.id, outcome.reason, outcome.requeue),
      );
      settle = () => delivery.reject(outcome.requeue);
      break;
    case "IGNORED":
      context.logger.info(lines.ignoredLine(call.task, call.id));
      break;
  }
  sendSignal(context.signals, "task_postrun", {
    sender: call.task,
    taskId: call.id,
    state,
    retval,
  });
  return settle;
}

async function reportFailure(
  context: ReportContext,
  run: FinishedRun,
  outcome: FailureOutcome,
  storeErrors: boolean,
): Promise<Settle> {
  const { call, delivery, task } = run;
  const { config } = context;
  if (run.result.kind === "outcome") {
    context.logger.error(lines.failedLine(call.task, call.id, outcome.repr, outcome.traceback));
  }
  const rejectOnLost = task.options.rejectOnWorkerLost ?? config.task_reject_on_worker_lost;
  if (run.result.kind === "worker-lost" && run.acksLate && rejectOnLost) {
    return () => delivery.reject(true);
  }
  if (storeErrors) {
    const meta = buildResultMeta(
      context.writer.context(call, delivery.queue),
      "FAILURE",
      outcome.exception,
      outcome.traceback,
    );
    await context.writer.store(call, meta);
  }
  await finishFailureCanvas(context, call, outcome.exception, outcome.traceback, storeErrors);
  sendSignal(context.signals, "task_failure", {
    sender: call.task,
    taskId: call.id,
    exception: { type: outcome.exception.exc_type, message: String(outcome.exception.exc_message) },
    traceback: outcome.traceback,
  });
  return config.task_acks_on_failure_or_timeout
    ? () => delivery.ack()
    : () => delivery.reject(false);
}

async function reportRetry(
  context: ReportContext,
  run: FinishedRun,
  outcome: RetryOutcome,
  storeErrors: boolean,
): Promise<Settle> {
  const { call, delivery } = run;
  context.logger.info(lines.retryLine(call.task, call.id, outcome.reason));
  const documentContext = context.writer.context(call, delivery.queue);
  // RETRY is stored before the retry is published: stored after, it could
  // overwrite the state of a retry that already ran.
  if (storeErrors) {
    const meta = buildResultMeta(documentContext, "RETRY", outcome.exception, outcome.traceback);
    await context.writer.store(call, meta);
  }
  try {
    await publishRetry(context.broker, call, delivery, outcome, context.hostname);
  } catch (error) {
    context.logger.error(
      `Cannot publish the retry of ${lines.taskLabel(call.task, call.id)}: ${error}`,
    );
    if (run.acksLate) return () => delivery.reject(true);
    // The message is acked already: fail the task rather than leave it RETRY forever.
    const meta = buildResultMeta(
      documentContext,
      "FAILURE",
      encodeException(error),
      formatTraceback(error),
    );
    if (storeErrors) await context.writer.store(call, meta);
    return () => delivery.ack();
  }
  sendSignal(context.signals, "task_retry", {
    sender: call.task,
    taskId: call.id,
    reason: outcome.reason,
  });
  return () => delivery.ack();
}
