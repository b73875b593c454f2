/**
 * A canvas sent or run by an app: the app's `CanvasSender` (its broker,
 * result backend and reply queue), result handles for what was sent
 * (`AsyncResult` with `parent`, `GroupResult`), and `apply()` running a
 * whole canvas in this process (Celery's eager `apply`).
 *
 * @module
 */

import type { ResultBackend } from "../backend/types.ts";
import type { Broker } from "../broker/types.ts";
import type { ResolvedConfig } from "../app/settings.ts";
import { nodeOrigin } from "../app/node_name.ts";
import { NoResultBackendError, NotRegistered } from "../errors.ts";
import { currentRequest } from "../task/current_request.ts";
import type { EagerResult } from "../task/eager_result.ts";
import type { ApplyOptions } from "../task/options.ts";
import type { ResultRevokeOptions } from "../task/async_result.ts";
import type { Task, TaskDefinition } from "../task/task.ts";
import { applyCanvas, type CanvasSender, chunksGroup } from "./apply_canvas.ts";
import { bodyOf, headerOf, kindOf, tasksOf } from "./freeze.ts";
import { GroupResult, ResultSet } from "./group_result.ts";
import { resultOf } from "./result_tree.ts";
import type { CanvasOptions, Signature } from "./signature.ts";
import { applyOptionsOf, canvasSender } from "./sender.ts";

/** What the canvas needs from an app. */
export interface CanvasHost {
  /** This client's id (Celery's oid). */
  readonly oid: string;
  /** Registered tasks. */
  readonly tasks: { get(name: string): Task | undefined };
  /** Resolved settings. */
  readonly conf: { resolve(): ResolvedConfig };
  /** Connects (once) and returns the broker, without keeping the process alive. */
  openBroker(): Promise<Broker>;
  /** Connects (once) and returns the result backend, without keeping the process alive. */
  openBackend(): Promise<ResultBackend | undefined>;
  /** Returns the backend or throws when results are disabled. */
  requireBackend(): Promise<ResultBackend>;
  /** Remote control, for results' `revoke()`. */
  readonly control: { revoke(id: string, options?: ResultRevokeOptions): Promise<unknown> };
  /** Runs a task in this process. */
  applyEager(task: TaskDefinition, args: unknown[], options?: ApplyOptions): Promise<EagerResult>;
}

/** The app's sender: its broker, its result backend, and the task running now as parent. */
export async function appSender(host: CanvasHost & EventTarget): Promise<CanvasSender> {
  const config = host.conf.resolve();
  const [broker, backend] = await Promise.all([host.openBroker(), host.openBackend()]);
  // rpc: results come to this client's reply queue, so frozen steps name it.
  const replyTo = backend && "replyQueue" in backend
    ? await backend.prepare("") ?? host.oid
    : host.oid;
  const parent = currentRequest();
  return canvasSender(
    {
      config,
      broker,
      backend,
      oid: host.oid,
      origin: nodeOrigin(),
      signals: host,
      parent: parent && !parent.isEager ? { id: parent.id, rootId: parent.rootId } : undefined,
    },
    replyTo,
    (name) => host.tasks.get(name),
    backend,
  );
}

/** Sends `sig` through the app; returns an AsyncResult (with parents) or a GroupResult. */
export async function sendSignature(
  host: CanvasHost & EventTarget,
  sig: Signature,
  args: unknown[],
  kwargs: Record<string, unknown>,
  options: CanvasOptions,
): Promise<unknown> {
  // As Celery: with task_always_eager, applyAsync runs the canvas in this process.
  if (host.conf.resolve().task_always_eager) {
    return await applySignatureEagerly(host, sig, args, kwargs);
  }
  const node = await applyCanvas(sig, args, kwargs, options, await appSender(host));
  return resultOf(node, () => openedBackend(host), (id, o) => host.control.revoke(id, o));
}

/** A result of an eager run: its value is known. */
export interface EagerValue {
  /** Task or group id. */
  readonly id: string;
  /** The value, or throws the error. */
  get(options?: { propagate?: boolean }): Promise<unknown>;
}

/** Runs `sig` (any canvas) in this process; returns an EagerResult, or a ResultSet for groups. */
export async function applySignatureEagerly(
  host: CanvasHost,
  sig: Signature,
  args: unknown[],
  kwargs: Record<string, unknown>,
): Promise<unknown> {
  switch (kindOf(sig)) {
    case "chain": {
      let last: EagerValue | undefined;
      let partial: [unknown[], Record<string, unknown>] = [args, kwargs];
      for (const step of tasksOf(sig)) {
        const previous = last ? [await last.get()] : [];
        const next = await applySignatureEagerly(
          host,
          step.clone(...partial), // clone applies the partial arguments (once)
          previous,
          {},
        ) as EagerValue;
        (next as { parent?: unknown }).parent = last;
        last = next;
        partial = [[], {}];
      }
      return last;
    }
    case "group":
    case "chunks": {
      const group = kindOf(sig) === "chunks" ? chunksGroup(sig) : sig;
      const results = [];
      for (const member of tasksOf(group)) {
        results.push(await applySignatureEagerly(host, member, args, kwargs));
      }
      return new ResultSet(results as GroupResult[]);
    }
    case "chord": {
      const header = await applySignatureEagerly(host, headerOf(sig), args, kwargs) as ResultSet;
      return await applySignatureEagerly(host, bodyOf(sig), [await header.get()], {});
    }
    default: {
      const task = host.tasks.get(sig.task);
      if (!task) throw new NotRegistered(sig.task);
      const [a, k, o] = sig.merge(args, kwargs);
      return await host.applyEager(task, a, { ...applyOptionsOf(o), kwargs: k });
    }
  }
}

/** A group saved with `GroupResult.save()` (by celeriac or Python Celery), or undefined. */
export async function restoreGroup<R>(
  host: CanvasHost,
  id: string,
): Promise<GroupResult<R> | undefined> {
  const restored = await GroupResult.restore(
    id,
    () => host.openBackend(),
    (node) => resultOf(node, () => openedBackend(host), (id, o) => host.control.revoke(id, o)),
  );
  return restored as GroupResult<R> | undefined;
}

/** The backend for results handed to the caller: opened without holding the process (`get()` holds it). */
async function openedBackend(host: CanvasHost): Promise<ResultBackend> {
  const backend = await host.openBackend();
  if (!backend) throw new NoResultBackendError();
  return backend;
}
