/**
 * Signatures: a task call as a plain value (Celery's `Signature`), with
 * exactly Celery's six-key JSON form (spec §1.1), partial application and
 * option merging (§1.2). Composite signatures (chain, group, chord, map,
 * starmap, chunks) are signatures too, told apart by `subtaskType` and
 * `task`, as on the wire. Options keep Celery's names (`task_id`,
 * `link_error`, …) because they travel in messages; `set()` also takes the
 * camelCase names of `applyAsync`.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { fromWire, toWire } from "./wire_form.ts";
import type { AsyncResult } from "../task/async_result.ts";
import { freeze as freezeCanvas } from "./freeze.ts";
import { pipe } from "./primitives.ts";
import type { ResultNode } from "./result_node.ts";
import type { SignatureData } from "../protocol/task_body.ts";

export { fromWire, isSignatureDict, signaturesOf, toWire } from "./wire_form.ts";

/** `null` for a plain task call; the composite kinds Celery writes. */
export type SubtaskType = "chain" | "group" | "chord" | null;

/** Celery's call options as they travel inside a signature (`task_id`, `queue`, `link`, …). */
export type CanvasOptions = Record<string, unknown>;

/** Options that a merge never overwrites once set (Celery's `_IMMUTABLE_OPTIONS`). */
const IMMUTABLE_OPTIONS = new Set(["group_id"]);

/** The camelCase option names of `applyAsync` and their Celery names. */
const OPTION_NAMES: Record<string, string> = {
  taskId: "task_id",
  routingKey: "routing_key",
  groupId: "group_id",
  groupIndex: "group_index",
  rootId: "root_id",
  parentId: "parent_id",
  replyTo: "reply_to",
  timeLimit: "time_limit",
  softTimeLimit: "soft_time_limit",
  ignoreResult: "ignore_result",
  linkError: "link_error",
};

/**
 * Celery's option names for `options`: camelCase names of `applyAsync`
 * (`routingKey`) become Celery's (`routing_key`); undefined values are dropped.
 *
 * @example
 * ```ts
 * import { celeryOptions } from "./signature.ts";
 * console.assert(celeryOptions({ routingKey: "rk", countdown: 5 }).routing_key === "rk");
 * ```
 */
export function celeryOptions(options: Record<string, unknown>): CanvasOptions {
  const out: CanvasOptions = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) out[OPTION_NAMES[key] ?? key] = value;
  }
  return out;
}

/** What a signature needs to be sent or run: its app (an interface, so this file stays free of it). */
export interface SignatureApp {
  /** Publishes a signature (see `apply_canvas.ts`) and returns its result handle. */
  applySignature(
    signature: Signature,
    args: unknown[],
    kwargs: Record<string, unknown>,
    options: CanvasOptions,
  ): Promise<unknown>;
  /** Runs a signature in this process (`apply()`). */
  applySignatureEagerly(
    signature: Signature,
    args: unknown[],
    kwargs: Record<string, unknown>,
  ): Promise<unknown>;
}

/** A signature whose sending gives an `AsyncResult<R>` (tasks, chains, chords). */
export type TaskSignature<R> = Signature<R, AsyncResult<R>>;

/** Options of `set()`: Celery's option names or `applyAsync`'s, plus `immutable`. */
export type SignatureOptions = Record<string, unknown> & { immutable?: boolean };

/**
 * A task call as a value: `add.s(2, 2)`. `R` is the result type of the call.
 *
 * @example
 * ```ts
 * import { Signature } from "./signature.ts";
 * const sig = new Signature("proj.add", [2]).set({ countdown: 10 });
 * console.assert(JSON.stringify(sig.clone([3]).args) === "[3,2]");
 * console.assert(JSON.stringify(sig) ===
 *   '{"task":"proj.add","args":[2],"kwargs":{},"options":{"countdown":10},' +
 *   '"subtask_type":null,"immutable":false}');
 * ```
 */
export class Signature<R = unknown, H = unknown> {
  /** Registered task name (`celery.chain`, `celery.group`, … for composites). */
  task: string;
  /** Positional arguments (partial). */
  args: unknown[];
  /** Keyword arguments (partial). */
  kwargs: Record<string, unknown>;
  /** Call options under Celery's names. */
  options: CanvasOptions;
  /** `null`, `chain`, `group` or `chord`. */
  subtaskType: SubtaskType;
  /** An immutable signature does not receive its parent's result. */
  immutable: boolean;
  /** Where it is sent; not part of its JSON. */
  app?: SignatureApp;
  /** The result type, for TypeScript only. */
  declare readonly resultType?: R;
  /** The result handle sending gives, for TypeScript only. */
  declare readonly handleType?: H;

  /** Creates a signature; prefer `task.s()`, `task.signature()` or `signature(dict)`. */
  constructor(
    task: string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: CanvasOptions = {},
    subtaskType: SubtaskType = null,
    immutable = false,
    app?: SignatureApp,
  ) {
    this.task = task;
    this.args = args;
    this.kwargs = kwargs;
    this.options = options;
    this.subtaskType = subtaskType;
    this.immutable = immutable;
    this.app = app;
  }

  /** Celery's six-key dict; nested signatures become dicts too. */
  toJSON(): SignatureData {
    return toWire({
      task: this.task,
      args: this.args,
      kwargs: this.kwargs,
      options: this.options,
      subtask_type: this.subtaskType,
      immutable: this.immutable,
    }) as SignatureData;
  }

