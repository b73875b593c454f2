/**
 * The argument check Python does on every call, for task bodies that
 * JavaScript would call with anything: too many positional arguments, or a
 * required parameter that receives nothing, is a TypeError worded as
 * Python's (`add() missing 1 required positional argument: 'y'`, `add()
 * takes 2 positional arguments but 3 were given`). Celery runs the same
 * check in `apply_async` (the `typing` task option) and the worker gets it
 * from Python; celeriac runs it in both places, unless `typing: false`.
 *
 * @module
 */

import { bindArguments, type ParameterKind } from "./param_names.ts";

/** What the check needs to know about a task. */
export interface AritySubject {
  /** Task name, used in messages as Python uses the function's name. */
  readonly name: string;
  /** Parameter names (without a bound `self`). */
  readonly paramNames: readonly (string | null)[];
  /** Parameter kinds, when they could be read; without them nothing is checked. */
  readonly paramKinds?: readonly ParameterKind[];
  /** `typing: false` turns the check off. */
  readonly options: { readonly typing?: boolean };
}

function quotedList(names: string[]): string {
  const quoted = names.map((name) => `'${name}'`);
  if (quoted.length <= 2) return quoted.join(" and ");
  return `${quoted.slice(0, -1).join(", ")}, and ${quoted[quoted.length - 1]}`;
}

/**
 * Throws Python's TypeError when `args` and `kwargs` do not fit the task's
 * parameters; keyword arguments that are unknown or repeat a positional one
 * are refused with Python's wording too (see `bindArguments`).
 *
 * @example
 * ```ts
 * import { checkArguments } from "./arity.ts";
 * const add = {
 *   name: "add",
 *   paramNames: ["x", "y"],
 *   paramKinds: ["required", "required"] as const,
 *   options: {},
 * };
 * try {
 *   checkArguments(add, [1], {});
 * } catch (error) {
 *   console.assert(
 *     (error as Error).message === "add() missing 1 required positional argument: 'y'",
 *   );
 * }
 * ```
 */
export function checkArguments(
  task: AritySubject,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
): void {
  const kinds = task.paramKinds;
  if (task.options.typing === false || !kinds || kinds.length !== task.paramNames.length) return;
  bindArguments(task.name, task.paramNames, args, kwargs);
  if (!kinds.includes("rest") && args.length > kinds.length) {
    const given = args.length === 1 ? "1 was given" : `${args.length} were given`;
    const takes = `${kinds.length} positional argument${kinds.length === 1 ? "" : "s"}`;
    throw new TypeError(`${task.name}() takes ${takes} but ${given}`);
  }
  const missing = kinds.flatMap((kind, index) => {
    const name = task.paramNames[index];
    if (kind !== "required" || index < args.length || name === null) return [];
    return name in kwargs ? [] : [name];
  });
  if (missing.length > 0) {
    const count = `${missing.length} required positional argument${missing.length > 1 ? "s" : ""}`;
    throw new TypeError(`${task.name}() missing ${count}: ${quotedList(missing)}`);
  }
}
