/**
 * Sending a canvas, as Celery 5.2.6's `apply_async` of each signature kind
 * does (spec §1.4–§1.8): a task is one message; a chain publishes its first
 * step with the rest (reversed) in `embed.chain`; a group publishes each
 * member with its `group` header; a chord freezes its body, gives every
 * header task `group`, `group_index` and `embed.chord`, and arranges the
 * join (Redis: the chord size key before the last header message; other
 * backends: `celery.chord_unlock`; rpc: refused, as in Celery). The same
 * code serves clients and the worker (next chain steps, callbacks, chord
 * bodies), through a `CanvasSender`.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import {
  bodyOf,
  chordSize,
  freeze,
  freezeGroup,
  groupSignature,
  headerOf,
  kindOf,
  prepareSteps,
  tasksOf,
} from "./freeze.ts";
import { asTuple, type ResultNode } from "./result_node.ts";
import { type CanvasOptions, Signature, signaturesOf } from "./signature.ts";

/** How the result backend joins chords. */
export type ChordJoin = "native" | "unlock" | "unsupported" | "disabled";

/** What applying a canvas needs: publishing one task message, and the backend's chord support. */
export interface CanvasSender {
  /** `reply_to` of frozen signatures (the client's reply queue or id). */
  readonly replyTo: string;
  /** How chords are joined. */
  readonly chordJoin: ChordJoin;
  /** The name of the backend, for errors (`rpc`, `redis`, …). */
  readonly backendName: string;
  /** Publishes one task message; options under Celery's names (`link`, `chain`, `chord`, …). */
  send(
    task: string,
    args: unknown[],
    kwargs: Record<string, unknown>,
    options: CanvasOptions,
  ): Promise<void>;
  /** Stores the number of header completions a chord waits for (native join). */
  setChordSize(groupId: string, size: number): Promise<void>;
  /** Saves a chord header whose members include groups, to be joined with its structure. */
  saveGroup(groupId: string, results: unknown[]): Promise<void>;
}

/** Celery's error for chords on rpc:// (`E_NO_CHORD_SUPPORT`). */
export function chordsNotSupported(join: ChordJoin, backendName: string): Error {
  const text = join === "disabled"
    ? "Starting chords requires a result backend to be configured."
    : `The "${backendName}" result backend does not support chords!`;
  const error = new ConfigurationError(
    `${text}\n\nNote that a group chained with a task is also upgraded to be a chord,\n` +
      "as this pattern requires synchronization.\n\n" +
      "Result backends that supports chords: Redis, Database, Memcached, and more.",
  );
  error.name = "NotImplementedError";
  return error;
}

function withoutNulls(options: CanvasOptions): CanvasOptions {
  const out: CanvasOptions = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== null && value !== undefined) out[key] = value;
  }
  return out;
}

/** Applies any signature: `args` prepended, `kwargs` merged, `options` merged into its own. */
export async function applyCanvas(
  sig: Signature,
  args: unknown[],
  kwargs: Record<string, unknown>,
  options: CanvasOptions,
  sender: CanvasSender,
): Promise<ResultNode> {
  const extra = withoutNulls(options);
  switch (kindOf(sig)) {
    case "chain":
      return await applyChain(sig, args, kwargs, extra, sender);
    case "group":
      return await applyGroup(sig, args, kwargs, extra, sender);
    case "chord":
      return await applyChord(sig, args, kwargs, extra, sender);
    case "chunks":
      return await applyGroup(chunksGroup(sig), args, kwargs, extra, sender);
    default: {
      const [a, k, o] = sig.merge(args, kwargs, extra);
      const id = typeof o.task_id === "string" ? o.task_id : crypto.randomUUID();
      await sender.send(sig.task, a, k, { ...o, task_id: id });
      return { id };
    }
  }
}

/** `celery.chunks` as Celery sends it: a group of `celery.starmap`, one per chunk of `n`. */
export function chunksGroup(sig: Signature): Signature {
  const { task, it, n } = sig.kwargs as { task: unknown; it: unknown; n: unknown };
  if (!Array.isArray(it) || typeof n !== "number" || !(n >= 1)) {
    throw new ConfigurationError(
      `Invalid celery.chunks signature: expected kwargs {task, it: list, n >= 1}.`,
    );
  }
  const parts: Signature[] = [];
  for (let start = 0; start < it.length; start += n) {
    parts.push(
      new Signature(
        "celery.starmap",
        [],
        { task, it: it.slice(start, start + n) },
        {},
        null,
        true,
        sig.app,
      ),
    );
  }
  return groupSignature(parts, { ...sig.options }, sig.app);
}

async function applyChain(
  sig: Signature,
  args: unknown[],
  kwargs: Record<string, unknown>,
  options: CanvasOptions,
  sender: CanvasSender,
): Promise<ResultNode> {
  const partial = args.length && !sig.immutable ? [...args, ...sig.args] : sig.args;
  const {
    task_id,
    group_id,
    chord,
    link,
    link_error,
    root_id,
    parent_id,
    group_index,
    ...rest
  } = { ...sig.options, ...options };
  const { tasks, results } = prepareSteps(sig, partial, kwargs, tasksOf(sig), {
    id: task_id as string | undefined,
    groupId: group_id as string | undefined,
    chord: chord === undefined ? undefined : signaturesOf(chord, sig.app)[0],
    rootId: root_id as string | undefined,
    parentId: parent_id as string | undefined,
    groupIndex: group_index as number | undefined,
    linkError: signaturesOf(link_error, sig.app),
    clone: true,
    replyTo: sender.replyTo,
    onChord: () => {
      if (sender.chordJoin === "unsupported" || sender.chordJoin === "disabled") {
        throw chordsNotSupported(sender.chordJoin, sender.backendName);
      }
    },
  });
  if (!results.length) return { id: crypto.randomUUID() };
  for (const callback of signaturesOf(link, sig.app)) tasks[0].link(callback);
  const first = tasks.pop()!;
  const chain = rest.chain === undefined || rest.chain === null
    ? tasks
    : [...(rest.chain as unknown[]), ...tasks];
  const applied = await applyCanvas(first, [], {}, { ...rest, chain }, sender);
  return tasks.length ? results[0] : applied;
}