  /** The task id it was frozen with, if any. */
  get id(): string | undefined {
    const id = this.options.task_id;
    return typeof id === "string" ? id : undefined;
  }

  /** Sets options (Celery's `set`): `{ queue, countdown, … }`, `immutable`; returns `this`. */
  set(options: SignatureOptions): this {
    const { immutable, ...rest } = options;
    if (immutable !== undefined) this.setImmutable(immutable);
    Object.assign(this.options, celeryOptions(rest));
    return this;
  }

  /** Makes it (im)mutable; for groups and chord headers, every member. */
  setImmutable(immutable: boolean): void {
    this.immutable = immutable;
  }

  /**
   * Partial application (spec §1.2): `args` prepended, `kwargs` merged (call
   * site wins) unless immutable; options merged, an existing `group_id` kept.
   */
  merge(
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options?: CanvasOptions,
  ): [unknown[], Record<string, unknown>, CanvasOptions] {
    let merged = this.options;
    if (options) {
      merged = { ...this.options };
      for (const [key, value] of Object.entries(options)) {
        if (!(IMMUTABLE_OPTIONS.has(key) && key in this.options)) merged[key] = value;
      }
    }
    if (this.immutable) return [this.args, this.kwargs, merged];
    return [
      args.length ? [...args, ...this.args] : this.args,
      Object.keys(kwargs).length ? { ...this.kwargs, ...kwargs } : this.kwargs,
      merged,
    ];
  }

  /** A copy with `args` prepended, `kwargs` and `options` merged (Celery's `clone`). */
  clone(
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: SignatureOptions = {},
  ): Signature<R, H> {
    const [a, k, o] = this.merge(args, kwargs, celeryOptions(options));
    const copy = fromWire(
      toWire({
        task: this.task,
        args: a,
        kwargs: k,
        options: o,
        subtask_type: this.subtaskType,
        immutable: this.immutable,
      }),
      this.app,
    );
    return copy as Signature<R, H>;
  }

  /**
   * Gives it (every task of a canvas) its ids now, as Celery's `freeze`;
   * returns them: `{ id }`, with `results` for a group and `parent` for a chain step.
   */
  freeze(): ResultNode {
    return freezeCanvas(
      this,
      {},
      typeof this.options.reply_to === "string" ? this.options.reply_to : "",
    );
  }

  /** Celery's `this | next`: a chain (or chord, for a group) of this then `next`. */
  // deno-lint-ignore no-explicit-any
  pipe<S>(next: Signature<S, any>): TaskSignature<S> {
    return pipe(this, next) as TaskSignature<S>;
  }

  /**
   * Adds a callback applied with this task's result on success; returns the
   * callback. A group links an immutable copy to its first task, a chord to its body.
   */
  // deno-lint-ignore no-explicit-any
  link<S extends Signature<any, any>>(callback: S): S {
    if (this.subtaskType === "group") {
      const first = this.kwargs.tasks as Signature[];
      first[0]?.link(callback.clone([], {}, { immutable: true }));
    } else if (this.subtaskType === "chord") {
      (this.kwargs.body as Signature).link(callback);
    } else appendOption(this, "link", callback);
    return callback;
  }

  /** Adds an errback applied when this task fails (every member of a group, a chord's body). */
  // deno-lint-ignore no-explicit-any
  linkError<S extends Signature<any, any>>(errback: S): S {
    if (this.subtaskType === "group") {
      for (const task of this.kwargs.tasks as Signature[]) task.linkError(errback);
    } else if (this.subtaskType === "chord") {
      (this.kwargs.body as Signature).linkError(errback);
    } else appendOption(this, "link_error", errback);
    return errback;
  }

  /** `linkError` that returns this signature, for chaining (Celery's `on_error`). */
  // deno-lint-ignore no-explicit-any
  onError(errback: Signature<any, any>): this {
    this.linkError(errback);
    return this;
  }

  /** Sends it; `args` are prepended to its own (partial application). */
  async applyAsync(
    args: unknown[] = [],
    options: Record<string, unknown> = {},
  ): Promise<H> {
    const { kwargs, ...rest } = options;
    return await requireApp(this).applySignature(
      this,
      args,
      (kwargs ?? {}) as Record<string, unknown>,
      celeryOptions(rest),
    ) as H;
  }

  /** Sends it with extra positional arguments (Celery's `delay`). */
  async delay(...args: unknown[]): Promise<H> {
    return await this.applyAsync(args);
  }

  /**
   * Runs it (a whole canvas) in this process and returns its result: an
   * `EagerResult`, or a `ResultSet` for a group; `args` are prepended.
   */
  async apply(
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
  ): Promise<{ get(options?: { propagate?: boolean }): Promise<R> }> {
    return await requireApp(this).applySignatureEagerly(this, args, kwargs) as {
      get(options?: { propagate?: boolean }): Promise<R>;
    };
  }
}

function requireApp(signature: Signature): SignatureApp {
  if (!signature.app) {
    throw new ProtocolError(
      `The signature of ${JSON.stringify(signature.task)} has no app: make it from a task ` +
        `(task.s()) or pass the app to signature(dict, app).`,
    );
  }
  return signature.app;
}

// deno-lint-ignore no-explicit-any
function appendOption(signature: Signature, key: string, value: Signature<any, any>): void {
  const current = signature.options[key];
  const list = current === undefined ? [] : Array.isArray(current) ? current : [current];
  if (!list.includes(value)) list.push(value);
  signature.options[key] = list;
}
