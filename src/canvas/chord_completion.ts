/**
 * What happens when a task of a canvas ends, shared by the worker and the
 * `celery.chord_unlock` builtin: counting a chord part and sending the body
 * with the header's results when the last part is in (spec §1.7), Celery's
 * `ChordError` on the body when a part failed, and errbacks (spec §1.4) —
 * called in this process when the errback is a registered task taking
 * `(request, exc, traceback)`, otherwise sent as tasks with `[task_id]`.
 *
 * @module
 */

import type { EncodedException, ResultBackend, ResultMeta } from "../backend/types.ts";
import { PROPAGATE_STATES } from "../backend/types.ts";
import type { Logger } from "../log.ts";
import { pythonRepr } from "../protocol/python_repr.ts";
import { encodeException, RemoteError } from "../protocol/exceptions.ts";
import { buildResultMeta } from "../protocol/result_meta.ts";
import type { TaskDefinition } from "../task/task.ts";
import { applyCanvas, type CanvasSender } from "./apply_canvas.ts";
import { type ChordPart, isNativeChordBackend, type NativeChordBackend } from "./chord_backend.ts";
import { fromTuple, type ResultNode } from "./result_node.ts";
import { groupSignature } from "./freeze.ts";
import { fromWire, type Signature, signaturesOf } from "./signature.ts";

/** What finishing a canvas step needs. */
export interface CanvasRuntime {
  /** Sends follow-up tasks. */
  sender: CanvasSender;
  /** The result backend. */
  backend: ResultBackend | undefined;
  /** Registered tasks (for errbacks called in-process). */
  lookup: (name: string) => TaskDefinition | undefined;
  /** Where errors are logged. */
  logger: Logger;
}

/** The parts of a request that canvas bookkeeping reads. */
export interface CanvasRequest {
  /** Task id. */
  id: string;
  /** Root of the workflow. */
  rootId: string;
  /** Group id. */
  group: string | null;
  /** Position in the chord header. */
  groupIndex: number | null;
  /** Chord body, when the task is a chord header part. */
  chord: unknown;
  /** Errbacks. */
  errbacks: unknown[] | null;
  /** `reply_to` of its result (rpc). */
  replyTo: string;
  /** What an in-process errback receives as `request`. */
  context?: unknown;
}

/** Celery's `ChordError`, encoded. */
export function chordError(reason: string): EncodedException {
  return { exc_type: "ChordError", exc_message: [reason], exc_module: "celery.exceptions" };
}

/** `ValueError('boom')`: Python's repr of an encoded exception. */
export function exceptionRepr(exception: unknown): string {
  const encoded = exception as Partial<EncodedException>;
  if (!encoded || typeof encoded.exc_type !== "string") return pythonRepr(exception);
  const args = Array.isArray(encoded.exc_message) ? encoded.exc_message : [encoded.exc_message];
  return `${encoded.exc_type}(${args.map((arg) => pythonRepr(arg)).join(", ")})`;
}

/** Stores FAILURE for `taskId` with the reply route of a frozen signature. */
export async function storeFailure(
  backend: ResultBackend | undefined,
  taskId: string,
  exception: EncodedException,
  traceback: string | null,
  route: { replyTo?: string; groupId?: string | null },
): Promise<void> {
  if (!backend) return;
  const meta: ResultMeta = buildResultMeta(
    { taskId, groupId: route.groupId ?? null },
    "FAILURE",
    exception,
    traceback,
  );
  await backend.store(meta, { replyTo: route.replyTo, correlationId: taskId });
}

/**
 * Counts one chord header completion on a native-join backend; when it is
 * the last, sends the body with the results in header order, or fails the
 * body with `ChordError` when a part failed or was revoked.
 */
export async function chordPartReturn(
  runtime: CanvasRuntime,
  request: CanvasRequest,
  state: string,
  result: unknown,
): Promise<void> {
  const backend = runtime.backend;
  if (!isNativeChordBackend(backend) || !request.group || !request.id) return;
  const progress = await backend.chordPartReturn(
    request.group,
    { taskId: request.id, state, result },
    request.groupIndex,
  );
  if (!progress.complete) return;
  const body = fromWire(request.chord);
  let values: unknown[];
  try {
    values = await headerValues(backend, request.group, progress.parts);
  } catch (error) {
    if (!(error instanceof DependencyFailed)) throw error;
    runtime.logger.error(
      `Chord '${request.group}' raised: ChordError(${pythonRepr(error.message)})`,
    );
    await failChordBody(runtime, body, chordError(error.message));
    return;
  }
  try {
    await applyCanvas(body, [values], {}, {}, runtime.sender);
  } catch (error) {
    const reason = `Callback error: ${exceptionRepr(encodeException(error))}`;
    runtime.logger.error(`Chord callback for '${request.group}' raised: ${reason}`);
    await failChordBody(runtime, body, chordError(reason));
  } finally {
    await backend.deleteChordKeys(request.group);
  }
}

