/**
 * The guarantee a hard time limit rests on: a worker thread stuck in a plain
 * `while (true) {}` really stops when the pool terminates it. In Deno 2.9.6
 * that holds only for a `node:worker_threads` thread whose loop runs inside a
 * Web Lock (src/worker/pool/thread_entry.ts; `bench/busy_loop_stop.ts`
 * measures the four combinations). If a Deno upgrade breaks it, the thread
 * would spin on after `TimeLimitExceeded` was stored, and this test fails:
 * it finds the thread that burns CPU while the task runs, and checks that
 * this thread is gone after the limit.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { RemoteError } from "../../src/protocol/exceptions.ts";
import { app, spin } from "./fixtures/worker_app.ts";

/** CPU ticks (1/100 s) used so far by each thread of this process, by thread id. */
function threadTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const entry of Deno.readDirSync("/proc/self/task")) {
    try {
      const fields = Deno.readTextFileSync(`/proc/self/task/${entry.name}/stat`).split(") ")[1]
        .split(" ");
      ticks.set(entry.name, Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return ticks;
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
      const loop = await spin.applyAsync([], { timeLimit: 3 });
      // While it runs, the spinning thread is the one whose CPU time grows by 5+ ticks in 100 ms.
      let spinner: string | undefined;
      for (let before = threadTicks(); !spinner;) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const now = threadTicks();
        spinner = [...now].find(([tid, ticks]) => ticks - (before.get(tid) ?? ticks) >= 5)?.[0];
        before = now;
        assert.ok(!await loop.ready(), "the loop ended before a busy thread was seen");
      }
      const error = await loop.get({ timeout: 20, propagate: false }) as RemoteError;
      assert.equal(error.excType, "TimeLimitExceeded");
      // terminate() has returned by now; give the thread a moment to unwind, then look for it.
      const deadline = Date.now() + 3000;
      while (threadTicks().has(spinner) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(!threadTicks().has(spinner), `thread ${spinner} still runs after the limit`);
    } finally {
      await worker.stop();
      await app.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
