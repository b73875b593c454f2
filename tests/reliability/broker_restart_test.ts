/**
 * The broker restarts under a running worker (private nodes, never the shared
 * services), N acks_late tasks counted: every task completes (0 lost); a task
 * can complete twice when its ack was lost with the connection (the broker
 * redelivers it). Such duplicates are counted and must come from the restart:
 * a task whose first run had ended before the broker was told to stop (its
 * ack went out) never runs again, and a task first started after the broker
 * was back never runs twice. Which tasks fall between cannot be pinned down:
 * the broker stops taking acks some time before the client learns that the
 * connection is gone (up to ~600 ms into `stop_app`, measured), and a slot
 * that finishes a task in that gap loses its ack and may start another.
 *
 * On the same private RabbitMQ node, started with a 2 s `consumer_timeout`:
 * ETA tasks delayed longer than that run exactly once and the consumer keeps
 * working (the worker re-sends a held message before the broker would close
 * its channel; see src/worker/eta_plan.ts).
 */

import assert from "node:assert/strict";
import { privateNodeAvailable, PrivateRabbit } from "../integration/amqp_private_node.ts";
import { haveRedisServer, PrivateRedis } from "../integration/redis_server.ts";
import { IN_CI } from "../services.ts";
import type { Celery } from "../../mod.ts";
import { countRuns, FAULT_APP_LOCATION, openWorld, waitUntil, type World } from "./worlds.ts";

const N = 100;
/**
 * Each task's run time: N tasks on 4 threads last ~7.5 s, well beyond a
 * restart's (`rabbitmqctl stop_app` alone takes seconds on a loaded machine,
 * and with 120 ms tasks the stream once ended before the broker went down).
 */
const TASK_MS = 300;

/** Index of the first line of `runs` for `id` that ends with `what`, or -1. */
function firstLine(runs: string[], id: string, what: string): number {
  return runs.findIndex((line) => line.startsWith(`${id} `) && line.endsWith(` ${what}`));
}

async function restartMidStream(
  world: World,
  app: Celery,
  restart: () => Promise<void>,
): Promise<string> {
  const worker = await app.worker({
    concurrency: 4,
    appLocation: FAULT_APP_LOCATION,
    banner: false,
  });
  try {
    const results = [];
    for (let i = 0; i < N; i++) {
      results.push(await app.sendTask("fault.record_late", [world.dir, TASK_MS]));
    }
    await waitUntil(() => countRuns(world.runs()).size >= 10, "10 results before the restart");
    const linesBefore = world.runs().length;
    await restart();
    const linesAfter = world.runs().length;
    const doneAtRestart = countRuns(world.runs()).size;
    assert.ok(doneAtRestart < N, "the restart came mid-stream");
    const values = await Promise.all(results.map((result) => result.get({ timeout: 60 })));
    assert.deepEqual(values, results.map((result) => result.id));
    const lines = world.runs();
    const runs = countRuns(lines);
    const lost = results.filter((result) => !runs.has(result.id)).length;
    assert.equal(lost, 0, "no task lost");
    const twice = [...runs].filter(([, count]) => count > 1).map(([id]) => id);
    for (const id of twice) {
      const firstEnd = firstLine(lines, id, "run");
      const firstStart = firstLine(lines, id, "start");
      assert.ok(
        firstEnd >= linesBefore,
        `${id} ran twice, but its first run had ended before the restart (line ${firstEnd})`,
      );
      assert.ok(
        firstStart < linesAfter,
        `${id} ran twice, but its first run started after the restart (line ${firstStart})`,
      );
    }
    return `N=${N} sent, ${runs.size} results, lost ${lost}, completed twice ${twice.length} ` +
      `(in progress while the broker went down: their acks were lost); ${doneAtRestart} ` +
      `done at the restart`;
  } finally {
    await worker.stop();
  }
}

Deno.test("RabbitMQ restart mid-stream, and ETA longer than consumer_timeout (private node)", async (t) => {
  if (!await privateNodeAvailable()) return;
  await using rabbit = await PrivateRabbit.start({
    config: "consumer_timeout = 2000",
    advancedConfig: "[{rabbit, [{channel_tick_interval, 500}]}].\n",
  });

  await t.step("stop_app / start_app mid-stream: nothing lost", async () => {
    await using world = (await openWorld("amqp", { brokerUrl: rabbit.url }))!;
    const app = world.app();
    const summary = await restartMidStream(world, app, async () => {
      await rabbit.stopApp();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await rabbit.startApp();
    });
    console.log(`RabbitMQ restart: ${summary}`);
  });

  await t.step("ETA beyond consumer_timeout runs once, the channel stays up", async () => {
    await using world = (await openWorld("amqp", { brokerUrl: rabbit.url }))!;
    // The setting (not the worker option): held at most 1 s, below the 2 s consumer_timeout.
    const app = world.app({ worker_eta_hold_limit: 1 });
    const worker = await app.worker({ concurrency: 2, pool: "async", banner: false });
    try {
      const delayed = [];
      for (let i = 0; i < 3; i++) {
        delayed.push(await app.sendTask("fault.delivery", [world.dir], { countdown: 5 }));
      }
      const redelivered = await Promise.all(delayed.map((result) => result.get({ timeout: 30 })));
      const after = await app.sendTask("fault.add", [1, 2]);
      assert.equal(await after.get({ timeout: 10 }), 3, "the consumer still works");
      await new Promise((resolve) => setTimeout(resolve, 1000)); // a redelivered copy would run now
      const ran = world.runs().filter((line) => line.split(" ")[3] === "delivery");
      const counts = delayed.map((result) =>
        ran.filter((line) => line.startsWith(result.id)).length
      );
      console.log(`RabbitMQ consumer_timeout 2 s, ETA 5 s: runs per task ${counts}`);
      assert.deepEqual(counts, [1, 1, 1]);
      // A channel closed by the consumer timeout would have had them redelivered.
      assert.deepEqual(redelivered, [false, false, false], "never redelivered by RabbitMQ");
    } finally {
      await worker.stop();
    }
  });
});

Deno.test("Redis restart mid-stream (private redis-server): nothing lost", async () => {
  if (!await haveRedisServer()) {
    if (IN_CI) throw new Error("redis-server is not installed: CI=true, so this is a failure.");
    return;
  }
  const redis = await PrivateRedis.start();
  try {
    await using world = (await openWorld("redis", {
      brokerUrl: redis.url,
      visibilityTimeout: 2,
    }))!;
    // Results in SQLite: this test is about the broker restarting.
    const app = world.app({ result_backend: `sqlite://${world.dir}/results.sqlite3` });
    const summary = await restartMidStream(world, app, async () => {
      await redis.stop();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await redis.restart();
    });
    console.log(`Redis restart: ${summary}`);
  } finally {
    await redis.destroy();
  }
});
