/**
 * Turning a function and its options into a task definition: its name
 * (`<main>.<function name>` unless given), its body, its options and the
 * parameter names keyword arguments bind to.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import type { TaskOptions } from "../task/options.ts";
import {
  readParamKinds,
  readParamNames,
  type TaskBody,
  type TaskDefinition,
} from "../task/task.ts";

function paramKindsOf(fn: TaskBody, options: TaskOptions) {
  const kinds = readParamKinds(fn, options);
  return kinds && Object.freeze(kinds);
}

/**
 * Builds a task definition, checking its name: a function without a name
 * and no `name` option is an error.
 *
 * @example
 * ```ts
 * import { defineTask } from "./define_task.ts";
 * const definition = defineTask(function add(x: number, y: number) { return x + y; }, {}, "proj");
 * console.assert(definition.name === "proj.add" && definition.paramNames.join() === "x,y");
 * ```
 */
export function defineTask(fn: TaskBody, options: TaskOptions, main?: string): TaskDefinition {
  if (typeof fn !== "function") {
    throw new ConfigurationError(`A task must be a function; got ${typeof fn}.`);
  }
  const base = options.name ?? fn.name;
  if (!base) {
    throw new ConfigurationError(
      "A task needs a name: define it as a named function (function add(x, y) { … }) " +
        'or pass { name: "…" }.',
    );
  }
  const name = options.name ?? (main ? `${main}.${fn.name}` : fn.name);
  return Object.freeze({
    name,
    fn,
    options: Object.freeze({ ...options }),
    paramNames: Object.freeze(readParamNames(fn, options)),
    paramKinds: paramKindsOf(fn, options),
  });
}
