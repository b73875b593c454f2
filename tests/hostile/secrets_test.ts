/**
 * No secret reaches the worker's output: the banner and the "Connected to"
 * line with a raw `@` in the password, and `CELERIAC_DEBUG=1` after a Redis
 * authentication failure (ioredis puts the AUTH arguments in its error).
 */

import assert from "node:assert/strict";
import { FIXTURE_APP, runCli, startWorker } from "../cli/cli_tools.ts";
import { serviceAvailable, uniqueName } from "../services.ts";

Deno.test("the banner and log lines hide a password with a raw @ (Redis, which accepts it)", async () => {
  if (!await serviceAvailable("redis")) return;
  const home = await Deno.makeTempDir();
  const queue = uniqueName("secret-banner");
  try {
    const worker = await startWorker(
      ["-A", FIXTURE_APP, "-Q", queue, "-P", "async", "-c", "1", "--loglevel", "INFO"],
      {
        CELERIAC_HOME: home,
        CELERY_BROKER_URL: "redis://:x@s3cr3t-tail@127.0.0.1:6379/15",
        CELERY_RESULT_BACKEND: "redis://:x@s3cr3t-tail@127.0.0.1:6379/15",
      },
    );
    const run = await worker.stop();
    const output = run.stdout + run.stderr;
    assert.match(output, /redis:\/\/:\*\*@127\.0\.0\.1:6379\/15/, output);
    assert.match(output, /Connected to redis:\/\/:\*\*@127\.0\.0\.1:6379\/15/);
    assert.ok(!output.includes("s3cr3t"), output);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("CELERIAC_DEBUG=1 does not print the Redis password of a failed AUTH", async () => {
  if (!await serviceAvailable("redis")) return;
  const home = await Deno.makeTempDir();
  try {
    const run = await runCli(["-A", FIXTURE_APP, "call", "clitest.add", "--args", "[1, 2]"], {
      CELERIAC_HOME: home,
      CELERIAC_DEBUG: "1",
      CELERY_BROKER_URL: "redis://no-such-user:hunter2-pw@127.0.0.1:6379/15",
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /WRONGPASS/);
    assert.match(run.stderr, /name: "auth"/, "the debug output is still printed");
    assert.ok(!run.stderr.includes("hunter2"), run.stderr);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
