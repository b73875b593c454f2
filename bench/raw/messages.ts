/**
 * Task messages for the raw broker-client loops, built before any clock
 * starts: `bench.add(i, i)` exactly as celeriac's client encodes it, so the
 * raw loops move the same bytes as the task queues they are compared with.
 *
 * @module
 */

import type { WireMessage } from "../../src/broker/types.ts";
import { emptyEmbed, encodeTaskMessage } from "../../src/protocol/task_message.ts";

/** What the raw loops need of one message. */
export interface RawMessage {
  /** Task id (also the correlation id). */
  id: string;
  /** The encoded message. */
  wire: WireMessage;
}

/** `count` messages for `bench.add(i, i)`; results wanted when `replyTo` is a string. */
export function rawMessages(count: number, replyTo?: string, offset = 0): RawMessage[] {
  const out: RawMessage[] = [];
  for (let i = offset; i < offset + count; i++) {
    const id = crypto.randomUUID();
    const wire = encodeTaskMessage({
      id,
      task: "bench.add",
      args: [i, i],
      kwargs: {},
      embed: emptyEmbed(),
      eta: null,
      expires: null,
      retries: 0,
      timeLimit: [null, null],
      rootId: id,
      parentId: null,
      group: null,
      groupIndex: null,
      shadow: null,
      origin: `gen${Deno.pid}@bench`,
      ignoreResult: replyTo === undefined,
      argsrepr: `(${i}, ${i})`,
      kwargsrepr: "{}",
      customHeaders: {},
      replyTo: replyTo ?? "",
      correlationId: id,
      priority: 0,
      deliveryMode: 2,
    });
    out.push({ id, wire });
  }
  return out;
}

/** The result document a raw worker stores for `add(x, y)`. */
export function rawResult(id: string, result: number): string {
  return `{"status": "SUCCESS", "result": ${result}, "traceback": null, "children": [], ` +
    `"date_done": "${new Date().toISOString()}", "task_id": "${id}"}`;
}

/** Wall-clock milliseconds with sub-millisecond precision (comparable across processes). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
