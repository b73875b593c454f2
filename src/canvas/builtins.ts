/**
 * The builtin tasks every Celery worker registers (Celery's
 * `app/builtins.py`, spec §1.8), under their fixed names: `celery.map`,
 * `celery.starmap` (the task called in this process for each item),
 * `celery.chunks`, `celery.chord_unlock` (polling chord join for backends
 * without a native one), `celery.accumulate`, `celery.backend_cleanup`, and
 * the legacy `celery.group`, `celery.chain`, `celery.chord`. They are
 * resolved by name like any task but not listed among an app's tasks (as
 * Celery's banner and `inspect registered` hide `celery.*`).
 *
 * @module
 */

import { READY_STATES } from "../backend/types.ts";
import { defineTask } from "../app/define_task.ts";
import { getLogger } from "../log.ts";
import { NotRegistered } from "../errors.ts";
import { createTask, type Task, type TaskBody, type TaskDispatcher } from "../task/task.ts";
import type { BoundTask } from "../task/task.ts";
import type { TaskOptions } from "../task/options.ts";
import { applyCanvas } from "./apply_canvas.ts";
import { appSender, type CanvasHost } from "./app_canvas.ts";
import { chordError, exceptionRepr, failChordBody } from "./chord_completion.ts";
import { chordSignature, groupSignature } from "./freeze.ts";
import { asTuple, fromTuple, type ResultNode } from "./result_node.ts";
import { fromWire, Signature } from "./signature.ts";

const log = getLogger("canvas");

/** An app the builtins can work through. */
export type BuiltinHost = CanvasHost & EventTarget & TaskDispatcher;

function leafIds(nodes: ResultNode[]): string[] {
  return nodes.flatMap((node) => node.results ? leafIds(node.results) : [node.id]);
}

/** Makes the builtin tasks of `host`. */
export function builtinTasks(host: BuiltinHost): Task[] {
  const make = (fn: TaskBody, options: TaskOptions) =>
    createTask(defineTask(fn, options), () => host);

  const callEach = async (taskSig: unknown, items: unknown[], spread: boolean) => {
    const name = fromWire(taskSig).task;
    const task = host.tasks.get(name);
    if (!task) throw new NotRegistered(name);
    const values = [];
    for (const item of items) {
      values.push(await (spread ? task(...item as unknown[]) : task(item)));
    }
    return values;
  };

  async function chordUnlock(
    self: BoundTask,
    groupId: string,
    callback: unknown,
    interval: number | null = null,
    maxRetries: number | null = null,
    result: unknown[] = [],
  ) {
    const config = host.conf.resolve();
    const body = fromWire(callback);
    const nodes = result.map(fromTuple).filter((n): n is ResultNode => n !== undefined);
    const backend = await host.requireBackend();
    const metas = await Promise.all(leafIds(nodes).map((id) => backend.read(id)));
    if (!metas.every((meta) => meta && READY_STATES.has(meta.status))) {
      self.retry({ countdown: interval ?? config.result_chord_retry_interval, maxRetries });
    }
    const sender = await appSender(host);
    const failed = metas.find((meta) => meta!.status !== "SUCCESS");
    if (failed) {
      const reason = `Dependency ${failed.task_id} raised ${exceptionRepr(failed.result)}`;
      log.error(`Chord '${groupId}' raised: ChordError('${reason}')`);
      const runtime = { sender, backend, lookup: (n: string) => host.tasks.get(n), logger: log };
      await failChordBody(runtime, body, chordError(reason));
      return null;
    }
    await applyCanvas(body, [metas.map((meta) => meta!.result)], {}, {}, sender);
    return null;
  }

  async function chunks(task: unknown, it: unknown[], n: number) {
    const sig = new Signature("celery.chunks", [], { task, it, n }, {}, null, true);
    return asTuple(await applyCanvas(sig, [], {}, {}, await appSender(host)));
  }

  async function group(
    tasks: unknown[],
    _result: unknown,
    groupId: string,
    partialArgs: unknown[],
  ) {
    const sig = groupSignature(tasks.map((task) => fromWire(task)), { task_id: groupId });
    return asTuple(await applyCanvas(sig, partialArgs ?? [], {}, {}, await appSender(host)));
  }

  async function chord(header: unknown, body: unknown, partialArgs: unknown[] = []) {
    const headerSig = Array.isArray(header) ? header.map((t) => fromWire(t)) : fromWire(header);
    const sig = chordSignature(headerSig, fromWire(body));
    return asTuple(await applyCanvas(sig, partialArgs, {}, {}, await appSender(host)));
  }

  return [
    make(function backend_cleanup() {
      return null; // every celeriac backend expires results itself
    }, { name: "celery.backend_cleanup" }),
    make(function accumulate(self: BoundTask, ...args: unknown[]) {
      const index = self.request.kwargs.index;
      return typeof index === "number" ? args[index] : args;
    }, { name: "celery.accumulate", bind: true, argNames: ["**kwargs"] }),
    make(chordUnlock, {
      name: "celery.chord_unlock",
      bind: true,
      maxRetries: null,
      ignoreResult: true,
      argNames: ["group_id", "callback", "interval", "max_retries", "result"],
    }),
    make((task: unknown, it: unknown[]) => callEach(task, it, false), {
      name: "celery.map",
      argNames: ["task", "it"],
    }),
    make((task: unknown, it: unknown[]) => callEach(task, it, true), {
      name: "celery.starmap",
      argNames: ["task", "it"],
    }),
    make(chunks, { name: "celery.chunks", argNames: ["task", "it", "n"] }),
    make(group, {
      name: "celery.group",
      argNames: ["tasks", "result", "group_id", "partial_args", "add_to_parent"],
    }),
    make(function chain() {
      const error = new Error("chain is not a real task");
      error.name = "NotImplementedError";
      throw error;
    }, { name: "celery.chain", argNames: ["**kwargs"] }),
    make(chord, {
      name: "celery.chord",
      argNames: ["header", "body", "partial_args", "interval", "countdown", "max_retries", "eager"],
    }),
  ];
}
