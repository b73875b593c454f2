/**
 * The `CanvasSender` of an app (client side) or of a worker: one task
 * message per call, through the ordinary send path (`send_task.ts`), with
 * the signature's options read under Celery's names and its `link`,
 * `link_error`, `chain` and `chord` put in the message's embed.
 *
 * @module
 */

import type { ResultBackend } from "../backend/types.ts";
import type { SendContext } from "../app/send_task.ts";
import { sendTaskMessage } from "../app/send_task.ts";
import type { ApplyOptions } from "../task/options.ts";
import type { TaskDefinition } from "../task/task.ts";
import { emptyEmbed, type SignatureData } from "../protocol/task_body.ts";
import type { CanvasSender, ChordJoin } from "./apply_canvas.ts";
import { type CanvasOptions, toWire } from "./signature.ts";
import { isNativeChordBackend } from "./chord_backend.ts";

/** The chord join of a result backend (spec §1.7). */
export function chordJoinOf(backend: ResultBackend | undefined): ChordJoin {
  if (!backend) return "disabled";
  if (isNativeChordBackend(backend)) return "native";
  return backend.url.startsWith("rpc") ? "unsupported" : "unlock";
}

function backendName(backend: ResultBackend | undefined): string {
  return backend ? backend.url.split(":")[0] : "disabled";
}

const STRING_OPTIONS: Record<string, keyof ApplyOptions> = {
  task_id: "taskId",
  queue: "queue",
  routing_key: "routingKey",
  exchange: "exchange",
  shadow: "shadow",
  parent_id: "parentId",
  root_id: "rootId",
  group_id: "groupId",
};
const NUMBER_OPTIONS: Record<string, keyof ApplyOptions> = {
  countdown: "countdown",
  priority: "priority",
  time_limit: "timeLimit",
  soft_time_limit: "softTimeLimit",
  retries: "retries",
  group_index: "groupIndex",
};

/** `applyAsync` options from Celery's option names; unknown names are ignored, as kombu ignores them. */
export function applyOptionsOf(options: CanvasOptions): ApplyOptions {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === null || value === undefined) continue;
    if (key in STRING_OPTIONS && typeof value === "string") out[STRING_OPTIONS[key]] = value;
    if (key in NUMBER_OPTIONS && typeof value === "number") out[NUMBER_OPTIONS[key]] = value;
  }
  if (typeof options.eta === "string" || options.eta instanceof Date) out.eta = options.eta;
  const expires = options.expires;
  if (typeof expires === "number" || typeof expires === "string" || expires instanceof Date) {
    out.expires = expires;
  }
  if (typeof options.ignore_result === "boolean") out.ignoreResult = options.ignore_result;
  if (options.headers && typeof options.headers === "object") out.headers = options.headers;
  return out as ApplyOptions;
}

function signatureList(value: unknown): SignatureData[] | null {
  if (value === undefined || value === null) return null;
  return toWire(Array.isArray(value) ? value : [value]) as SignatureData[];
}

/** The embed of a message from Celery's options (`link`, `link_error`, `chain`, `chord`). */
export function embedOf(options: CanvasOptions) {
  const embed = emptyEmbed();
  embed.callbacks = signatureList(options.link);
  embed.errbacks = signatureList(options.link_error);
  embed.chain = options.chain === undefined || options.chain === null
    ? null
    : toWire(options.chain) as SignatureData[];
  embed.chord = options.chord === undefined || options.chord === null
    ? null
    : toWire(options.chord) as SignatureData;
  return embed;
}

/** Makes a sender over the ordinary send path. */
export function canvasSender(
  context: SendContext,
  replyTo: string,
  lookup: (name: string) => TaskDefinition | undefined,
  chordBackend: ResultBackend | undefined,
): CanvasSender {
  return {
    replyTo,
    chordJoin: chordJoinOf(chordBackend),
    backendName: backendName(chordBackend),
    async send(task, args, kwargs, options) {
      const apply = { ...applyOptionsOf(options), kwargs };
      const frozenReply = typeof options.reply_to === "string" ? options.reply_to : undefined;
      await sendTaskMessage(task, args, apply, lookup(task), context, {
        embed: embedOf(options),
        replyTo: frozenReply,
      });
    },
    async setChordSize(groupId, size) {
      if (chordBackend && isNativeChordBackend(chordBackend)) {
        await chordBackend.setChordSize(groupId, size);
      }
    },
    async saveGroup(groupId, results) {
      if (chordBackend && isNativeChordBackend(chordBackend)) {
        await chordBackend.saveGroup(groupId, results);
      }
    },
  };
}
