/**
 * `celeriac result`: `--wait N` that runs out exits non-zero, and with the
 * rpc:// backend the command says why it cannot see the result instead of
 * printing PENDING forever.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FIXTURE_APP, runCli } from "./cli_tools.ts";
import { serviceAvailable } from "../services.ts";
import { AMQP_URL } from "../integration/amqp_helpers.ts";

Deno.test("result --wait N exits 1 when the task is still PENDING after N seconds", async () => {
  const home = await Deno.makeTempDir({ prefix: "celeriac-result-" });
  try {
    const id = crypto.randomUUID();
    const started = Date.now();
    const run = await runCli(["result", id, "--app", FIXTURE_APP, "--wait", "0.5"], {
      CELERIAC_HOME: home,
    });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, "PENDING\n");
    assert.match(run.stderr, /still PENDING after waiting 0\.5 seconds/);
    assert.ok(Date.now() - started >= 500);
    const once = await runCli(["result", id, "--app", FIXTURE_APP], { CELERIAC_HOME: home });
    assert.equal(once.code, 0, "without --wait, PENDING is an answer");
    assert.equal(once.stdout, "PENDING\n");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

const rabbit = await serviceAvailable("rabbitmq");

Deno.test({
  name: "result with rpc:// says results go only to the sending client; --wait exits 1 at once",
  ignore: !rabbit,
  async fn() {
    const env = { CELERY_BROKER_URL: AMQP_URL, CELERY_RESULT_BACKEND: "rpc://" };
    const id = crypto.randomUUID();
    const run = await runCli(["result", id, "--app", FIXTURE_APP], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "PENDING\n");
    assert.match(
      run.stderr,
      /result backend is rpc:\/\/, which sends each result only to the client/,
    );
    const started = Date.now();
    const waited = await runCli(["result", id, "--app", FIXTURE_APP, "--wait", "30"], env);
    assert.equal(waited.code, 1);
    assert.match(waited.stderr, /waiting would not help/);
    assert.ok(Date.now() - started < 20_000, "it does not wait for what cannot come");
  },
});
