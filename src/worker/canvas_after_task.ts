/**
 * The canvas part of finishing a task on the worker, as Celery 5.2.6's
 * `trace.py` and `backends/base.py` do it (spec §1.4, §1.5, §1.7):
 *
 * - success, before the result is stored: link callbacks applied with the
 *   result prepended (several plain ones as one new group), then the next
 *   chain step (the last element of `embed.chain`) with the rest of the chain;
 * - success, after the result is stored: the chord part counted;
 * - failure, after the FAILURE is stored: the chord part counted, FAILURE
 *   stored for every remaining chain step (and their chord parts counted),
 *   then the errbacks.
 *
 * A canvas the worker cannot apply (a malformed signature, a broker error)
 * turns the success into a FAILURE naming why: never a SUCCESS with the next
 * steps silently dropped. Plain functions over the request and the outcome,
 * so they run wherever outcomes are reported.
 *
 * @module
 */

import type { EncodedException, ResultBackend } from "../backend/types.ts";
import type { Broker } from "../broker/types.ts";
import type { ResolvedConfig } from "../app/settings.ts";
import { nodeOrigin } from "../app/node_name.ts";
import type { Logger } from "../log.ts";
import { encodeException, formatTraceback } from "../protocol/exceptions.ts";
import { pythonRepr } from "../protocol/python_repr.ts";
import type { TaskCall } from "../protocol/task_message.ts";
import type { FailureOutcome } from "../task/outcome.ts";
import type { TaskDefinition } from "../task/task.ts";
import { applyCanvas } from "../canvas/apply_canvas.ts";
import {
  callErrbacks,
  type CanvasRequest,
  type CanvasRuntime,
  chordPartReturn,
  storeFailure,
} from "../canvas/chord_completion.ts";
import { groupSignature, kindOf } from "../canvas/freeze.ts";
import { canvasSender } from "../canvas/sender.ts";
import { type CanvasOptions, fromWire, type Signature } from "../canvas/signature.ts";
import { asTuple } from "../canvas/result_node.ts";

/** What the worker gives the canvas logic. */
export interface WorkerCanvasContext {
  /** Resolved settings. */
  config: ResolvedConfig;
  /** Where follow-up tasks are published. */
  broker: Broker;
  /** The result backend, if any. */
  backend?: ResultBackend;
  /** Registered tasks. */
  lookup?: (name: string) => TaskDefinition | undefined;
  /** Where signals go. */
  signals: EventTarget;
  /** The worker's logger. */
  logger: Logger;
}

/** This worker process's `reply_to` for callbacks it sends (Celery's `thread_oid`). */
const WORKER_OID = crypto.randomUUID();

function runtimeFor(context: WorkerCanvasContext, call: TaskCall): CanvasRuntime {
  const lookup = context.lookup ?? (() => undefined);
  const sender = canvasSender(
    {
      config: context.config,
      broker: context.broker,
      backend: undefined,
      oid: WORKER_OID,
      origin: nodeOrigin(),
      signals: context.signals,
      parent: { id: call.id, rootId: call.rootId },
    },
    WORKER_OID,
    lookup,
    context.backend,
  );
  return { sender, backend: context.backend, lookup, logger: context.logger };
}

function canvasRequest(call: TaskCall, context?: unknown): CanvasRequest {
  return {
    id: call.id,
    rootId: call.rootId,
    group: call.group,
    groupIndex: call.groupIndex,
    chord: call.embed.chord,
    errbacks: call.embed.errbacks,
    replyTo: call.replyTo,
    context,
  };
}

/** True when the message carries any canvas (so plain tasks skip all of this). */
export function hasCanvas(call: TaskCall): boolean {
  const { callbacks, errbacks, chain, chord } = call.embed;
  return Boolean(callbacks?.length || errbacks?.length || chain?.length || chord);
}

/**
 * Applies link callbacks and the next chain step after a success, adding
 * their result tuples to `children` (the stored result's `children`, as
 * Celery records them). Returns a FAILURE outcome when they cannot be
 * applied, undefined otherwise.
 */
