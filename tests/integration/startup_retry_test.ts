/**
 * Start-up before the servers are up (docker-compose, systemd): `celeriac
 * worker` and `celeriac beat` started while nothing listens at the broker's
 * (or result backend's) address retry with Celery's message and backoff, and
 * work once the server appears. The "server" is a TCP proxy in front of the
 * shared RabbitMQ / Redis, started by the test; no shared service is stopped.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import { startBackground } from "../examples/readme_places.ts";
import { REPO_ROOT } from "../interop/celeriac_worker.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import { AMQP_URL, deleteAmqpEntities } from "./amqp_helpers.ts";
import { freePort } from "./redis_server.ts";
import { deleteKeysWithPrefix, rawRedis, REDIS_URL } from "./redis_test_tools.ts";
import { TcpProxy } from "./tcp_proxy.ts";

const rabbit = await serviceAvailable("rabbitmq");
const redis = await serviceAvailable("redis");

/** The worker command line for the interop app. */
function workerArgs(): string[] {
  return ["deno", "run", "-A", "cli.ts", "worker", "--app", "tests/interop/worker_app.ts"]
    .concat(["-P", "async", "--loglevel", "INFO"]);
}

/** Celery's first retry line for `url`: reason, then "Trying again in 2.00 seconds... (1/100)". */
function firstRetry(url: string): RegExp {
  const escaped = url.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return new RegExp(
    `ERROR.*consumer: Cannot connect to ${escaped}: .*ECONNREFUSED.*\\.\\n` +
      `Trying again in 2\\.00 seconds\\.\\.\\. \\(1/100\\)`,
  );
}

Deno.test({
  name: "worker started before RabbitMQ is up retries as Celery does, then runs tasks",
  ignore: !rabbit,
  async fn() {
    const queue = uniqueName("startup-retry");
    await using proxy = new TcpProxy(freePort(), { hostname: "127.0.0.1", port: 5672 });
    const url = `amqp://guest:**@127.0.0.1:${proxy.port}//`;
    const worker = startBackground(workerArgs(), REPO_ROOT, {
      CELERY_BROKER_URL: `amqp://guest:guest@127.0.0.1:${proxy.port}//`,
      CELERY_RESULT_BACKEND: "rpc://",
      CELERIAC_IT_CONFIG: JSON.stringify({ task_default_queue: queue }),
    });
    try {
      await worker.waitFor(firstRetry(url));
      assert.doesNotMatch(worker.stderr(), / ready\./);
      proxy.start();
      await worker.waitFor(/ ready\.$/m, 15_000);
      await using client = new Celery("client", {
        broker: AMQP_URL,
        backend: "rpc://",
        config: { task_default_queue: queue },
        setAsCurrent: false,
      });
      const result = await client.sendTask("interop.add", [2, 3]);
      assert.equal(await result.get({ timeout: 30 }), 5);
    } finally {
      const stopped = await worker.stop();
      await deleteAmqpEntities([queue]);
      assert.equal(stopped.code, 0, stopped.stderr);
    }
  },
});

Deno.test({
  name: "worker whose Redis result backend is not up yet retries it, then stores results",
  ignore: !redis,
  async fn() {
    const prefix = `${uniqueName("startup-retry")}:`;
    const transport = { global_keyprefix: prefix };
    const config = {
      task_default_queue: "retry",
      broker_transport_options: transport,
      result_backend_transport_options: transport,
    };
    await using proxy = new TcpProxy(freePort(), { hostname: "127.0.0.1", port: 6379 });
    const backendUrl = `redis://127.0.0.1:${proxy.port}/0`;
    const worker = startBackground(workerArgs(), REPO_ROOT, {
      CELERY_BROKER_URL: REDIS_URL,
      CELERY_RESULT_BACKEND: backendUrl,
      CELERIAC_IT_CONFIG: JSON.stringify(config),
    });
    try {
      await worker.waitFor(firstRetry(backendUrl));
      proxy.start();
      await worker.waitFor(/ ready\.$/m, 15_000);
      await using client = new Celery("client", {
        broker: REDIS_URL,
        backend: REDIS_URL,
        config,
        setAsCurrent: false,
      });
      const result = await client.sendTask("interop.add", [20, 22]);
      assert.equal(await result.get({ timeout: 30 }), 42);
    } finally {
      const stopped = await worker.stop();
      await deleteKeysWithPrefix(prefix);
      assert.equal(stopped.code, 0, stopped.stderr);
    }
  },
});

Deno.test({
  name: "broker_connection_max_retries: 1 gives up after one retry with the reason, exit 1",
  ignore: !redis,
  async fn() {
    const url = `redis://127.0.0.1:${freePort()}/0`;
    const worker = startBackground(workerArgs(), REPO_ROOT, {
      CELERY_BROKER_URL: url,
      CELERY_RESULT_BACKEND: url,
      CELERIAC_IT_CONFIG: JSON.stringify({ broker_connection_max_retries: 1 }),
    });
    // It exits by itself: a SIGTERM sent after its error line could arrive before its exit.
    const stopped = await worker.exit(20_000);
    assert.equal(stopped.code, 1, stopped.stderr);
    const escaped = url.replace(/[./]/g, "\\$&");
    assert.match(stopped.stderr, new RegExp(`Trying again in 2\\.00 seconds\\.\\.\\. \\(1/1\\)`));
    assert.match(stopped.stderr, new RegExp(`celeriac: error: .*Cannot connect to ${escaped}`));
    assert.equal(stopped.stderr.match(/Trying again/g)?.length, 1, stopped.stderr);
  },
});

Deno.test({
  name: "beat started before Redis is up retries as Celery's beat does, then sends",
  ignore: !redis,
  async fn() {
    const name = uniqueName("beatretry").replace("-", "");
    const dir = await Deno.makeTempDir({ prefix: "celeriac-beat-retry-" });
    await using proxy = new TcpProxy(freePort(), { hostname: "127.0.0.1", port: 6379 });
    const beat = startBackground(
      ["deno", "run", "-A", "cli.ts", "beat", "--app", "tests/beat/cli_app.ts"]
        .concat(["--loglevel", "INFO", "-s", `${dir}/schedule.json`]),
      REPO_ROOT,
      {
        CELERY_BROKER_URL: `redis://127.0.0.1:${proxy.port}/0`,
        BEAT_TEST_APP: name,
        BEAT_TEST_DIR: dir,
      },
    );
    try {
      await beat.waitFor(
        /ERROR.*beat: Connection error: .*ECONNREFUSED.*\. Trying again in 2\.0 seconds\.\.\./,
      );
      proxy.start();
      await beat.waitFor(/Scheduler: Sending due task tick/, 15_000);
    } finally {
      const stopped = await beat.stop();
      await deleteMatching(`*${name}*`);
      await Deno.remove(dir, { recursive: true });
      assert.equal(stopped.code, 0, stopped.stderr);
    }
  },
});

/** Deletes the keys matching `pattern` on the test Redis. */
async function deleteMatching(pattern: string): Promise<void> {
  const client = rawRedis();
  try {
    const keys = await client.keys(pattern);
    if (keys.length) await client.del(...keys);
  } finally {
    await client.quit();
  }
}
