import assert from "node:assert/strict";
import { BrokerConnectionError, ConfigurationError } from "../errors.ts";
import { DEFAULT_SETTINGS } from "./settings.ts";
import { connectAtStartup, type StartupRetrySettings } from "./startup_connect.ts";

/** Fails `failures` times with `error`, then returns "connected"; records sleeps and log lines. */
function scenario(failures: number, error: () => Error, settings: Partial<StartupRetrySettings>) {
  const slept: number[] = [];
  const lines: string[] = [];
  let attempts = 0;
  const run = connectAtStartup(() => {
    attempts++;
    return attempts <= failures ? Promise.reject(error()) : Promise.resolve("connected");
  }, {
    target: "amqp://guest:**@rabbit:5672//",
    config: { ...DEFAULT_SETTINGS, ...settings },
    component: "consumer",
    logError: (line) => lines.push(line),
    sleep: (seconds) => {
      slept.push(seconds);
      return Promise.resolve();
    },
  });
  return { run, slept, lines, attempts: () => attempts };
}

const refused = () =>
  new BrokerConnectionError(
    "Cannot connect to amqp://guest:**@rabbit:5672//: connect ECONNREFUSED 10.0.0.2:5672.",
  );

Deno.test("start-up retry: Celery's backoff 2, 4, … 30 s and its log line", async () => {
  const { run, slept, lines } = scenario(17, refused, {});
  assert.equal(await run, "connected");
  assert.deepEqual(slept, [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 30, 30]);
  assert.equal(
    lines[0],
    "consumer: Cannot connect to amqp://guest:**@rabbit:5672//: connect ECONNREFUSED " +
      "10.0.0.2:5672.\nTrying again in 2.00 seconds... (1/100)",
  );
  assert.match(lines[16], /Trying again in 30\.00 seconds\.\.\. \(17\/100\)$/);
});

Deno.test("start-up retry: broker_connection_max_retries ends it with the last error", async () => {
  const { run, slept } = scenario(10, refused, { broker_connection_max_retries: 3 });
  await assert.rejects(run, BrokerConnectionError);
  assert.deepEqual(slept, [2, 4, 6]);
});

Deno.test("start-up retry: off with broker_connection_retry_on_startup false", async () => {
  const { run, attempts } = scenario(1, refused, { broker_connection_retry_on_startup: false });
  await assert.rejects(run, BrokerConnectionError);
  assert.equal(attempts(), 1);
});

Deno.test("start-up retry: null on_startup follows broker_connection_retry", async () => {
  const off = scenario(1, refused, {
    broker_connection_retry_on_startup: null,
    broker_connection_retry: false,
  });
  await assert.rejects(off.run, BrokerConnectionError);
  const on = scenario(1, refused, { broker_connection_retry_on_startup: null });
  assert.equal(await on.run, "connected");
});

Deno.test("start-up retry: bad settings, wrong passwords and unknown vhosts fail at once", async () => {
  for (
    const error of [
      () => new ConfigurationError("Invalid Redis URL"),
      () => new BrokerConnectionError("Cannot connect to x: login refused (ACCESS_REFUSED: …)."),
      () => new BrokerConnectionError("Cannot connect to x: vhost refused (NOT_ALLOWED: …)."),
      () => new BrokerConnectionError("Cannot connect to x (broker): WRONGPASS invalid."),
    ]
  ) {
    const { run, attempts } = scenario(1, error, {});
    await assert.rejects(run);
    assert.equal(attempts(), 1);
  }
});
