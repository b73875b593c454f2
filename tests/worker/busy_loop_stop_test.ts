/**
 * The guarantee a hard time limit rests on: a worker thread stuck in a plain
 * `while (true) {}` really stops when the pool terminates it. In Deno 2.9.6
 * that holds only for a `node:worker_threads` thread whose loop runs inside a
 * Web Lock (src/worker/pool/thread_entry.ts; `bench/busy_loop_stop.ts`
 * measures the four combinations). If a Deno upgrade breaks it, the thread
 * would spin on after `TimeLimitExceeded` was stored, and this test fails:
 * the task names its own OS thread before it spins, and the test checks that
 * this thread is gone after the limit.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { RemoteError } from "../../src/protocol/exceptions.ts";
import { app, spinInThread } from "./fixtures/worker_app.ts";

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test({
  name: "a hard time limit stops a worker thread spinning in a busy loop (the thread is gone)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "celeriac-busy-" });
    const url = `sqlite://${dir}/embedded.sqlite3`;
    app.conf.update({ broker_url: url, result_backend: url });
    const worker = await app.worker({ pool: "workers", concurrency: 1, banner: false });
    try {
      // The task names its own OS thread (/proc/<pid>/task/<tid>) before it spins.
      const where = `${dir}/thread`;
      const loop = await spinInThread.applyAsync([where], { timeLimit: 3 });
      let thread = "";
      while (!thread) {
        thread = await Deno.readTextFile(where).catch(() => "");
        if (!thread) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.match(thread, /^\/proc\/\d+\/task\/\d+$/);
      assert.ok(await exists(thread), "the spinning thread is there while the task runs");
      const error = await loop.get({ timeout: 20, propagate: false }) as RemoteError;
      assert.equal(error.excType, "TimeLimitExceeded");
      // terminate() has returned by now; give the thread a moment to unwind, then look for it.
      const deadline = Date.now() + 5000;
      while (await exists(thread) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(!await exists(thread), `${thread} still exists after the limit`);
    } finally {
      await worker.stop();
      await app.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
