/**
 * The body of a protocol v2 task message: `[args, kwargs, embed]`, where the
 * embed carries the canvas (callbacks, errbacks, chain, chord).
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";
import { safeRepr } from "./python_repr.ts";

/** A canvas signature as it travels inside a message (`callbacks`, `chain`, …). */
export interface SignatureData {
  /** Task name. */
  task: string;
  /** Positional arguments. */
  args: unknown[];
  /** Keyword arguments. */
  kwargs: Record<string, unknown>;
  /** Call options (`task_id`, `queue`, …). */
  options: Record<string, unknown>;
  /** `null`, `group`, `chain` or `chord`. */
  subtask_type: string | null;
  /** Immutable signatures do not receive the parent's result. */
  immutable: boolean;
}

/** The embedded canvas part of the body. */
export interface Embed {
  /** Signatures to call with the result on success. */
  callbacks: SignatureData[] | null;
  /** Signatures to call on failure. */
  errbacks: SignatureData[] | null;
  /** Remaining chain steps, last step first. */
  chain: SignatureData[] | null;
  /** Chord body. */
  chord: SignatureData | null;
}

/** An empty embed, with all four keys as Python sends them. */
export function emptyEmbed(): Embed {
  return { callbacks: null, errbacks: null, chain: null, chord: null };
}

/** A short Python-style repr of a bad value for error messages (never throws, unlike JSON.stringify). */
export function preview(value: unknown): string {
  return safeRepr(value, 100);
}

function signatureList(value: unknown, key: string): SignatureData[] | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) || !value.every(isSignature)) {
    throw new ProtocolError(
      `Invalid message body: embed "${key}" is not a list of signatures (${preview(value)}).`,
    );
  }
  return value;
}

function isSignature(value: unknown): value is SignatureData {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    typeof (value as { task?: unknown }).task === "string";
}

function readEmbed(value: unknown): Embed {
  if (value === null || value === undefined) return emptyEmbed();
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ProtocolError(`Invalid message body: the embed is not an object.`);
  }
  const embed = value as Record<string, unknown>;
  const chord = embed.chord ?? null;
  if (chord !== null && !isSignature(chord)) {
    throw new ProtocolError(
      `Invalid message body: embed "chord" is not a signature (${preview(chord)}).`,
    );
  }
  return {
    callbacks: signatureList(embed.callbacks, "callbacks"),
    errbacks: signatureList(embed.errbacks, "errbacks"),
    chain: signatureList(embed.chain, "chain"),
    chord,
  };
}

/** Reads the three-part body `[args, kwargs, embed]`; anything else is a ProtocolError. */
export function readBody(
  body: unknown,
): { args: unknown[]; kwargs: Record<string, unknown>; embed: Embed } {
  if (!Array.isArray(body) || body.length !== 3) {
    const shape = Array.isArray(body) ? `${body.length} elements` : typeof body;
    throw new ProtocolError(
      `Invalid message body: expected [args, kwargs, embed], got ${shape}.`,
    );
  }
  const [args, kwargs, embed] = body;
  if (!Array.isArray(args)) {
    throw new ProtocolError(`Invalid message body: args is not an array.`);
  }
  if (kwargs === null || typeof kwargs !== "object" || Array.isArray(kwargs)) {
    throw new ProtocolError("Task keyword arguments is not a mapping.");
  }
  return { args, kwargs: kwargs as Record<string, unknown>, embed: readEmbed(embed) };
}
