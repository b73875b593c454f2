/**
 * A task: a plain function object made once, carrying its name, its body and
 * its options. Calling it runs the body locally (Celery's `add(2, 3)`);
 * `delay` / `applyAsync` send it; `apply` runs it eagerly.
 *
 * @module
 */

import type { ApplyOptions, RetryOptions, TaskOptions } from "./options.ts";
import type { TaskRequest } from "./request.ts";
import type { AsyncResult } from "./async_result.ts";
import type { GroupResult } from "../canvas/group_result.ts";
import type { EagerResult } from "./eager_result.ts";
import { type ParameterKind, parameterKinds, parameterNames } from "./param_names.ts";
import {
  celeryOptions,
  Signature,
  type SignatureApp,
  type SignatureOptions,
  type TaskSignature,
} from "../canvas/signature.ts";

/** What a bound task (`bind: true`) receives as its first argument: Celery's `self`. */
export interface BoundTask {
  /** Registered task name. */
  readonly name: string;
  /** This run's request: id, args, retries, hostname, delivery info, root and parent ids. */
  readonly request: TaskRequest;
  /** Aborts on revoke and when the soft time limit passes (reason: SoftTimeLimitExceeded). */
  readonly signal: AbortSignal;
  /** Most retries allowed. */
  readonly maxRetries: number | null;
  /** Ends this run and sends the task again later. Always throws a `Retry`. */
  retry(options?: RetryOptions): never;
  /**
   * Replaces this task by `sig` (Celery's `replace`): `sig` takes this task's
   * id, callbacks, errbacks, chord and the rest of its chain, is sent, and
   * this run ends (it throws `Ignore`; eagerly, it resolves with `sig`'s
   * value). Write `return await self.replace(sig)`.
   */
  // deno-lint-ignore no-explicit-any
  replace(sig: Signature<any, any>): Promise<unknown>;
}

/** A task body: plain, or bound (first parameter is the `BoundTask`). */
// deno-lint-ignore no-explicit-any
export type TaskBody = (...args: any[]) => unknown;

/** The part of a task that can be sent anywhere: name, body, options. */
export interface TaskDefinition {
  /** Registered name. */
  readonly name: string;
  /** The body as written. */
  readonly fn: TaskBody;
  /** Options given at definition. */
  readonly options: Readonly<TaskOptions>;
  /** Parameter names for keyword arguments (without the bound `self`). */
  readonly paramNames: readonly (string | null)[];
  /** Which parameters are required (without `self`), for the argument check; unknown when absent. */
  readonly paramKinds?: readonly ParameterKind[];
}

/** Where a task's calls go: its app, or the current app for shared tasks. */
export interface TaskDispatcher extends SignatureApp {
  /** Sends a task by name. */
  sendTask(
    name: string,
    args: unknown[],
    options: ApplyOptions,
    task?: TaskDefinition,
  ): Promise<AsyncResult>;
  /** Runs a task in-process. */
  applyEager(task: TaskDefinition, args: unknown[], options: ApplyOptions): Promise<EagerResult>;
}

/** The methods every task has, typed by its arguments `A` and result `R`. */
export interface TaskMethods<A extends unknown[], R> extends TaskDefinition {
  /** Sends the task with positional arguments (Celery's `delay`). */
  delay(...args: A): Promise<AsyncResult<R>>;
  /** Sends the task with arguments and call options. */
  applyAsync(args?: A | Partial<A>, options?: ApplyOptions): Promise<AsyncResult<R>>;
  /** Runs the task eagerly in this process; returns an `EagerResult`. */
  apply(args?: A | Partial<A>, options?: ApplyOptions): Promise<EagerResult<R>>;
  /** A signature with partial arguments (Celery's `add.s(2)`); the parent's result is prepended. */
  s(...args: Partial<A>): TaskSignature<R>;
  /** An immutable signature (Celery's `add.si(2, 2)`): it ignores the parent's result. */
  si(...args: Partial<A>): TaskSignature<R>;
  /** A signature with arguments, `kwargs` and options (Celery's `add.signature((2,), …)`). */
  signature(
    args?: Partial<A>,
    options?: SignatureOptions & { kwargs?: Record<string, unknown> },
  ): TaskSignature<R>;
  /** `celery.map`: this task called for each item, in one worker, in order. */
  map(items: readonly A[0][]): TaskSignature<R[]>;
  /** `celery.starmap`: this task called with each item's arguments, in one worker. */
  starmap(items: readonly A[]): TaskSignature<R[]>;
  /** `celery.chunks`: the items in chunks of `n`, each chunk a `celery.starmap` of one group. */
  chunks(items: readonly A[], n: number): Signature<R[][], GroupResult<R[]>>;
}

/** Any plain task body; its parameters and return type type the task. */
// deno-lint-ignore no-explicit-any
export type PlainTaskBody = (...args: any[]) => unknown;