export async function applySuccessCanvas(
  context: WorkerCanvasContext,
  call: TaskCall,
  retval: unknown,
  runtime: number,
  children: unknown[] = [],
): Promise<FailureOutcome | undefined> {
  const { callbacks, chain } = call.embed;
  if (!callbacks?.length && !chain?.length) return undefined;
  const canvas = runtimeFor(context, call);
  const lineage = { parent_id: call.id, root_id: call.rootId };
  const apply = async (sig: Signature, options: CanvasOptions) => {
    children.push(asTuple(await applyCanvas(sig, [retval], {}, options, canvas.sender)));
  };
  try {
    if (callbacks?.length === 1) {
      await apply(fromWire(callbacks[0]), lineage);
    } else if (callbacks?.length) {
      const signatures = callbacks.map((callback) => fromWire(callback));
      const plain: Signature[] = [];
      for (const sig of signatures) {
        if (kindOf(sig) === "group") await apply(sig, lineage);
        else plain.push(sig);
      }
      if (plain.length) await apply(groupSignature(plain), lineage);
    }
    if (chain?.length) {
      const remaining = [...chain];
      await apply(fromWire(remaining.pop()), { ...lineage, chain: remaining });
    }
    return undefined;
  } catch (error) {
    context.logger.error(
      `Task ${call.task}[${call.id}] succeeded but its callbacks or next chain step ` +
        `could not be applied: ${error}`,
    );
    return {
      state: "FAILURE",
      exception: encodeException(error),
      traceback: formatTraceback(error),
      runtime,
      repr: pythonRepr(error),
    };
  }
}

/** Counts the chord part of a stored success (Celery's `mark_as_done`). */
export async function finishSuccessCanvas(
  context: WorkerCanvasContext,
  call: TaskCall,
  retval: unknown,
): Promise<void> {
  if (!call.embed.chord) return;
  try {
    await chordPartReturn(runtimeFor(context, call), canvasRequest(call), "SUCCESS", retval);
  } catch (error) {
    context.logger.error(`Chord part ${call.task}[${call.id}] could not be counted: ${error}`);
  }
}

/** Counts the chord part of a task revoked before it ran (Celery's `mark_as_revoked`). */
export async function finishRevokedCanvas(
  context: WorkerCanvasContext,
  call: TaskCall,
  exception: EncodedException,
): Promise<void> {
  if (!call.embed.chord) return;
  try {
    await chordPartReturn(runtimeFor(context, call), canvasRequest(call), "REVOKED", exception);
  } catch (error) {
    context.logger.error(`Chord part ${call.task}[${call.id}] could not be counted: ${error}`);
  }
}

/**
 * After a FAILURE is stored (Celery's `mark_as_failure`): the chord part,
 * FAILURE for every remaining chain step, then the errbacks.
 */
export async function finishFailureCanvas(
  context: WorkerCanvasContext,
  call: TaskCall,
  exception: EncodedException,
  traceback: string | null,
  storeErrors: boolean,
  requestForErrbacks?: unknown,
): Promise<void> {
  if (!hasCanvas(call)) return;
  const canvas = runtimeFor(context, call);
  try {
    if (call.embed.chord) {
      await chordPartReturn(canvas, canvasRequest(call), "FAILURE", exception);
    }
    for (const element of call.embed.chain ?? []) {
      await failChainStep(canvas, element, exception, traceback, storeErrors);
    }
    if (call.embed.errbacks?.length) {
      await callErrbacks(canvas, canvasRequest(call, requestForErrbacks), exception, traceback);
    }
  } catch (error) {
    context.logger.error(
      `The failure of ${call.task}[${call.id}] could not be passed on to its canvas: ${error}`,
    );
  }
}

async function failChainStep(
  canvas: CanvasRuntime,
  element: unknown,
  exception: EncodedException,
  traceback: string | null,
  storeErrors: boolean,
): Promise<void> {
  const options = (element as { options?: Record<string, unknown> })?.options ?? {};
  const id = typeof options.task_id === "string" ? options.task_id : undefined;
  const groupId = typeof options.group_id === "string" ? options.group_id : null;
  if (storeErrors && id) {
    await storeFailure(canvas.backend, id, exception, traceback, {
      replyTo: options.reply_to as string | undefined,
      groupId,
    });
  }
  if ("chord" in options && id) {
    await chordPartReturn(
      canvas,
      {
        id,
        rootId: id,
        group: groupId,
        groupIndex: typeof options.group_index === "number" ? options.group_index : null,
        chord: options.chord,
        errbacks: null,
        replyTo: "",
      },
      "FAILURE",
      exception,
    );
  }
}
