/**
 * The Redis native chord join with a celeriac worker alone (the mixed-fleet
 * and Python cases are in tests/interop/): a header task revoked before it
 * ran (expired) counts as a completion and fails the body with ChordError.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery, chord, type RemoteError } from "../../mod.ts";
import { deleteKeysWithPrefix, REDIS_URL } from "../integration/redis_test_tools.ts";
import { serviceAvailable, uniqueName } from "../services.ts";

const available = await serviceAvailable("redis");

Deno.test({
  name: "Redis chord: an expired header task fails the body with ChordError",
  ignore: !available,
  fn: async () => {
    const prefix = `${uniqueName("canvas-redis")}:`;
    const transport = { global_keyprefix: prefix };
    const app = new Celery(uniqueName("canvas"), {
      broker: REDIS_URL,
      backend: REDIS_URL,
      config: {
        broker_transport_options: transport,
        result_backend_transport_options: transport,
        task_default_queue: uniqueName("canvas"),
      },
      setAsCurrent: false,
    });
    const add = app.task(function add(x: number, y: number) {
      return x + y;
    });
    const xsum = app.task(function xsum(numbers: number[]) {
      return numbers.reduce((a, b) => a + b, 0);
    });
    const worker = await app.worker({ pool: "async", concurrency: 2, banner: false });
    try {
      const expired = add.s(2, 2).set({ expires: new Date(Date.now() - 1000) });
      const body = await chord([add.s(1, 1), expired], xsum.s()).applyAsync();
      const error = await app.asyncResult(body.id).get({ timeout: 10, propagate: false });
      assert.equal((error as RemoteError).name, "ChordError");
      assert.match(
        (error as RemoteError).message,
        /^Dependency [0-9a-f-]{36} raised TaskRevokedError\('expired'\)$/,
      );
    } finally {
      await worker.stop();
      await app.close();
      await deleteKeysWithPrefix(prefix);
    }
  },
});
