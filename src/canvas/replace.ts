/**
 * `self.replace(sig)` in a bound task (Celery's `Task.replace`): the
 * replacement inherits the task's id, callbacks, errbacks, chord membership
 * and the rest of its chain, is sent, and the running task ends with
 * `Ignore` (its own result is never stored; the replacement's is).
 *
 * @module
 */

import { ConfigurationError, Ignore } from "../errors.ts";
import type { TaskRequest } from "../task/request.ts";
import type { TaskDefinition } from "../task/task.ts";
import { freeze, kindOf, tasksOf } from "./freeze.ts";
import { pipe } from "./primitives.ts";
import { fromWire, Signature, type SignatureApp } from "./signature.ts";

function improperlyConfigured(message: string): ConfigurationError {
  const error = new ConfigurationError(message);
  error.name = "ImproperlyConfigured";
  return error;
}

/** Builds the replacement of the running task and sends it (or runs it, when eager). */
export async function replaceTask(
  task: TaskDefinition,
  request: TaskRequest,
  // deno-lint-ignore no-explicit-any
  replacement: Signature<any, any>,
): Promise<unknown> {
  // A task object's own signatures carry its app.
  const app: SignatureApp | undefined = (task as { s?: () => Signature }).s?.().app ??
    replacement.app;
  if (!app) throw new ConfigurationError(`Cannot replace ${task.name}: it has no app.`);
  if ("chord" in replacement.options) {
    throw improperlyConfigured("A signature replacing a task must not be part of a chord");
  }
  let sig: Signature = replacement.clone();
  sig.app ??= app;
  if (kindOf(sig) === "chain" && tasksOf(sig).length === 0) {
    throw improperlyConfigured("Cannot replace with an empty chain");
  }
  if (kindOf(sig) === "group") {
    // Groups become a chord so that callbacks can be linked onto its body.
    sig = pipe(sig, new Signature("celery.accumulate", [], { index: 0 }, {}, null, false, app));
  }
  for (const callback of request.embed.callbacks ?? []) sig.link(fromWire(callback, app));
  for (const errback of request.embed.errbacks ?? []) sig.linkError(fromWire(errback, app));
  if (kindOf(sig) === "chain" && sig.options.link) {
    const last = tasksOf(sig).at(-1)!;
    const links = [sig.options.link].flat();
    last.options.link = [...[last.options.link ?? []].flat(), ...links];
  }
  freeze(sig, { id: request.id }, request.replyTo);
  if (request.embed.chord) sig.options.chord = request.embed.chord;
  if (request.group) sig.options.group_id = request.group;
  if (request.groupIndex !== undefined && request.groupIndex !== null) {
    sig.options.group_index = request.groupIndex;
  }
  sig.options.root_id = request.rootId;
  for (const step of [...request.embed.chain ?? []].reverse()) sig = pipe(sig, fromWire(step, app));
  sig.app ??= app;
  if (request.isEager) return await (await sig.apply()).get();
  await sig.applyAsync();
  throw new Ignore("Replaced by new task");
}
