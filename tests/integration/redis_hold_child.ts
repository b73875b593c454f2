/**
 * A child process for crash tests: consumes from a Redis queue, prints
 * `held <body>` for each delivery it takes and never settles anything, until
 * the parent kills it with SIGKILL.
 *
 * Usage: `deno run -A redis_hold_child.ts <redis url> <global_keyprefix> <queue> <visibility s>`
 *
 * @module
 */

import { createBroker } from "../../src/transports/redis/broker.ts";
import { directQueue } from "../conformance/suite_tools.ts";
import { redisTestConfig } from "./redis_test_tools.ts";

const [url, prefix, queue, visibility] = Deno.args;
// A process killed while it holds `unacked_mutex` blocks every restore until the lock
// expires (kombu's default is 300 s): keep it short, since this one is always killed.
const config = redisTestConfig(prefix, {
  broker_transport_options: {
    global_keyprefix: prefix,
    visibility_timeout: Number(visibility),
    unacked_mutex_expire: 1,
  },
});
const broker = await createBroker(url, config);
for await (const delivery of broker.consume({ queues: [directQueue(queue)], prefetch: 1 })) {
  console.log(`held ${new TextDecoder().decode(delivery.message.body)}`);
}
