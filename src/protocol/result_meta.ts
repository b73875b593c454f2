/**
 * Result documents in Celery's format, built for each state the worker stores.
 *
 * @module
 */

import type { ResultMeta, TaskState } from "../backend/types.ts";
import { formatNaiveUtc } from "./dates.ts";
import { encodeException, formatTraceback } from "./exceptions.ts";

/** What the worker knows about the task when it stores a state. */
export interface ResultContext {
  /** Task id. */
  taskId: string;
  /** Group id, when any. */
  groupId?: string | null;
  /** Parent id, when any. */
  parentId?: string | null;
  /** Extended fields, included when `result_extended` is on. */
  extended?: {
    name: string;
    args: unknown[];
    kwargs: Record<string, unknown>;
    worker: string;
    retries: number;
    queue: string;
  };
}

/** Builds a result document for `state` holding `result`. */
export function buildResultMeta(
  context: ResultContext,
  state: TaskState,
  result: unknown,
  traceback: string | null = null,
  now: Date = new Date(),
): ResultMeta {
  const ready = state === "SUCCESS" || state === "FAILURE" || state === "REVOKED";
  // Key order follows Celery's _get_result_meta + _store_result: task_id comes last.
  const meta = {
    status: state,
    result,
    traceback,
    children: [],
    date_done: ready ? formatNaiveUtc(now) : null,
  } as Omit<ResultMeta, "task_id"> & { task_id?: string };
  if (context.groupId) meta.group_id = context.groupId;
  if (context.parentId) meta.parent_id = context.parentId;
  if (context.extended) Object.assign(meta, context.extended);
  meta.task_id = context.taskId;
  return meta as ResultMeta;
}

/** A FAILURE (or RETRY / REVOKED) document for an error. */
export function errorResultMeta(
  context: ResultContext,
  state: "FAILURE" | "RETRY" | "REVOKED",
  error: unknown,
  withTraceback = true,
): ResultMeta {
  return buildResultMeta(
    context,
    state,
    encodeException(error),
    withTraceback ? formatTraceback(error) : null,
  );
}
