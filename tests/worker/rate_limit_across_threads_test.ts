/**
 * A task's rate limit is per worker, not per thread (Celery's semantics,
 * issue 15), with the workers pool and with the threads pool (whose threads
 * share each bucket in shared memory): with two threads, twelve `10/s` tasks still take about a
 * second, where a bucket per thread would let them through in about half.
 * Runs on the embedded default (`sqlite://`), so it needs no service.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { CeleryWorker } from "../../src/worker/worker.ts";
import { uniqueName } from "../services.ts";
import { app, limitedAdd } from "./fixtures/worker_app.ts";

const TASKS = 12;
/** 12 tasks at 10/s from one bucket of capacity 1: the last starts ≥ 1.1 s after the first. */
const PER_WORKER_MIN_MS = 950;

for (const pool of ["workers", "threads"] as const) {
  Deno.test(`${pool} pool: a 10/s rate limit holds across two threads`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "celeriac-rate-" });
    const url = `sqlite://${dir}/embedded.sqlite3`;
    app.conf.update({
      broker_url: url,
      result_backend: url,
      task_default_queue: uniqueName("rate"),
    });
    let worker: CeleryWorker | undefined;
    try {
      worker = await app.worker({ pool, concurrency: 2, banner: false });
      const started = performance.now();
      const results = [];
      for (let i = 0; i < TASKS; i++) results.push(await limitedAdd.delay(i, 1));
      const sums = await Promise.all(results.map((result) => result.get({ timeout: 20 })));
      const elapsed = performance.now() - started;
      assert.deepEqual(sums, Array.from({ length: TASKS }, (_, i) => i + 1));
      assert.ok(
        elapsed >= PER_WORKER_MIN_MS,
        `${TASKS} tasks at 10/s finished in ${elapsed.toFixed(0)} ms: the limit was not per worker`,
      );
    } finally {
      await worker?.stop();
      await app.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