/** Any bound task body: its first parameter is the task itself (`self`). */
// deno-lint-ignore no-explicit-any
export type BoundTaskBody = (self: BoundTask, ...args: any[]) => unknown;

/** The parameters of a bound body after `self`. */
export type ArgsAfterSelf<F> = F extends (self: BoundTask, ...args: infer A) => unknown ? A
  : never;

/**
 * The task made from a plain body `F`: typed by its parameters and its
 * (awaited) return value, so `add.delay("a", 1)` does not type-check.
 */
export type TaskFor<F extends PlainTaskBody> = Task<Parameters<F>, Awaited<ReturnType<F>>>;

/** The task made from a bound body `F` (its arguments after `self`). */
export type BoundTaskFor<F extends BoundTaskBody> = Task<ArgsAfterSelf<F>, Awaited<ReturnType<F>>>;

/** A task: callable like its body (runs it locally), plus `delay`, `applyAsync`, `apply`. */
export type Task<A extends unknown[] = unknown[], R = unknown> =
  & ((...args: A) => Promise<R>)
  & TaskMethods<A, R>;

/**
 * Reads the parameter kinds of a body, without the bound `self`; undefined
 * when `argNames` were given for a body whose parameters cannot be read.
 */
export function readParamKinds(fn: TaskBody, options: TaskOptions): ParameterKind[] | undefined {
  const kinds = parameterKinds(fn);
  const own = options.bind ? kinds.slice(1) : kinds;
  return options.argNames && options.argNames.length !== own.length ? undefined : own;
}

/** Reads the parameter names of a body, without the bound `self`. */
export function readParamNames(fn: TaskBody, options: TaskOptions): (string | null)[] {
  if (options.argNames) return [...options.argNames];
  const names = parameterNames(fn);
  return options.bind ? names.slice(1) : names;
}

/**
 * Makes the callable task object. `dispatcher()` is asked at every call, so a
 * shared task goes to whichever app is current then.
 */
export function createTask<A extends unknown[], R>(
  definition: TaskDefinition,
  dispatcher: () => TaskDispatcher,
): Task<A, R> {
  const local = async (...args: A): Promise<R> => {
    const result = await dispatcher().applyEager(definition, args, {});
    return await result.get() as R;
  };
  const methods: Partial<TaskMethods<A, R>> = {
    fn: definition.fn,
    options: definition.options,
    paramNames: definition.paramNames,
    paramKinds: definition.paramKinds,
    // async, so that a missing current app (strict mode) rejects rather than throws.
    delay: async (...args: A) =>
      await dispatcher().sendTask(definition.name, args, {}, definition) as AsyncResult<R>,
    applyAsync: async (args = [] as unknown as A, options: ApplyOptions = {}) =>
      options.link || options.linkError
        // Callbacks travel in the message's embed: send it as a signature.
        ? await sig(args as unknown[]).applyAsync([], { ...options }) as AsyncResult<R>
        : await dispatcher().sendTask(
          definition.name,
          args as unknown[],
          options,
          definition,
        ) as AsyncResult<R>,
    apply: async (args = [] as unknown as A, options = {}) =>
      await dispatcher().applyEager(definition, args as unknown[], options) as EagerResult<R>,
  };
  const app: SignatureApp = {
    applySignature: (...a) => dispatcher().applySignature(...a),
    applySignatureEagerly: (...a) => dispatcher().applySignatureEagerly(...a),
  };
  const sig = (args: unknown[], kwargs = {}, options = {}, immutable = false) =>
    new Signature<R>(definition.name, args, kwargs, options, null, immutable, app);
  const builtin = <T>(name: string, kwargs: Record<string, unknown>) =>
    new Signature<T>(name, [], { task: sig([]), ...kwargs }, {}, null, true, app);
  Object.assign(methods, {
    s: (...args: Partial<A>) => sig(args),
    si: (...args: Partial<A>) => sig(args, {}, {}, true),
    signature: (args = [] as unknown as Partial<A>, options = {}) => {
      const { kwargs, immutable, ...rest } = options as SignatureOptions & {
        kwargs?: Record<string, unknown>;
      };
      return sig(args as unknown[], kwargs ?? {}, celeryOptions(rest), immutable ?? false);
    },
    map: (items: readonly unknown[]) => builtin<R[]>("celery.map", { it: [...items] }),
    starmap: (items: readonly unknown[]) => builtin<R[]>("celery.starmap", { it: [...items] }),
    chunks: (items: readonly unknown[], n: number) =>
      builtin<R[][]>("celery.chunks", { it: [...items], n }),
  });
  Object.assign(local, methods);
  // A function's own `name` is read-only but configurable: define it, do not assign it.
  Object.defineProperty(local, "name", { value: definition.name, enumerable: true });
  return Object.freeze(local) as unknown as Task<A, R>;
}
