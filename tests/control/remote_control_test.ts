/**
 * Remote control and events between celeriac clients and celeriac workers on
 * RabbitMQ: revocation (before the run, with terminate, learned by mingle,
 * kept in --statedb), the commands that change a worker, the allow-list,
 * malformed control messages, and which events a worker sends with and
 * without -E. Each test has its own queue, control namespace and events
 * exchange.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery, group } from "../../mod.ts";
import type { CeleryEvent } from "../../src/events/event_types.ts";
import type { CeleryWorker } from "../../src/worker/worker.ts";
import {
  AMQP_URL,
  closeOwnConnections,
  deleteAmqpEntities,
  privateVhost,
} from "../integration/amqp_helpers.ts";
import { type CeleriacWorkerOptions, startCeleriacWorker } from "../interop/celeriac_worker.ts";
import { eventually, isolatedSettings } from "../interop/events_control_scenarios.ts";
import { serviceAvailable, uniqueName } from "../services.ts";

const available = await serviceAvailable("rabbitmq");

/** An app with `add`, `sleep` and `flaky`, isolated names, and clean-up. */
function testApp(extra: Record<string, unknown> = {}, broker = AMQP_URL) {
  const config = isolatedSettings(extra);
  const app = new Celery("rc", {
    broker,
    backend: "rpc://",
    config,
    setAsCurrent: false,
  });
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  }, { name: "rc.add" });
  const sleep = app.task(async function sleep(seconds: number) {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return "slept";
  }, { name: "rc.sleep" });
  const cleanUp = async (...queues: string[]) => {
    await app.close();
    const control = config.control_exchange as string;
    await deleteAmqpEntities([
      config.task_default_queue as string,
      config.event_exchange as string,
      `${control}.pidbox`,
      `reply.${control}.pidbox`,
      ...queues,
    ]);
  };
  return { app, add, sleep, config, cleanUp };
}

function startWorker(app: Celery, options: Parameters<Celery["worker"]>[0] = {}) {
  return app.worker({
    pool: "async",
    concurrency: 2,
    banner: false,
    hostname: `${uniqueName("rc")}@test`,
    heartbeatInterval: 0.5,
    ...options,
  });
}

/**
 * A worker process (`tests/interop/worker_app.ts`, one thread) on RabbitMQ
 * with rpc results and the test app's settings, named `node`.
 */
function startWorkerProcess(
  config: Record<string, unknown>,
  node: string,
  options: Pick<CeleriacWorkerOptions, "pool" | "args">,
) {
  return startCeleriacWorker({
    module: "tests/interop/worker_app.ts",
    env: {
      CELERY_BROKER_URL: AMQP_URL,
      CELERY_RESULT_BACKEND: "rpc://",
      CELERIAC_IT_CONFIG: JSON.stringify(config),
    },
    hostname: node,
    concurrency: 1,
    ...options,
  });
}

