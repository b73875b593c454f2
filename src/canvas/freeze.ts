/**
 * Freezing (spec §1.3): giving every leaf of a canvas its task id (and
 * `reply_to`, `group_id`, `chord`, `group_index` where given) before any of
 * it is published, so the caller's result handles know ids of tasks not yet
 * sent. Mutates the signatures' options, as Celery's `freeze` does. Also the
 * canvas shapes: which kind a signature is, chain step preparation
 * (`prepare_steps`, last step first) and chord size counting (`_descend`).
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import type { ResultNode } from "./result_node.ts";
import { rootOf } from "./result_node.ts";
import { type CanvasOptions, fromWire, Signature } from "./signature.ts";

/** What a signature is: a plain call, or one of Celery's composites. */
export type CanvasKind = "task" | "chain" | "group" | "chord" | "chunks";

/** The kind of `sig`, read as Celery does (subtask_type, then the builtin name). */
export function kindOf(sig: Signature): CanvasKind {
  if (sig.subtaskType) return sig.subtaskType;
  return sig.task === "celery.chunks" ? "chunks" : "task";
}

/** Freeze arguments (Celery's `freeze(_id, group_id, chord, root_id, parent_id, group_index)`). */
export interface FreezeArgs {
  /** Task id to use when the signature has none. */
  id?: string;
  /** Group the task belongs to. */
  groupId?: string;
  /** Chord body to call when the group completes. */
  chord?: Signature;
  /** Root of the workflow. */
  rootId?: string | null;
  /** Parent task. */
  parentId?: string | null;
  /** Position in the chord header. */
  groupIndex?: number;
}

/** The members of a chain or group signature. */
export function tasksOf(sig: Signature): Signature[] {
  const tasks = sig.kwargs.tasks;
  if (!Array.isArray(tasks)) {
    throw new ProtocolError(`Invalid ${sig.task} signature: kwargs.tasks is not a list.`);
  }
  return tasks.map((task) => fromWire(task, sig.app));
}

/** A chord's header as a group signature. */
export function headerOf(sig: Signature): Signature {
  const header = sig.kwargs.header;
  if (header instanceof Signature && header.subtaskType === "group") return header;
  const list = Array.isArray(header) ? header : header instanceof Signature ? [header] : null;
  if (!list) throw new ProtocolError(`Invalid celery.chord signature: no header.`);
  return groupSignature(list.map((task) => fromWire(task, sig.app)), {}, sig.app);
}

/** A chord's body. */
export function bodyOf(sig: Signature): Signature {
  const body = sig.kwargs.body;
  if (body === null || body === undefined) {
    throw new ProtocolError(`Invalid celery.chord signature: no body.`);
  }
  return fromWire(body, sig.app);
}

/** `celery.group` signature over `tasks`. */
export function groupSignature(
  tasks: Signature[],
  options: CanvasOptions = {},
  app?: Signature["app"],
): Signature {
  return new Signature("celery.group", [], { tasks }, options, "group", false, app);
}

/** `celery.chain` signature over `tasks`. */
export function chainSignature(
  tasks: Signature[],
  options: CanvasOptions = {},
  app?: Signature["app"],
): Signature {
  return new Signature("celery.chain", [], { tasks }, options, "chain", false, app);
}

/** `celery.chord` signature of `header` into `body`. */
export function chordSignature(
  header: Signature[] | Signature,
  body: Signature,
  options: CanvasOptions = {},
  app?: Signature["app"],
): Signature {
  return new Signature(
    "celery.chord",
    [],
    { kwargs: {}, header, body },
    options,
    "chord",
    false,
    app,
  );
}

/** Freezes any signature; returns its result node. */
export function freeze(sig: Signature, args: FreezeArgs, replyTo: string): ResultNode {
  switch (kindOf(sig)) {
    case "group":
      return freezeGroup(sig, args, replyTo);
    case "chain":
      return prepareSteps(sig, [], {}, tasksOf(sig), {
        ...args,
        clone: false,
        replyTo,
      }).results[0];
    case "chord":
      return freezeChord(sig, args, replyTo);
    default:
      return freezeLeaf(sig, args, replyTo);
  }
}

function freezeLeaf(sig: Signature, args: FreezeArgs, replyTo: string): ResultNode {
  const options = sig.options;
  if (typeof options.task_id !== "string") options.task_id = args.id ?? crypto.randomUUID();
  if (args.rootId) options.root_id = args.rootId;
  if (args.parentId) options.parent_id = args.parentId;
  if (!("reply_to" in options)) options.reply_to = replyTo;
  if (args.groupId && !("group_id" in options)) options.group_id = args.groupId;
  if (args.chord) options.chord = args.chord;
  if (args.groupIndex !== undefined) options.group_index = args.groupIndex;
  return { id: options.task_id as string };
}

