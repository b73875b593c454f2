/**
 * A second process for the embedded SQLite tests (`sqlite_process_test.ts`).
 * It talks on stdout, one line per event:
 *
 * - `publish <url> <queue> <count>`: publishes `p0`…`p<count-1>`, prints `PUBLISHED`, exits.
 * - `consume <url> <queue> <count>`: consumes and acks `count` messages, printing
 *   `GOT <body> <redelivered>` for each, then `DONE`, and exits.
 * - `hold <url> <queue> <count> <lease seconds>`: consumes `count` messages without
 *   settling them, prints `HOLDING <count>` and waits to be killed.
 * - `result <url> <task id>`: stores a SUCCESS result for the task, prints `STORED`, exits.
 *
 * @module
 */

import { DEFAULT_SETTINGS } from "../../src/app/settings.ts";
import { createResultBackend } from "../../src/transports/sqlite/backend.ts";
import { createBroker } from "../../src/transports/sqlite/broker.ts";
import { bodyText, DeliveryReader, directQueue, publishTexts } from "./suite_tools.ts";
import { resultDoc } from "./backend_suite.ts";

const [mode, url, name, countText, leaseText] = Deno.args;
const count = Number(countText);

if (mode === "result") {
  const backend = await createResultBackend(url, DEFAULT_SETTINGS);
  await backend.store(resultDoc(name, "SUCCESS", { from: Deno.pid }), {});
  await backend.close();
  console.log("STORED");
  Deno.exit(0);
}

const config = Object.freeze({
  ...DEFAULT_SETTINGS,
  broker_transport_options: leaseText ? { visibility_timeout: Number(leaseText) } : {},
});
const broker = await createBroker(url, config);
const queue = directQueue(name);

if (mode === "publish") {
  await publishTexts(broker, queue, Array.from({ length: count }, (_, i) => `p${i}`));
  console.log("PUBLISHED");
} else {
  const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: count }));
  const held = await reader.take(count, 30_000);
  if (mode === "hold") {
    console.log(`HOLDING ${held.length}`);
    setInterval(() => {}, 60_000); // stay alive until SIGKILL
    await new Promise(() => {});
  }
  for (const delivery of held) {
    console.log(`GOT ${bodyText(delivery)} ${delivery.redelivered}`);
    await delivery.ack();
  }
  await reader.cancel();
  console.log("DONE");
}
await broker.close();
