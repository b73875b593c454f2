/**
 * The Redis chord join against a real Redis: it completes once the count
 * reaches or passes the chord size, exactly once. A header chain that ends
 * in a group reports once per member while the size counts it as one part,
 * and those reports can all come before the client writes the size: the
 * join must still complete on the last top-level part (Celery's `==` never
 * matched then, and the body never ran).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createResultBackend, RedisResultBackend } from "../../src/transports/redis/backend.ts";
import { serviceAvailable, SERVICES } from "../services.ts";
import { deleteKeysWithPrefix, redisTestConfig } from "./redis_test_tools.ts";

const redisUp = await serviceAvailable("redis");

Deno.test({
  name: "redis chord join: parts reported before the size is written; completes once, past it",
  ignore: !redisUp,
  fn: async () => {
    const prefix = `${crypto.randomUUID()}:`;
    const backend = await createResultBackend(SERVICES.redis, redisTestConfig(prefix));
    assert.ok(backend instanceof RedisResultBackend);
    try {
      const group = crypto.randomUUID();
      const part = (n: number) => ({ taskId: `t${n}`, state: "SUCCESS" as const, result: n });
      // The nested group's two members report before the client wrote the size (2).
      assert.equal((await backend.chordPartReturn(group, part(1), 0)).complete, false);
      assert.equal((await backend.chordPartReturn(group, part(2), 0)).complete, false);
      await backend.setChordSize(group, 2);
      // The last top-level part: the count (3) is past the size, and nobody completed yet.
      const last = await backend.chordPartReturn(group, part(3), 1);
      assert.equal(last.complete, true);
      assert.deepEqual(last.complete && last.parts.map((reported) => reported.result), [1, 2, 3]);
      // Another late report does not complete it a second time.
      assert.equal((await backend.chordPartReturn(group, part(4), 1)).complete, false);
      await backend.deleteChordKeys(group);
      // After the body was sent (keys deleted), a straggler does not complete anything.
      assert.equal((await backend.chordPartReturn(group, part(5), 1)).complete, false);
    } finally {
      await backend.close();
      await deleteKeysWithPrefix(prefix);
    }
  },
});