/** Reads `app.events()` into a list until `stop()`. */
function recordEvents(app: Celery) {
  const abort = new AbortController();
  const events: CeleryEvent[] = [];
  const done = (async () => {
    for await (const event of app.events({ signal: abort.signal })) events.push(event);
  })();
  return {
    events,
    find: (type: string, field: string, value: unknown) =>
      events.find((event) => event.type === type && event[field] === value),
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

Deno.test({
  name: "GroupResult.revoke(): every member held for its ETA is discarded, REVOKED, never started",
  ignore: !available,
  fn: async () => {
    const { app, add, cleanUp } = testApp();
    const recorder = recordEvents(app);
    let worker: CeleryWorker | undefined;
    try {
      worker = await startWorker(app, { events: true });
      const node = worker.hostname;
      const later = { countdown: 3 };
      const members = await group([add.s(1, 1).set(later), add.s(2, 2).set(later)]).applyAsync();
      const ids = members.results.map((result) => result.id);
      await eventually("both tasks held for their ETA", async () => {
        const replies = await app.control.inspect({ destination: node }).scheduled();
        const held = replies?.[node].map((entry) => entry.request.id) ?? [];
        return ids.every((id) => held.includes(id)) || undefined;
      });
      await members.revoke();
      await eventually("both ids flagged as revoked", async () => {
        const revoked = (await app.control.inspect({ destination: node }).revoked())?.[node] ?? [];
        return ids.every((id) => revoked.includes(id)) || undefined;
      });
      await members.get({ timeout: 10, propagate: false });
      for (const result of members.results) {
        assert.equal(await (result as { state(): Promise<string> }).state(), "REVOKED");
        assert.equal(recorder.find("task-started", "uuid", result.id), undefined);
      }
    } finally {
      await worker?.stop();
      await recorder.stop();
      await cleanUp();
    }
  },
});

Deno.test({
  name: "revoke: a held countdown task is discarded, REVOKED, listed, with its task-revoked event",
  ignore: !available,
  fn: async () => {
    const { app, add, cleanUp } = testApp();
    const recorder = recordEvents(app);
    let worker: CeleryWorker | undefined;
    try {
      worker = await startWorker(app, { events: true });
      const node = worker.hostname;
      const result = await add.applyAsync([1, 1], { countdown: 3 });
      await eventually("the task held for its ETA", async () => {
        const replies = await app.control.inspect({ destination: node }).scheduled();
        return replies?.[node].some((entry) => entry.request.id === result.id) || undefined;
      });
      const replies = await app.control.revoke(result.id, { reply: true, destination: [node] });
      assert.deepEqual(replies, [{ [node]: { ok: `tasks ${result.id} flagged as revoked` } }]);
      assert.deepEqual(
        await app.control.inspect({ destination: node }).revoked(),
        { [node]: [result.id] },
      );
      await result.get({ timeout: 10, propagate: false });
      assert.equal(await result.state(), "REVOKED");
      const event = await eventually(
        "task-revoked",
        () => recorder.find("task-revoked", "uuid", result.id),
      );
      assert.deepEqual([event.terminated, event.signum, event.expired], [false, null, false]);
      assert.equal(recorder.find("task-started", "uuid", result.id), undefined);
    } finally {
      await worker?.stop();
      await recorder.stop();
      await cleanUp();
    }
  },
});

Deno.test({
  name: "revoke: a task waiting for a free slot is discarded when its turn comes, never run",
  ignore: !available,
  fn: async () => {
    const { app, add, sleep, cleanUp } = testApp();
    let worker: CeleryWorker | undefined;
    try {
      worker = await startWorker(app, { concurrency: 1 });
      const node = worker.hostname;
      const busy = await sleep.delay(3);
      const waiting = await add.delay(5, 5);
      await eventually("the add reserved behind the sleep", async () => {
        const reserved = await app.control.inspect({ destination: node }).reserved();
        return reserved?.[node].some((request) => request.id === waiting.id) || undefined;
      });
      await app.control.revoke(waiting.id, { reply: true, destination: node });
      await waiting.get({ timeout: 10, propagate: false });
      assert.equal(await waiting.state(), "REVOKED");
      assert.equal(await busy.get({ timeout: 10 }), "slept");
      const stats = await app.control.inspect({ destination: node }).stats();
      assert.deepEqual(stats?.[node].total, { "rc.sleep": 1 }, "the revoked add never started");
    } finally {
      await worker?.stop();
      await cleanUp();
    }
  },
});

Deno.test({
  name: "revoke with terminate stops a running task in a worker thread; the pool goes on",
  ignore: !available,
  fn: async () => {
    const { app, config, cleanUp } = testApp();
    const node = `${uniqueName("rc-term")}@test`;
    try {
      await using worker = await startWorkerProcess(config, node, {
        args: ["-E", "--without-mingle"],
      });
      const slow = await app.sendTask("interop.sleep", [60]);
      await eventually("the task running", async () => {
        const active = await app.control.inspect({ destination: node }).active();
        return active?.[node].some((request) => request.id === slow.id) || undefined;
      });
      const replies = await app.control.revoke(slow.id, {
        terminate: true,
        signal: "SIGKILL",
        reply: true,
        destination: node,
      });
      assert.deepEqual(replies, [{ [node]: { ok: `terminate: ${slow.id}` } }]);
      const error = await slow.get({ timeout: 10, propagate: false }) as Error;
      assert.equal(await slow.state(), "REVOKED");
      assert.match(String(error), /TaskRevokedError.*terminated/);
      const next = await app.sendTask("interop.add", [2, 2]);
      assert.equal(await next.get({ timeout: 20 }), 4);
      await worker.stop();
      assert.match(worker.stderr, new RegExp(`Terminating ${slow.id} \\(SIGKILL\\)`));
    } finally {
      await cleanUp();
    }
  },
});

Deno.test({
  name: "mingle: a starting worker learns the revoked ids of a running one; --statedb keeps them",
  ignore: !available,
  fn: async () => {
    const { app, cleanUp } = testApp();
    const stateDb = await Deno.makeTempFile({ suffix: ".json" });
    const revokedId = crypto.randomUUID();
    let first: CeleryWorker | undefined;
    let second: CeleryWorker | undefined;
    try {
      first = await startWorker(app, { stateDb });
      await app.control.revoke(revokedId, { reply: true, destination: first.hostname });
      second = await startWorker(app, { mingle: true });
      assert.deepEqual(
        await app.control.inspect({ destination: second.hostname }).revoked(),
        { [second.hostname]: [revokedId] },
      );
      await first.stop();
      first = undefined;
      const saved = JSON.parse(await Deno.readTextFile(stateDb));
      assert.equal(typeof saved.revoked[revokedId][0], "number");
      await second.stop();
      second = undefined;
      const third = await startWorker(app, { stateDb });
      try {
        assert.deepEqual(
          await app.control.inspect({ destination: third.hostname }).revoked(),
          { [third.hostname]: [revokedId] },
        );
      } finally {
        await third.stop();
      }
    } finally {
      await first?.stop();
      await second?.stop();
      await Deno.remove(stateDb).catch(() => {});
      await cleanUp();
    }
  },
});

Deno.test({
  name:
    "control commands: rate_limit, time_limit, events on/off, consumers, pool, query_task, conf",
  ignore: !available,
  fn: async () => {
    const { app, add, sleep, cleanUp } = testApp();
    const extraQueue = uniqueName("rc-extra");
    let worker: CeleryWorker | undefined;
    try {
      worker = await startWorker(app);
      const node = worker.hostname;
      const one = (command: string, args: Record<string, unknown> = {}) =>
        app.control.broadcast(command, { arguments: args, reply: true, destination: [node] })
          .then((replies) => replies[0]?.[node]);
      assert.deepEqual(await one("rate_limit", { task_name: "rc.add", rate_limit: "100/s" }), {
        ok: "new rate limit set successfully",
      });
      const bad = await one("rate_limit", { task_name: "rc.add", rate_limit: "x/y" });
      assert.match((bad as { error: string }).error, /^Invalid rate limit string: /);
      assert.deepEqual(await one("rate_limit", { task_name: "nope", rate_limit: "1/s" }), {
        error: "unknown task",
      });
      assert.deepEqual(await one("rate_limit", { task_name: "rc.add", rate_limit: null }), {
        ok: "rate limit disabled successfully",
      });
      assert.deepEqual(
        await app.control.inspect({ destination: node }).registered(),
        { [node]: ["rc.add", "rc.sleep"] },
      );
      assert.deepEqual(await one("time_limit", { task_name: "rc.sleep", soft: null, hard: 0.3 }), {
        ok: "time limits set successfully",
      });
      const limited = await sleep.delay(5);
      const error = await limited.get({ timeout: 10, propagate: false });
      assert.match(String(error), /TimeLimitExceeded/);
      await one("time_limit", { task_name: "rc.sleep", soft: null, hard: null });

      assert.deepEqual(await one("enable_events"), { ok: "task events enabled" });
      assert.deepEqual(await one("enable_events"), { ok: "task events already enabled" });
      assert.deepEqual(await one("disable_events"), { ok: "task events disabled" });

      assert.deepEqual(await one("add_consumer", { queue: extraQueue }), {
        ok: `add consumer ${extraQueue}`,
      });
      const queues = await app.control.inspect({ destination: node }).activeQueues();
      assert.deepEqual(
        queues?.[node].map((q) => q.name).sort(),
        [
          app.conf.task_default_queue,
          extraQueue,
        ].sort(),
      );
      const viaExtra = await add.applyAsync([3, 4], { queue: extraQueue });
      assert.equal(await viaExtra.get({ timeout: 10 }), 7);
      assert.deepEqual(await one("cancel_consumer", { queue: extraQueue }), {
        ok: `no longer consuming from ${extraQueue}`,
      });
      const after = await app.control.inspect({ destination: node }).activeQueues();
      assert.deepEqual(after?.[node].map((q) => q.name), [app.conf.task_default_queue]);

      assert.deepEqual(await one("pool_grow", { n: 1 }), { ok: "pool will grow" });
      const stats = await app.control.inspect({ destination: node }).stats();
      assert.equal((stats?.[node].pool as Record<string, unknown>)["max-concurrency"], 3);
      assert.deepEqual(await one("pool_shrink", { n: 1 }), { ok: "pool will shrink" });

      const running = await sleep.delay(1);
      const known = await eventually("query_task to see the running task", async () => {
        const replies = await app.control.inspect({ destination: node }).queryTask(running.id);
        return replies?.[node][running.id];
      });
      assert.equal(known[0], "active");
      assert.equal(known[1].id, running.id);
      await running.get({ timeout: 10 });

      const conf = await app.control.inspect({ destination: node }).conf();
      assert.equal(conf?.[node].task_default_queue, app.conf.task_default_queue);
      assert.equal(
        typeof (await app.control.inspect({ destination: node }).clock())?.[node].clock,
        "number",
      );
      assert.match(
        (await app.control.inspect({ destination: node }).report())![node].ok,
        /celeriac/,
      );
      assert.deepEqual(await one("no_such_command"), { error: "KeyError('no_such_command')" });

      // A consumer added and left: a warm stop still ends (and stops it too).
      assert.deepEqual(await one("add_consumer", { queue: extraQueue }), {
        ok: `add consumer ${extraQueue}`,
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        worker.stop(),
        new Promise((_, reject) =>
          timer = setTimeout(() => reject(new Error("stop() hangs with an added consumer")), 15_000)
        ),
      ]).finally(() => clearTimeout(timer));
    } finally {
      await worker?.stop();
      await cleanUp(extraQueue);
    }
  },
});

Deno.test({
  name: "safety: allow-list, remote control off, malformed control messages ignored, shutdown",
  ignore: !available,
  fn: async () => {
    const { app, cleanUp } = testApp({ worker_control_allow: ["stats"] });
    let worker: CeleryWorker | undefined;
    try {
      worker = await startWorker(app);
      const node = worker.hostname;
      const refused = await app.control.rateLimit("rc.add", "1/s", {
        reply: true,
        destination: node,
      });
      assert.deepEqual(refused, [{
        [node]: { error: "command rate_limit is not allowed on this worker" },
      }]);
      assert.deepEqual(await app.control.ping({ destination: node }), [{
        [node]: { ok: "pong" },
      }]);

      const broker = await app.getBroker();
      const exchange = `${app.conf.control_exchange}.pidbox`;
      const target = {
        exchange,
        routingKey: "",
        declareExchange: { name: exchange, type: "fanout" as const, durable: false },
      };
      for (
        const body of [
          "not json",
          "[1, 2]",
          '{"arguments": {}}',
          '{"method": "ping", "arguments": 5}',
        ]
      ) {
        await broker.publish({
          headers: {},
          properties: {},
          contentType: "application/json",
          contentEncoding: "utf-8",
          body: new TextEncoder().encode(body),
        }, target);
      }
      assert.deepEqual(await app.control.ping({ destination: node }), [{
        [node]: { ok: "pong" },
      }]);

      assert.deepEqual(await app.control.shutdown({ reply: true, destination: node }), [{
        [node]: { error: "command shutdown is not allowed on this worker" },
      }]);
      await worker.stop();

      app.conf.worker_control_allow = null;
      worker = await startWorker(app);
      const allowed = worker;
      assert.deepEqual(
        await app.control.shutdown({ reply: true, destination: allowed.hostname }),
        [],
      );
      await allowed.finished;
      worker = undefined;

      app.conf.worker_enable_remote_control = false;
      worker = await startWorker(app);
      assert.deepEqual(await app.control.ping({ destination: worker.hostname, timeout: 0.5 }), []);
    } finally {
      await worker?.stop();
      await cleanUp();
    }
  },
});

Deno.test({
  name: "events: without -E only worker events; with -E the task events, in order of the clock",
  ignore: !available,
  fn: async () => {
    const { app, add, cleanUp } = testApp();
    const recorder = recordEvents(app);
    let worker: CeleryWorker | undefined;
    try {
      worker = await startWorker(app);
      const node = worker.hostname;
      await eventually("a heartbeat", () => recorder.find("worker-heartbeat", "hostname", node));
      const quiet = await add.delay(1, 1);
      await quiet.get({ timeout: 10 });
      await app.control.heartbeat({ destination: node });
      await eventually(
        "the heartbeat asked for",
        () =>
          recorder.events.find((event) => event.type === "worker-heartbeat" && event.freq === 5),
      );
      assert.equal(recorder.events.filter((event) => event.uuid === quiet.id).length, 0);
      await worker.stop();
      worker = undefined;
      await eventually("worker-offline", () => recorder.find("worker-offline", "hostname", node));

      worker = await startWorker(app, { events: true });
      const loud = await add.delay(2, 2);
      await loud.get({ timeout: 10 });
      const types = await eventually("the task's events", () => {
        const mine = recorder.events.filter((event) => event.uuid === loud.id);
        return mine.length >= 3 ? mine : undefined;
      });
      assert.deepEqual(types.map((event) => event.type), [
        "task-received",
        "task-started",
        "task-succeeded",
      ]);
      assert.ok(types[0].clock < types[1].clock && types[1].clock < types[2].clock);
      assert.equal(types[2].result, "4");
    } finally {
      await worker?.stop();
      await recorder.stop();
      await cleanUp();
    }
  },
});

Deno.test({
  name: "a worker answers remote control again after its RabbitMQ connection was cut",
  ignore: !available,
  fn: async () => {
    await using place = await privateVhost(); // cut only this test's connections
    const { app, add, cleanUp } = testApp({}, place.url);
    let worker: CeleryWorker | undefined;
    try {
      worker = await startWorker(app);
      const node = worker.hostname;
      assert.deepEqual(await app.control.ping({ destination: node }), [{ [node]: { ok: "pong" } }]);
      assert.ok(await closeOwnConnections(undefined, place.vhost) > 0);
      await eventually("ping answered after the reconnection", async () => {
        const replies = await app.control.ping({ destination: node, timeout: 0.5 }).catch(() => []);
        return replies.length ? replies : undefined;
      }, 30_000);
      assert.equal(await (await add.delay(1, 2)).get({ timeout: 20 }), 3);
    } finally {
      await worker?.stop();
      await cleanUp();
    }
  },
});

for (const pool of ["workers", "threads"] as const) {
  Deno.test({
    name: `pool_grow and pool_shrink resize the pool (${pool})`,
    ignore: !available,
    fn: async () => {
      const { app, config, cleanUp } = testApp();
      const node = `${uniqueName("rc-pool")}@test`;
      try {
        await using _worker = await startWorkerProcess(config, node, {
          pool,
          args: ["--without-mingle"],
        });
        const one = (command: string, args: Record<string, unknown> = {}) =>
          app.control.broadcast(command, { arguments: args, reply: true, destination: [node] })
            .then((replies) => replies[0]?.[node]);
        const concurrency = async () => {
          const stats = await app.control.inspect({ destination: node }).stats();
          return (stats?.[node].pool as Record<string, unknown>)["max-concurrency"];
        };
        assert.deepEqual(await one("pool_grow", { n: 1 }), { ok: "pool will grow" });
        assert.equal(await concurrency(), 2);
        const sleeps = await Promise.all([1, 2].map(() => app.sendTask("interop.sleep", [2])));
        await eventually("two tasks running at once", async () => {
          const active = await app.control.inspect({ destination: node }).active();
          return active?.[node].length === 2 || undefined;
        });
        assert.deepEqual(await one("pool_shrink", { n: 1 }), { ok: "pool will shrink" });
        assert.equal(await concurrency(), 1);
        for (const sleep of sleeps) await sleep.get({ timeout: 20 });
        const after = await Promise.all([1, 2, 3].map((n) => app.sendTask("interop.add", [n, n])));
        assert.deepEqual(await Promise.all(after.map((r) => r.get({ timeout: 20 }))), [2, 4, 6]);
      } finally {
        await cleanUp();
      }
    },
  });
}
