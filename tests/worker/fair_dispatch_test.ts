/**
 * Fair dispatch (Celery's `-O fair`, issue 15), with the workers pool and with
 * the threads pool (whose threads consume for themselves): one long task sent
 * first and 100 short ones after it, on two threads with the default prefetch
 * window (2 × 4). The short ones must all finish while the long one still
 * runs: none is held behind it by the thread running it.
 * Runs on the embedded default (`sqlite://`), so it needs no service.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { CeleryWorker } from "../../src/worker/worker.ts";
import { uniqueName } from "../services.ts";
import { add, app, sleep } from "./fixtures/worker_app.ts";

const LONG_MS = 4_000;
const SHORT = 100;

for (const pool of ["workers", "threads"] as const) {
  Deno.test(`${pool} pool: 100 short tasks sent behind a long one finish while it runs`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "celeriac-fair-" });
    const url = `sqlite://${dir}/embedded.sqlite3`;
    app.conf.update({
      broker_url: url,
      result_backend: url,
      task_default_queue: uniqueName("fair"),
    });
    let worker: CeleryWorker | undefined;
    try {
      worker = await app.worker({ pool, concurrency: 2, banner: false });
      const long = await sleep.delay(LONG_MS);
      const shorts = [];
      for (let i = 0; i < SHORT; i++) shorts.push(await add.delay(i, 1));
      const sent = performance.now();
      const sums = await Promise.all(shorts.map((result) => result.get({ timeout: 20 })));
      const shortMs = performance.now() - sent;
      assert.deepEqual(sums, Array.from({ length: SHORT }, (_, i) => i + 1));
      assert.notEqual(
        await long.state(),
        "SUCCESS",
        `the short tasks took ${shortMs.toFixed(0)} ms: they waited for the long one`,
      );
      assert.equal(await long.get({ timeout: 20 }), "slept");
    } finally {
      await worker?.stop();
      await app.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
