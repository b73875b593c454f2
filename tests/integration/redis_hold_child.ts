/**
 * A child process for crash tests: consumes from a Redis queue, prints
 * `held <body>` for each delivery it takes and never settles anything, until
 * the parent kills it with SIGKILL.
 *
 * Usage: `deno run -A redis_hold_child.ts <redis url> <global_keyprefix> <queue> <visibility s>`
 *
 * @module
 */

import { createBroker } from "../../src/broker/redis/broker.ts";
import { directQueue } from "../conformance/suite_tools.ts";
import { redisTestConfig } from "./redis_test_tools.ts";

const [url, prefix, queue, visibility] = Deno.args;
const config = redisTestConfig(prefix, {
  broker_transport_options: { global_keyprefix: prefix, visibility_timeout: Number(visibility) },
});
const broker = await createBroker(url, config);
for await (const delivery of broker.consume({ queues: [directQueue(queue)], prefetch: 1 })) {
  console.log(`held ${new TextDecoder().decode(delivery.message.body)}`);
}