/** A header task that failed or was revoked: the reason of the chord's ChordError. */
class DependencyFailed extends Error {}

/** How long the body's join waits for a header result (Celery's `result_chord_join_timeout`, 3 s). */
const CHORD_JOIN_TIMEOUT_MS = 3_000;

/**
 * The header's results for the body, in header order: from the join's
 * parts, or, when the client saved the header (it has group members), read
 * back with that structure (nested lists), as Celery's Redis backend does.
 */
async function headerValues(
  backend: NativeChordBackend,
  groupId: string,
  parts: ChordPart[],
): Promise<unknown[]> {
  const saved = await backend.restoreGroup(groupId);
  if (!saved) {
    const failed = parts.find((part) => PROPAGATE_STATES.has(part.state));
    if (failed) {
      throw new DependencyFailed(
        `Dependency ${failed.taskId} raised ${exceptionRepr(failed.result)}`,
      );
    }
    return parts.map((part) => part.result);
  }
  // In order, so the first failed dependency is the one reported, as in Celery's join.
  const joinAll = async (nodes: ResultNode[]) => {
    const values = [];
    for (const node of nodes) values.push(await join(node));
    return values;
  };
  const join = async (node: ResultNode): Promise<unknown> => {
    if (node.results) return await joinAll(node.results);
    // As Celery's join: the count can complete before a nested group's member
    // stored its result (the size counts the header's top-level parts), so wait.
    let meta: ResultMeta;
    try {
      meta = await backend.waitFor(node.id, { timeoutMs: CHORD_JOIN_TIMEOUT_MS, intervalMs: 50 });
    } catch (error) {
      throw new DependencyFailed(`Join error: ${exceptionRepr(encodeException(error))}`);
    }
    if (PROPAGATE_STATES.has(meta.status)) {
      throw new DependencyFailed(`Dependency ${node.id} raised ${exceptionRepr(meta.result)}`);
    }
    return meta.result ?? null;
  };
  const nodes = saved.map(fromTuple).filter((node): node is ResultNode => node !== undefined);
  return await joinAll(nodes);
}

/** Celery's `chord_error_from_stack`: the body's errbacks, then FAILURE stored for the body. */
export async function failChordBody(
  runtime: CanvasRuntime,
  body: Signature,
  exception: EncodedException,
): Promise<void> {
  const bodyId = body.id ?? crypto.randomUUID();
  const errbacks = body.options.link_error;
  await callErrbacks(
    runtime,
    {
      id: bodyId,
      rootId: (body.options.root_id as string | undefined) ?? bodyId,
      group: null,
      groupIndex: null,
      chord: null,
      errbacks: errbacks === undefined ? null : signaturesOf(errbacks),
      replyTo: (body.options.reply_to as string | undefined) ?? "",
    },
    exception,
    null,
  );
  await storeFailure(runtime.backend, bodyId, exception, null, {
    replyTo: body.options.reply_to as string | undefined,
  });
}

/**
 * Celery's test (`arity_greater(fun, 1)`): more than one positional
 * parameter, or a rest parameter; a destructured keyword object does not count.
 */
function isNewStyleErrback(task: TaskDefinition | undefined): task is TaskDefinition {
  if (task === undefined || task.options.bind) return false;
  const positional = task.paramNames.filter((name) => name !== null);
  return positional.length > 1 || positional.some((name) => name.startsWith("..."));
}

/**
 * Celery's `_call_task_errbacks`: an errback registered here whose function
 * takes more than one argument is called at once as
 * `errback(request, exc, traceback)`; the others are sent together as a
 * group with the failed task's id as their first argument.
 */
export async function callErrbacks(
  runtime: CanvasRuntime,
  request: CanvasRequest,
  exception: EncodedException,
  traceback: string | null,
): Promise<void> {
  const sendAsTasks: Signature[] = [];
  for (const errback of signaturesOf(request.errbacks)) {
    const task = runtime.lookup(errback.task);
    if (!isNewStyleErrback(task)) {
      sendAsTasks.push(errback);
      continue;
    }
    try {
      // Celery calls the signature: (request, exc, traceback) then its own arguments.
      const error = new RemoteError(exception, traceback, request.id);
      const [args] = errback.merge([request.context ?? request, error, traceback]);
      // The function itself, as JavaScript calls it: an errback that takes
      // (request, exc) ignores the traceback instead of failing the arity check.
      await task.fn(...args);
    } catch (error) {
      runtime.logger.error(`Errback ${errback.task} of ${request.id} raised: ${error}`);
    }
  }
  if (!sendAsTasks.length) return;
  await applyCanvas(groupSignature(sendAsTasks), [request.id], {}, {
    parent_id: request.id,
    root_id: request.rootId,
  }, runtime.sender);
}
