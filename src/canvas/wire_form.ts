/**
 * A signature's wire form: Celery's six-key dict, in both directions.
 * `toWire` turns signatures (nested ones too) into dicts; `fromWire`
 * rebuilds a signature from a dict a Python client sent — nested chain and
 * group tasks, chord header and body — and names what is malformed.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import type { SignatureData } from "../protocol/task_body.ts";
import { preview } from "../protocol/task_body.ts";
import { Signature, type SignatureApp } from "./signature.ts";

/** Deep copy of a value into its JSON form (signatures become dicts). */
export function toWire(value: unknown): unknown {
  if (value instanceof Signature) return value.toJSON();
  if (Array.isArray(value)) return value.map(toWire);
  if (value instanceof Date || value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) out[key] = toWire(item);
  }
  return out;
}

/** True when `value` looks like a signature dict (`{task: "…", …}`). */
export function isSignatureDict(value: unknown): value is SignatureData {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    typeof (value as { task?: unknown }).task === "string";
}

function record(value: unknown, what: string, task: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ProtocolError(
      `Invalid signature for ${JSON.stringify(task)}: ${what} is not a mapping (${
        preview(value)
      }).`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * Rebuilds a signature from Celery's dict (what a Python client sends), or
 * returns a Signature as it is. Nested chain tasks, group tasks and chord
 * header/body become Signatures; anything malformed is a ProtocolError
 * naming what is wrong.
 */
export function fromWire(value: unknown, app?: SignatureApp): Signature {
  if (value instanceof Signature) return value;
  if (!isSignatureDict(value)) {
    throw new ProtocolError(
      `Invalid signature: expected a mapping with a "task" name, got ${preview(value)}.`,
    );
  }
  const dict = value as unknown as Record<string, unknown>;
  const task = dict.task as string;
  const args = dict.args ?? [];
  if (!Array.isArray(args)) {
    throw new ProtocolError(
      `Invalid signature for ${JSON.stringify(task)}: args is not a list (${preview(args)}).`,
    );
  }
  const kwargs = { ...record(dict.kwargs, "kwargs", task) };
  const options = { ...record(dict.options, "options", task) };
  const type = dict.subtask_type ?? null;
  if (type !== null && type !== "chain" && type !== "group" && type !== "chord") {
    // Celery registers xmap/xstarmap/chunks too, but never writes them: they decode by task name.
    if (!["xmap", "xstarmap", "chunks"].includes(String(type))) {
      throw new ProtocolError(
        `Invalid signature for ${JSON.stringify(task)}: unknown subtask_type ${preview(type)}.`,
      );
    }
  }
  const subtaskType = type === "chain" || type === "group" || type === "chord" ? type : null;
  if (subtaskType === "chain" || subtaskType === "group") {
    kwargs.tasks = signatureList(kwargs.tasks, task, app);
  } else if (subtaskType === "chord") {
    const header = kwargs.header;
    kwargs.header = isSignatureDict(header) || header instanceof Signature
      ? fromWire(header, app)
      : signatureList(header, task, app);
    kwargs.body = kwargs.body == null ? null : fromWire(kwargs.body, app);
    kwargs.kwargs ??= {};
  }
  return new Signature(task, [...args], kwargs, options, subtaskType, dict.immutable === true, app);
}

function signatureList(value: unknown, task: string, app?: SignatureApp): Signature[] {
  if (!Array.isArray(value)) {
    throw new ProtocolError(
      `Invalid signature for ${JSON.stringify(task)}: its tasks are not a list (${
        preview(value)
      }).`,
    );
  }
  return value.map((item) => fromWire(item, app));
}

/** A list option (`link`, `link_error`) as signatures. */
export function signaturesOf(value: unknown, app?: SignatureApp): Signature[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((item) => fromWire(item, app));
}