/** Celery's `_freeze_group_tasks`: the group id and its (unrolled, frozen) members. */
export function freezeGroup(sig: Signature, args: FreezeArgs, replyTo: string): ResultNode {
  const options = sig.options;
  if (typeof options.task_id !== "string") {
    options.task_id = args.groupId ?? crypto.randomUUID();
  }
  if (args.groupId) options.group_id = args.groupId;
  if (args.chord) options.chord = args.chord;
  if (args.groupIndex !== undefined) options.group_index = args.groupIndex;
  if (!("root_id" in options)) options.root_id = args.rootId ?? null;
  if (!("parent_id" in options)) options.parent_id = args.parentId ?? null;
  const rootId = options.root_id as string | null;
  const parentId = options.parent_id as string | null;
  const stack = tasksOf(sig);
  const members: Signature[] = [];
  const results: ResultNode[] = [];
  while (stack.length) {
    const task = stack.shift()!.clone();
    if (kindOf(task) === "group") {
      stack.unshift(...tasksOf(task).reverse()); // Python's deque.extendleft reverses
      continue;
    }
    members.push(task);
    results.push(freeze(task, {
      groupId: args.groupId,
      chord: args.chord,
      rootId,
      parentId,
      groupIndex: results.length,
    }, replyTo));
  }
  sig.kwargs.tasks = members;
  return { id: options.task_id as string, results };
}

function freezeChord(sig: Signature, args: FreezeArgs, replyTo: string): ResultNode {
  const header = headerOf(sig);
  sig.kwargs.header = header;
  const body = bodyOf(sig);
  sig.kwargs.body = body;
  const headerResult = freezeGroup(header, {
    parentId: args.parentId,
    rootId: args.rootId,
    chord: body,
  }, replyTo);
  const bodyResult = freeze(body, {
    id: args.id,
    rootId: args.rootId,
    chord: args.chord,
    groupId: args.groupId,
    groupIndex: args.groupIndex,
  }, replyTo);
  rootOf(bodyResult).parent = headerResult;
  return bodyResult;
}

/** Arguments of `prepareSteps` beyond the freeze arguments of the last step. */
export interface StepArgs extends FreezeArgs {
  /** Errbacks to attach to every step. */
  linkError?: Signature[];
  /** Clone each step (true when sending; false when freezing). */
  clone: boolean;
  /** Default `reply_to`. */
  replyTo: string;
  /** Called when a step is a chord (to refuse backends without chords). */
  onChord?: () => void;
}

/**
 * Celery's `prepare_steps`: steps processed last to first, nested chains
 * spliced in, `group` followed by a step upgraded to a chord, every step
 * frozen (the last with the chain's id, group and chord). Returns the steps
 * in reverse order (the next to run is the last element) and their results
 * (the first is the chain's).
 */
export function prepareSteps(
  chain: Signature,
  args: unknown[],
  kwargs: Record<string, unknown>,
  steps: Signature[],
  options: StepArgs,
): { tasks: Signature[]; results: ResultNode[] } {
  const pending = [...steps];
  const tasks: Signature[] = [];
  const results: ResultNode[] = [];
  let prevTask: Signature | undefined;
  let prevResult: ResultNode | undefined;
  let index = 0;
  while (pending.length) {
    let task = fromWire(pending.pop(), chain.app);
    const isFirst = pending.length === 0;
    const isLast = index === 0;
    if (kindOf(task) === "group") {
      const members = tasksOf(task);
      if (members.length === 1) task = members[0]; // maybe_unroll_group
    }
    if (options.clone) task = isFirst ? task.clone(args, kwargs) : task.clone();
    else if (isFirst) task.args = [...args, ...task.args];
    if (kindOf(task) === "chain") {
      pending.push(...tasksOf(task));
      continue;
    }
    if (kindOf(task) === "group" && prevTask) {
      tasks.pop();
      results.pop();
      const chordOptions: CanvasOptions = {};
      if (prevResult && !prevResult.results) chordOptions.task_id = prevResult.id;
      if (options.rootId) chordOptions.root_id = options.rootId;
      task = chordSignature(task, prevTask, chordOptions, chain.app);
    }
    const result = isLast
      ? freeze(task, {
        id: options.id,
        rootId: options.rootId,
        groupId: options.groupId,
        chord: options.chord,
        groupIndex: options.groupIndex,
      }, options.replyTo)
      : freeze(task, { rootId: options.rootId }, options.replyTo);
    index++;
    if (prevTask && prevResult && !prevResult.parent) prevResult.parent = result;
    for (const errback of options.linkError ?? []) task.linkError(errback);
    tasks.push(task);
    results.push(result);
    prevTask = task;
    prevResult = result;
    if (kindOf(task) === "chord") {
      options.onChord?.();
      prevResult = rootOf(result);
    }
  }
  return { tasks, results };
}

/** How many completions a chord header member counts for (Celery's `_descend`). */
export function chordSize(sig: Signature): number {
  switch (kindOf(sig)) {
    case "group":
      return tasksOf(sig).reduce((sum, task) => sum + chordSize(task), 0);
    case "chain": {
      for (const task of tasksOf(sig).reverse()) {
        const size = chordSize(task);
        if (size > 0) return size;
      }
      return 0;
    }
    case "chord":
      return chordSize(bodyOf(sig));
    default:
      return 1;
  }
}
