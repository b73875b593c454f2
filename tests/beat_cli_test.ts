/**
 * Beat end to end as users run it: `celeriac beat` and `celeriac worker -B`
 * processes (tests/beat/cli_app.ts: one entry every 0.5 s, a 3 s lease) on
 * the embedded default, Redis and RabbitMQ. Two replicas run at once: only
 * the lease holder sends; SIGKILL of the holder hands over within the
 * documented bound (ttl × 4/3); across both, no run is sent twice and every
 * sent task is executed. Also `deno task beat` (examples/periodic/app.ts)
 * starts on the embedded default and stops cleanly on SIGTERM.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { connect } from "../src/transports/amqp/amqplib.ts";
import { leaseKeys } from "../src/transports/redis/lease.ts";
import type { StoredSchedule } from "../src/beat/store.ts";
import { CeleriacProcess, doubleSends } from "./beat/celeriac_process.ts";
import { EVERY, LEASE_TTL } from "./beat/cli_app.ts";
import { serviceAvailable, SERVICES, uniqueName } from "./services.ts";

const APP = "./tests/beat/cli_app.ts";
const BOUND = LEASE_TTL * 4 / 3;
/** Room for process scheduling on a loaded machine, on top of the documented bound. */
const SLACK = 1;

type Role = "beat" | "worker -B";

interface Scenario {
  /** Broker environment (none: the embedded default in the test's CELERIAC_HOME). */
  env: Record<string, string>;
  /** The first replica (it takes the lease) and the second. */
  replicas: [Role, Role];
  /** A plain worker too, when neither replica executes tasks. */
  worker: boolean;
}

function start(role: Role | "worker", label: string, dir: string, env: Record<string, string>) {
  const args = role === "beat"
    ? ["beat", "-A", APP, "-s", `${dir}/${label}.json`, "-l", "DEBUG"]
    : ["worker", "-A", APP, "-P", "solo", "-l", "DEBUG", "-n", `${label}@%h`];
  if (role === "worker -B") args.push("-B", "-s", `${dir}/${label}.json`);
  return CeleriacProcess.cli(label, args, env);
}

