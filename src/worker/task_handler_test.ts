import assert from "node:assert/strict";
import { DEFAULT_SETTINGS } from "../app/settings.ts";
import type { Broker, Delivery } from "../broker/types.ts";
import type { Logger } from "../log.ts";
import { emptyEmbed, encodeTaskMessage } from "../protocol/task_message.ts";
import type { Pool } from "./pool/types.ts";
import { TaskHandler } from "./task_handler.ts";

function delivery(settled: string[]): Delivery {
  const message = encodeTaskMessage({
    id: "id-1\n[FORGED",
    task: "proj.add",
    args: [1, 2],
    kwargs: {},
    embed: emptyEmbed(),
    eta: null,
    expires: null,
    retries: 0,
    timeLimit: [null, null],
    rootId: "id-1",
    parentId: null,
    group: null,
    groupIndex: null,
    shadow: null,
    origin: "test",
    ignoreResult: false,
    argsrepr: "",
    kwargsrepr: "",
    customHeaders: {},
    replyTo: "",
    correlationId: "id-1",
    priority: 0,
    deliveryMode: 2,
  });
  return {
    message,
    exchange: "",
    routingKey: "celery",
    queue: "celery",
    redelivered: false,
    ack: () => Promise.resolve(void settled.push("ack")),
    reject: (requeue) => Promise.resolve(void settled.push(`reject(${requeue})`)),
  };
}

Deno.test("TaskHandler: an unexpected error settles that one delivery (rejected, not requeued), logged with its id", async () => {
  const lines: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warning: () => {},
    error: (line) => lines.push(line),
    critical: (line) => lines.push(line),
    isEnabledFor: () => true,
  };
  const handler = new TaskHandler({
    config: DEFAULT_SETTINGS,
    lookup: () => {
      throw new RangeError("Maximum call stack size exceeded");
    },
    taskNames: [],
    pool: {} as Pool,
    broker: {} as Broker,
    backend: undefined,
    hostname: "celery@test",
    signals: new EventTarget(),
    logger,
    holdLimitMs: 60_000,
  });
  const settled: string[] = [];
  handler.handle(delivery(settled));
  handler.handle(delivery(settled));
  await handler.drain();
  assert.deepEqual(settled, ["reject(false)", "reject(false)"], "each settled once, no requeue");
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /^Internal error handling proj\.add\[id-1\\n\[FORGED\] from queue 'celery'; the message was rejected: RangeError/,
  );
});