async function applyGroup(
  sig: Signature,
  args: unknown[],
  kwargs: Record<string, unknown>,
  options: CanvasOptions,
  sender: CanvasSender,
): Promise<ResultNode> {
  if (options.link !== undefined) throw new TypeError("Cannot add link to group: use a chord");
  if (options.link_error !== undefined) {
    throw new TypeError("Cannot add link to group: do that on individual tasks");
  }
  const merged: CanvasOptions = { ...sig.options, ...options };
  const groupId = typeof merged.task_id === "string" ? merged.task_id : crypto.randomUUID();
  delete merged.task_id;
  merged.group_id = groupId;
  if (!tasksOf(sig).length) return { id: groupId, results: [] };
  const rootId = (merged.root_id ?? undefined) as string | undefined;
  const prepared = prepareMembers(tasksOf(sig), groupId, rootId, sender.replyTo);
  let size = 0;
  const sends: Promise<ResultNode>[] = [];
  for (const [index, { task }] of prepared.entries()) {
    const chord = merged.chord ?? task.options.chord;
    size += chordSize(task);
    const memberOptions = chord === undefined ? merged : { ...merged, chord };
    if (chord !== undefined && index === prepared.length - 1) {
      // The size is stored just before the last header message (spec §1.7).
      await Promise.all(sends);
      await sender.setChordSize(groupId, size);
    }
    sends.push(applyCanvas(task, args, kwargs, memberOptions, sender));
  }
  await Promise.all(sends);
  return { id: groupId, results: prepared.map((member) => member.result) };
}

/** Celery's `group._prepared`: members cloned, nested groups unrolled, each frozen. */
function prepareMembers(
  tasks: Signature[],
  groupId: string,
  rootId: string | undefined,
  replyTo: string,
): { task: Signature; result: ResultNode }[] {
  const out: { task: Signature; result: ResultNode }[] = [];
  for (const original of tasks) {
    const task = original.clone();
    if (kindOf(task) === "group") {
      out.push(...prepareMembers(tasksOf(task), groupId, rootId, replyTo));
    } else {
      out.push({ task, result: freeze(task, { groupId, rootId }, replyTo) });
    }
  }
  return out;
}

async function applyChord(
  sig: Signature,
  args: unknown[],
  kwargs: Record<string, unknown>,
  options: CanvasOptions,
  sender: CanvasSender,
): Promise<ResultNode> {
  const partial = args.length && !sig.immutable ? [...args, ...sig.args] : sig.args;
  const body = (kwargs.body instanceof Signature ? kwargs.body : bodyOf(sig)).clone(
    [],
    {},
    options,
  );
  const header = headerOf(sig).clone();
  const merged: CanvasOptions = { ...sig.options, ...options };
  const taskId = merged.task_id as string | undefined;
  delete merged.task_id;
  if (sender.chordJoin === "unsupported" || sender.chordJoin === "disabled") {
    throw chordsNotSupported(sender.chordJoin, sender.backendName);
  }
  const groupId = typeof header.options.task_id === "string"
    ? header.options.task_id
    : crypto.randomUUID();
  const rootId = (body.options.root_id ?? undefined) as string | undefined;
  Object.assign(body.options, merged);
  const bodyResult = freeze(body, { id: taskId, rootId }, sender.replyTo);
  delete merged.chain;
  delete merged.chord;
  const headerResult = freezeGroup(header, { groupId, chord: body, rootId }, sender.replyTo);
  if (headerResult.results!.length) {
    if (sender.chordJoin === "unlock") await sendChordUnlock(groupId, body, headerResult, sender);
    // Celery's Redis apply_chord: a header with group members is saved, so the body gets nested lists.
    if (sender.chordJoin === "native" && headerResult.results!.some((r) => r.results)) {
      await sender.saveGroup(groupId, headerResult.results!.map(asTuple));
    }
    await applyGroup(header, partial, {}, { ...merged, task_id: groupId }, sender);
  } else {
    await applyCanvas(body, [[]], {}, {}, sender);
  }
  bodyResult.parent = headerResult;
  return bodyResult;
}

/** Celery's `fallback_chord_unlock`: `celery.chord_unlock(group_id, body)` polling the header. */
async function sendChordUnlock(
  groupId: string,
  body: Signature,
  header: ResultNode,
  sender: CanvasSender,
): Promise<void> {
  const options: CanvasOptions = { countdown: 1, ignore_result: true };
  if (body.options.queue !== undefined) options.queue = body.options.queue;
  options.priority = body.options.priority ?? 0;
  await sender.send("celery.chord_unlock", [groupId, body], {
    interval: null,
    max_retries: null,
    result: header.results!.map(asTuple),
  }, options);
}
