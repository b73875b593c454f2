/**
 * Time limits beyond setTimeout's 2^31−1 ms (~24.8 days) do not fire at
 * once: `timelimit` headers of `[2200000, 2200000]` and `[1e308, 1e308]`
 * let a 100 ms task succeed, in the thread pool and in `-P async`.
 */

import assert from "node:assert/strict";
import { encodeTaskMessage } from "../../src/protocol/task_message.ts";
import { taskCall } from "../interop/redis_interop_tools.ts";
import { FAULT_APP_LOCATION, openWorld } from "../reliability/worlds.ts";

for (const pool of ["workers", "async"] as const) {
  Deno.test(`time limits over 24.8 days do not fire at once (-P ${pool})`, async () => {
    await using world = (await openWorld("sqlite"))!;
    const app = world.app();
    const worker = await app.worker({
      concurrency: 2,
      pool,
      banner: false,
      appLocation: FAULT_APP_LOCATION,
    });
    try {
      const broker = await app.getBroker();
      const ids: string[] = [];
      for (const limit of [2_200_000, 1e308]) {
        const call = taskCall("fault.record", [world.dir, 100]);
        call.timeLimit = [limit, limit];
        ids.push(call.id);
        await broker.publish(encodeTaskMessage(call), {
          exchange: "",
          routingKey: world.queue,
          queue: worker.queues[0],
        });
      }
      for (const id of ids) {
        assert.equal(await app.asyncResult(id).get({ timeout: 20 }), id);
      }
    } finally {
      await worker.stop();
    }
  });
}