async function executed(dir: string): Promise<string[]> {
  try {
    const text = await Deno.readTextFile(`${dir}/executed.txt`);
    return text.split("\n").filter(Boolean).map((line) => line.split(" ")[0]);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

async function untilExecuted(dir: string, ids: string[], by: CeleriacProcess) {
  let done: string[] = [];
  const check = async () => {
    done = await executed(dir);
    return ids.every((id) => done.includes(id));
  };
  const deadline = Date.now() + 20_000;
  while (!await check()) {
    if (Date.now() > deadline) {
      const missing = ids.filter((id) => !done.includes(id));
      throw new Error(`not executed: ${missing.join(", ")}\n${by.lines.slice(-30).join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs a scenario; returns the measured take-over time in seconds. */
async function twoReplicas(name: string, scenario: Scenario): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-beat-cli-" });
  const env = { BEAT_TEST_APP: name, BEAT_TEST_DIR: dir, CELERIAC_HOME: dir, ...scenario.env };
  const [leaderRole, followerRole] = scenario.replicas;
  const running: CeleriacProcess[] = [];
  try {
    const worker = scenario.worker ? start("worker", "worker", dir, env) : undefined;
    if (worker) running.push(worker);
    await worker?.untilPrinted(/ ready\.$/);
    const leader = start(leaderRole, "replica-1", dir, env);
    running.push(leader);
    await leader.untilPrinted(/beat: Acquired the \w+ leader lease/);
    const follower = start(followerRole, "replica-2", dir, env);
    running.push(follower);
    await follower.untilPrinted(/beat: Another beat holds the \w+ leader lease; standing by\./);
    const sentBefore = leader.sends.length;
    await leader.until(() => leader.sends.length >= sentBefore + 2, "two sends with both running");
    assert.equal(follower.sends.length, 0, "only the lease holder sends");

    const killedAt = Date.now();
    await leader.stop("SIGKILL");
    await follower.until(() => follower.sends.length > 0, "the take-over");
    const takeover = (follower.sends[0].at - killedAt) / 1000;
    assert.ok(takeover <= BOUND + SLACK, `take-over took ${takeover} s (bound ${BOUND} s)`);
    await follower.until(() => follower.sends.filter((s) => s.id).length >= 3, "three sends");

    // Every task beat published (its id was logged) is executed.
    const published = () => [...leader.sends, ...follower.sends].filter((s) => s.id);
    const expected = published().map((s) => s.id);
    await untilExecuted(dir, expected, worker ?? follower);
    assert.equal((await follower.stop("SIGTERM")).code, 0, "follower exit code");
    if (worker) assert.equal((await worker.stop("SIGTERM")).code, 0, "worker exit code");

    const logged = [...leader.sends, ...follower.sends];
    assert.equal(doubleSends(logged, EVERY), undefined);
    assert.ok(logged.every((s) => s.entry === "tick" && s.task === `${name}.record`));
    const ran = await executed(dir);
    const sentIds = new Set(published().map((s) => s.id));
    // The leader may be killed after publishing a task and before logging its id.
    const unlogged = leader.sends.filter((s) => !s.id).length;
    const unknown = ran.filter((id) => !sentIds.has(id));
    assert.ok(unknown.length <= unlogged, `tasks nobody sent ran: ${unknown}`);
    // A killed `worker -B` may have held messages RabbitMQ then redelivers (at least once).
    const once = leaderRole === "worker -B" ? follower.sends.map((s) => s.id) : expected;
    for (const id of once) {
      assert.equal(ran.filter((ranId) => ranId === id).length, 1, `${id} ran once`);
    }
    return takeover;
  } finally {
    for (const process of running) await process.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("embedded default: `beat` and `worker -B` share the lease; each run sent and run once", async () => {
  const takeover = await twoReplicas(uniqueName("beatcli"), {
    env: {},
    replicas: ["beat", "worker -B"],
    worker: false,
  });
  console.log(`sqlite take-over: ${takeover.toFixed(2)} s (bound ${BOUND.toFixed(2)} s)`);
});

Deno.test("redis: two `beat` processes and a worker; each run sent and run once", async () => {
  if (!await serviceAvailable("redis")) return;
  const name = uniqueName("beatcli");
  try {
    const takeover = await twoReplicas(name, {
      env: { CELERY_BROKER_URL: SERVICES.redis },
      replicas: ["beat", "beat"],
      worker: true,
    });
    console.log(`redis take-over: ${takeover.toFixed(2)} s (bound ${BOUND.toFixed(2)} s)`);
  } finally {
    const client = new Redis(SERVICES.redis);
    const keys = leaseKeys(name);
    await client.del(keys.leader, keys.state, name, `_kombu.binding.${name}`);
    await client.quit();
  }
});

Deno.test("amqp: two `worker -B` processes; each run sent once", async () => {
  if (!await serviceAvailable("rabbitmq")) return;
  const name = uniqueName("beatcli");
  try {
    const takeover = await twoReplicas(name, {
      env: { CELERY_BROKER_URL: SERVICES.rabbitmq },
      replicas: ["worker -B", "worker -B"],
      worker: false,
    });
    console.log(`amqp take-over: ${takeover.toFixed(2)} s (bound ${BOUND.toFixed(2)} s)`);
  } finally {
    const connection = await connect(SERVICES.rabbitmq.replace(/\/\/$/, "/%2F"));
    const channel = await connection.createChannel();
    await channel.deleteQueue(name);
    await channel.deleteQueue(`celeriac.beat.${name}.state`);
    await channel.deleteExchange(name);
    await connection.close();
  }
});

Deno.test("deno task beat: examples/periodic/app.ts starts on the embedded default, stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-beat-task-" });
  const beat = new CeleriacProcess("deno task beat", ["task", "beat", "-s", `${dir}/s.json`], {
    CELERIAC_HOME: dir,
  });
  try {
    await beat.untilPrinted(/beat: Acquired the sqlite leader lease; sending due tasks\./);
    assert.ok(
      beat.printed(/\. scheduler -> celeriac PersistentScheduler \(leader lease: sqlite\)/),
    );
    assert.equal((await beat.stop("SIGTERM")).code, 0);
    const stored: StoredSchedule = JSON.parse(await Deno.readTextFile(`${dir}/s.json`));
    assert.equal(stored.entries["heartbeat-every-30-seconds"].schedule, "<freq: 30.00 seconds>");
    assert.equal(stored.entries["monthly-report"].schedule, "<crontab: 0 8 * 1 * (m/h/d/dM/MY)>");
  } finally {
    await beat.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});
