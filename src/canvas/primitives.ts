/**
 * The canvas primitives users build workflows with: `chain`, `group`,
 * `chord`, `signature(dict)`, and `pipe` — Celery's `|` operator, with its
 * upgrades (`group | task` is a chord, a chain ending in a group followed by
 * a task becomes a chain ending in a chord, `chord | task` extends the body).
 * The result types follow the canvas: a chain's is its last task's, a
 * group's is the list of its members', a chord's is its body's.
 *
 * @module
 */

import type { GroupResult } from "./group_result.ts";
import { chainSignature, chordSignature, groupSignature, kindOf, tasksOf } from "./freeze.ts";
import { fromWire, Signature, type SignatureApp, type TaskSignature } from "./signature.ts";

/** A signature whose result is `R`, whatever handle sending it gives. */
// deno-lint-ignore no-explicit-any
export type AnySignature<R = unknown> = Signature<R, any>;

/** The result type of a signature. */
// deno-lint-ignore no-explicit-any
export type ResultOf<S> = S extends Signature<infer R, any> ? R : never;

function appOf(signatures: Iterable<AnySignature>): SignatureApp | undefined {
  for (const sig of signatures) if (sig.app) return sig.app;
  return undefined;
}

/**
 * Celery's `a | b`.
 *
 * @example
 * ```ts
 * import { pipe } from "./primitives.ts";
 * import { Signature } from "./signature.ts";
 * const both = pipe(new Signature("proj.add", [1, 1]), new Signature("proj.add", [2]));
 * console.assert(both.subtaskType === "chain");
 * ```
 */
export function pipe(left: AnySignature, right: AnySignature): AnySignature {
  const app = left.app ?? right.app;
  const leftKind = kindOf(left);
  const rightKind = kindOf(right);
  if (leftKind === "group") {
    return chordSignature(left, right, {}, app); // group | x → chord
  }
  if (leftKind === "chord" && rightKind !== "group" && rightKind !== "chain") {
    const copy = left.clone();
    copy.kwargs.body = pipe(fromWire(copy.kwargs.body, app), right); // chord | task → body
    return copy;
  }
  if (leftKind === "chain") {
    const tasks = tasksOf(left);
    if (rightKind === "group") {
      const unrolled = unrollGroup(right);
      return tasks.length ? chainSignature([...tasks, unrolled], {}, app) : unrolled;
    }
    if (rightKind === "chain") return chainSignature([...tasks, ...tasksOf(right)], {}, app);
    const last = tasks.at(-1);
    if (last && kindOf(last) === "group") {
      return chainSignature([...tasks.slice(0, -1), chordSignature(last, right, {}, app)], {}, app);
    }
    if (last && kindOf(last) === "chord") {
      const body = fromWire(last.kwargs.body, app);
      last.kwargs.body = pipe(body, right);
      return chainSignature(tasks, {}, app);
    }
    return chainSignature([...tasks, right], {}, app);
  }
  if (rightKind === "chain") return chainSignature([left, ...tasksOf(right)], {}, app);
  if (rightKind === "group") return chainSignature([left, unrollGroup(right)], {}, app);
  return chainSignature([left, right], {}, app);
}

function unrollGroup(group: AnySignature): AnySignature {
  const tasks = tasksOf(group);
  return tasks.length === 1 ? tasks[0] : group;
}

/**
 * `chain(a, b, c)`: each task gets the previous one's result as its first
 * argument; the result is the last task's.
 *
 * @example
 * ```ts ignore
 * const result = await chain(add.s(2, 2), add.s(4), mul.s(8)).applyAsync();
 * console.log(await result.get()); // 64
 * ```
 */
export function chain<R>(
  ...tasks: [...AnySignature[], AnySignature<R>] | [Iterable<AnySignature>]
): TaskSignature<R> {
  const list = tasks.length === 1 && !(tasks[0] instanceof Signature)
    ? [...tasks[0] as Iterable<AnySignature>]
    : tasks as AnySignature[];
  let result: AnySignature = chainSignature([], {}, appOf(list));
  for (const task of list) result = pipe(result, task);
  return result as TaskSignature<R>;
}

/**
 * `group([...])` (or a generator): the tasks run in parallel; the result is a
 * `GroupResult` whose `get()` lists their values in order.
 *
 * @example
 * ```ts ignore
 * const result = await group([add.s(1, 1), add.s(2, 2)]).applyAsync();
 * console.log(await result.get()); // [2, 4]
 * ```
 */
export function group<R>(
  // A nested group is flattened into this one: its members' results are listed in place.
  tasks: Iterable<AnySignature<R> | Signature<R[], GroupResult<R>>>,
): Signature<R[], GroupResult<R>> {
  const list = [...tasks] as AnySignature[];
  return groupSignature(list, {}, appOf(list)) as Signature<R[], GroupResult<R>>;
}

/**
 * `chord(header, body)`: the header tasks run in parallel, then the body
 * gets the list of their results; the result is the body's.
 *
 * @example
 * ```ts ignore
 * const result = await chord([add.s(1, 1), add.s(2, 2)], xsum.s()).applyAsync();
 * console.log(await result.get()); // 6
 * ```
 */
export function chord<R>(
  header: Iterable<AnySignature> | AnySignature,
  body: AnySignature<R>,
): TaskSignature<R> {
  const list = header instanceof Signature ? header : [...header];
  const app = appOf(
    header instanceof Signature ? [header, body] : [...list as AnySignature[], body],
  );
  return chordSignature(list, body, {}, app) as TaskSignature<R>;
}

/**
 * Rebuilds a signature from Celery's JSON form (the dict a Python client
 * sends), bound to `app` so it can be sent.
 */
export function signature<R = unknown>(dict: unknown, app?: SignatureApp): TaskSignature<R> {
  const sig = fromWire(dict, app);
  if (app) bindApp(sig, app);
  return sig as TaskSignature<R>;
}

function bindApp(sig: Signature, app: SignatureApp): void {
  sig.app = app;
  const nested = [sig.kwargs.tasks, sig.kwargs.header, sig.kwargs.body].flat();
  for (const item of nested) if (item instanceof Signature) bindApp(item, app);
}
