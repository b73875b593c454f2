/**
 * Malformed broker URL parts fail with one clear ConfigurationError naming
 * the URL (password censored) and the part: a Redis database the server does
 * not have, ports, virtual hosts and query options.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import { DEFAULT_SETTINGS } from "../../src/app/settings.ts";
import { parseAmqpUrl } from "../../src/transports/amqp/url.ts";
import { parseRedisUrl } from "../../src/transports/redis/url.ts";
import { ConfigurationError } from "../../src/errors.ts";
import { runCli } from "../cli/cli_tools.ts";
import { serviceAvailable } from "../services.ts";

const PASSWORD = "s3cret-Pw";

/** Asserts `error` is a ConfigurationError naming `url` censored and matching `why`. */
function assertNamesUrl(error: unknown, url: string, why: RegExp): true {
  assert.ok(error instanceof ConfigurationError, String(error));
  assert.match(error.message, why);
  assert.ok(!error.message.includes(PASSWORD), `the password leaked: ${error.message}`);
  const host = url.replace(/^[a-z]+:\/\/[^@]*@/, "").replace(/[/?].*$/, "");
  assert.ok(error.message.includes(host), `the URL is not named: ${error.message}`);
  return true;
}

const REDIS_CASES: [string, RegExp][] = [
  [`redis://:${PASSWORD}@cache:99999/0`, /port must be a number from 1 to 65535, not "99999"/],
  [`redis://:${PASSWORD}@cache:0/0`, /port must be a number from 1 to 65535, not "0"/],
  [`redis://:${PASSWORD}@cache:http/0`, /port must be a number from 1 to 65535, not "http"/],
  [`redis://:${PASSWORD}@cache:6379/-1`, /database must be an integer 0 or more, not "-1"/],
  [`redis://:${PASSWORD}@cache:6379/1e1`, /database must be an integer 0 or more, not "1e1"/],
  [`redis://:${PASSWORD}@cache:6379/0?visibilty_timeout=10`, /unknown option "visibilty_timeout"/],
  [`redis://:${PASSWORD}@cache:6379/%ZZ`, /is not valid percent-encoding/],
];

for (const [url, why] of REDIS_CASES) {
  Deno.test(`redis URL ${url.replace(PASSWORD, "…")} is refused, naming the part`, () => {
    assert.throws(() => parseRedisUrl(url), (error) => assertNamesUrl(error, url, why));
  });
}

const AMQP_CASES: [string, RegExp][] = [
  [`amqp://guest:${PASSWORD}@rabbit:70000//`, /port must be a number from 1 to 65535, not "70000"/],
  [`amqp://guest:${PASSWORD}@rabbit:0//`, /port must be a number from 1 to 65535, not "0"/],
  [`amqp://guest:${PASSWORD}@rabbit:5672/%E0%A4%A`, /virtual host "%E0%A4%A" is not valid/],
  [`amqp://guest:${PASSWORD}@rabbit:5672//?heartbeat=often`, /heartbeat must be a number/],
  [`amqp://guest:${PASSWORD}@rabbit:5672//?hearbeat=10`, /unknown option "hearbeat"/],
];

for (const [url, why] of AMQP_CASES) {
  Deno.test(`amqp URL ${url.replace(PASSWORD, "…")} is refused, naming the part`, async () => {
    await assert.rejects(
      parseAmqpUrl(url, DEFAULT_SETTINGS),
      (error) => assertNamesUrl(error, url, why),
    );
  });
}

Deno.test("amqp URL: ?heartbeat=N and a named vhost still read as before", async () => {
  const endpoint = await parseAmqpUrl("amqp://u:p@h:5673/lafoglia?heartbeat=10", DEFAULT_SETTINGS);
  assert.deepEqual([endpoint.port, endpoint.vhost, endpoint.heartbeat], [5673, "lafoglia", 10]);
});

const redis = await serviceAvailable("redis");

Deno.test({
  name: "redis://…/99 (a database the server does not have) fails instead of using database 0",
  ignore: !redis,
  async fn() {
    const url = "redis://127.0.0.1:6379/99";
    const app = new Celery("badb", { broker: url, backend: url, setAsCurrent: false });
    const add = app.task(function add(x: number, y: number) {
      return x + y;
    });
    try {
      await assert.rejects(
        add.delay(1, 2),
        (error) => assertNamesUrl(error, url, /database 99 does not exist on this server/),
      );
    } finally {
      await app.close();
    }
  },
});

Deno.test({
  name: "celeriac worker on redis://…/99 exits 1 with the reason, never 'ready'",
  ignore: !redis,
  async fn() {
    const url = `redis://:${PASSWORD}@127.0.0.1:6379/99`;
    const app = new URL("../cli/fixtures/cli_app.ts", import.meta.url).pathname;
    const run = await runCli(["worker", "--app", app, "-P", "solo", "--loglevel", "INFO"], {
      CELERY_BROKER_URL: url,
      CELERY_RESULT_BACKEND: url,
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      /celeriac: error: ConfigurationError: Invalid Redis URL .*\/99.*database 99/,
    );
    assert.doesNotMatch(run.stderr, /ready\./);
    assert.ok(!run.stderr.includes(PASSWORD));
  },
});
