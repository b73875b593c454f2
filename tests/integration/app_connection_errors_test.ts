/**
 * Connection failures at the application level: wrong credentials, an
 * unknown virtual host and a refused connection make `add.delay()` and
 * `app.worker()` reject with one BrokerConnectionError naming the URL with
 * its password masked, and make `celeriac worker` print one line
 * `celeriac: error: …` and exit with code 1, without a stack trace. Also the
 * seeds' `amqp` result backend: it maps to rpc:// with a warning and works.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import { maskUrl } from "../../src/app/mask_url.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import { REPO_ROOT, startCeleriacWorker } from "../interop/celeriac_worker.ts";
import { AMQP_URL, deleteAmqpEntities } from "./amqp_helpers.ts";
import { freePort, haveRedisServer, PrivateRedis } from "./redis_server.ts";

const rabbit = await serviceAvailable("rabbitmq");
const PASSWORD = "s3cret-Pw";
const hostPort = new URL(AMQP_URL.replace(/^[a-z]+:/, "http:")).host;

/** A broker URL that fails, and what the error must say about why. */
interface BadUrl {
  name: string;
  url: string;
  cause: RegExp;
}

const AMQP_FAILURES: BadUrl[] = [
  {
    name: "wrong credentials",
    url: `amqp://guest:${PASSWORD}@${hostPort}//`,
    cause: /login refused for user "guest" \(ACCESS_REFUSED/,
  },
  {
    name: "unknown vhost",
    url: `amqp://guest:guest@${hostPort}/${uniqueName("no-such-vhost")}`,
    cause: /access to virtual host "no-such-vhost-[\w]+" refused \(NOT_ALLOWED/,
  },
  {
    name: "refused connection",
    url: `amqp://guest:${PASSWORD}@127.0.0.1:${freePort()}//`,
    cause: /ECONNREFUSED/,
  },
];

function connectionError(bad: BadUrl) {
  return (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.equal(error.name, "BrokerConnectionError", error.message);
    assert.ok(error.message.includes(maskUrl(bad.url)), error.message);
    assert.ok(!error.message.includes(PASSWORD), `password shown: ${error.message}`);
    assert.match(error.message, bad.cause);
    return true;
  };
}

/** Runs `celeriac worker` with `env`; returns exit code and output. */
async function cliWorker(env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", "worker", "-A", "tests/interop/worker_app.ts", "-P", "async"],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

for (const bad of AMQP_FAILURES) {
  Deno.test({
    name: `RabbitMQ ${bad.name}: delay(), app.worker() and the CLI fail with one clear error`,
    ignore: !rabbit,
    fn: async () => {
      // Without the start-up retry (tests/integration/startup_retry_test.ts): one attempt.
      const config = { broker_connection_retry_on_startup: false };
      await using app = new Celery("errors", { broker: bad.url, config, setAsCurrent: false });
      const add = app.task(function add(x: number, y: number) {
        return x + y;
      });
      await assert.rejects(add.delay(1, 2), connectionError(bad));
      await assert.rejects(app.worker({ pool: "async", banner: false }), connectionError(bad));
      const run = await cliWorker({
        CELERY_BROKER_URL: bad.url,
        CELERY_RESULT_BACKEND: "rpc://",
        CELERIAC_IT_CONFIG: JSON.stringify(config),
      });
      assert.equal(run.code, 1);
      const lines = run.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0], /^celeriac: error: BrokerConnectionError: Cannot connect to /);
      connectionError(bad)(Object.assign(new Error(lines[0]), { name: "BrokerConnectionError" }));
      assert.equal(run.stdout, "");
    },
  });
}

Deno.test({
  name: "rpc backend behind the amqp alias: wrong credentials name the backend URL",
  ignore: !rabbit,
  fn: async () => {
    const bad = AMQP_FAILURES[0];
    await using app = new Celery("errors", {
      broker: AMQP_URL,
      backend: bad.url,
      setAsCurrent: false,
    });
    const add = app.task(function add(x: number, y: number) {
      return x + y;
    });
    await assert.rejects(add.delay(1, 2), connectionError(bad));
  },
});

Deno.test({
  name: "Redis wrong password and refused connection: delay() and app.worker() fail clearly",
  ignore: !(await haveRedisServer()),
  fn: async () => {
    const server = await PrivateRedis.start(["--requirepass", "right-password"]);
    try {
      const failures: BadUrl[] = [
        {
          name: "wrong password",
          url: `redis://:${PASSWORD}@127.0.0.1:${server.port}/0`,
          cause: /WRONGPASS|invalid username-password/,
        },
        {
          name: "refused",
          url: `redis://:${PASSWORD}@127.0.0.1:${freePort()}/0`,
          cause: /ECONNREFUSED/,
        },
      ];
      for (const bad of failures) {
        await using app = new Celery("errors", {
          broker: bad.url,
          backend: bad.url,
          config: { broker_connection_retry_on_startup: false },
          setAsCurrent: false,
        });
        const add = app.task(function add(x: number, y: number) {
          return x + y;
        });
        await assert.rejects(add.delay(1, 2), connectionError(bad));
        await assert.rejects(app.worker({ pool: "async", banner: false }), connectionError(bad));
      }
    } finally {
      await server.destroy();
    }
  },
});

Deno.test({
  name: "the seeds' result backend 'amqp' runs as rpc:// with one warning from the worker",
  ignore: !rabbit,
  fn: async () => {
    const queue = uniqueName("it-amqp-alias");
    const env = {
      CELERY_BROKER_URL: AMQP_URL,
      CELERY_RESULT_BACKEND: "amqp",
      CELERIAC_IT_CONFIG: JSON.stringify({ task_default_queue: queue }),
    };
    try {
      await using worker = await startCeleriacWorker({
        module: "tests/interop/worker_app.ts",
        env,
        pool: "async",
      });
      await using app = new Celery("client", {
        broker: AMQP_URL,
        backend: "amqp",
        config: { task_default_queue: queue },
        setAsCurrent: false,
      });
      const result = await app.sendTask("interop.add", [2, 3]);
      assert.equal(await result.get({ timeout: 30 }), 5);
      const warnings = worker.stderr.split("\n").filter((line) => line.includes("WARNING"));
      assert.equal(warnings.length, 1, worker.stderr);
      assert.match(warnings[0], /"amqp" result backend was removed in Celery 5; using "rpc:\/\/"/);
    } finally {
      await deleteAmqpEntities([queue]);
    }
  },
});
