/**
 * `app.workerMain(args)`: a program runs its own worker with the CLI's
 * flags, and stops warm on SIGTERM with exit code 0.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startWorker } from "../cli/cli_tools.ts";

const PROGRAM = new URL("./fixtures/worker_main.ts", import.meta.url).pathname;

Deno.test("app.workerMain(args) runs a worker until SIGTERM, then exits 0", async () => {
  const home = await Deno.makeTempDir({ prefix: "celeriac-worker-main-" });
  try {
    const env = { CELERIAC_HOME: home };
    const worker = await startWorker(
      ["-P", "async", "-c", "3", "-Q", "first,second", "-n", "prog@example", "-l", "INFO"],
      env,
      PROGRAM,
    );
    const { app, add } = await import("./fixtures/worker_main.ts");
    Deno.env.set("CELERIAC_HOME", home);
    try {
      const result = await add.applyAsync([20, 22], { queue: "second" });
      assert.equal(await result.get({ timeout: 20 }), 42);
    } finally {
      Deno.env.delete("CELERIAC_HOME");
      await app.close();
    }
    const run = await worker.stop("SIGTERM");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /prog@example v/);
    assert.match(run.stdout, /\.> concurrency: 3 \(async\)/);
    assert.match(run.stdout, /\.> first +exchange=first\(direct\) key=first/);
    assert.match(run.stdout, /\.> second +exchange=second\(direct\) key=second/);
    assert.match(run.stdout, /\[tasks\]\n {2}\. mainprog\.add/);
    assert.match(run.stderr, /Task mainprog\.add\[[\w-]+\] succeeded in [\d.e-]+s: 42/);
    assert.match(run.stderr, /Warm shutdown/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
