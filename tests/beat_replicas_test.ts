/**
 * Two beat processes on one broker (tests/beat_replica_child.ts), for each
 * broker kind with a lease: while both run, only the leader sends; after the
 * leader is killed (SIGKILL, no clean-up), the other sends within the
 * documented bound (ttl × 4/3) and continues the leader's cadence from the
 * shared run state instead of re-sending a run the leader already sent.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { connect } from "../src/broker/amqp/amqplib.ts";
import { leaseKeys } from "../src/beat/lease_redis.ts";
import { serviceAvailable, SERVICES, uniqueName } from "./services.ts";

const TTL = 1; // seconds; take-over bound = TTL * 4 / 3
const CHILD = new URL("./beat_replica_child.ts", import.meta.url).pathname;

interface Send {
  entry: string;
  at: number;
}

/** One beat process and the sends it printed. */
class Replica {
  readonly sends: Send[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<void>;
  #started = false;

  constructor(url: string, name: string) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CHILD, url, name, String(TTL)],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#done = this.#read();
  }

  async #read() {
    let buffer = "";
    for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        if (line === "started") this.#started = true;
        const match = /^sent (\S+) (\d+)$/.exec(line);
        if (match) this.sends.push({ entry: match[1], at: Number(match[2]) });
      }
    }
  }

  async until(condition: () => boolean, what: string, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  started() {
    return this.until(() => this.#started, "the replica to start");
  }

  /** Stops the process: SIGKILL (a crash) or SIGTERM (a clean stop). */
  async stop(signal: "SIGKILL" | "SIGTERM") {
    try {
      this.#child.kill(signal);
    } catch { /* already gone */ }
    await this.#child.status;
    await this.#done;
  }
}

async function twoReplicas(url: string, name: string) {
  const leader = new Replica(url, name);
  let follower: Replica | undefined;
  try {
    await leader.started();
    await leader.until(() => leader.sends.length > 0, "the leader's first send");
    follower = new Replica(url, name);
    await follower.started();
    // Both run; the leader sends "slow" (every 3 s) about 3 s after it started.
    await leader.until(() => leader.sends.some((s) => s.entry === "slow"), "the leader's slow run");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(follower.sends.length, 0, "only the leader sends while it lives");
    const killedAt = Date.now();
    await leader.stop("SIGKILL");
    await follower.until(() => follower!.sends.length > 0, "the take-over");
    const takeover = (follower.sends[0].at - killedAt) / 1000;
    assert.ok(takeover <= TTL * 4 / 3 + 0.5, `take-over took ${takeover} s`);
    await follower.until(
      () => follower!.sends.some((s) => s.entry === "slow"),
      "slow on the follower",
    );
    const all = [...leader.sends, ...follower.sends];
    for (const [entry, every] of [["tick", 0.5], ["slow", 3]] as const) {
      const times = all.filter((s) => s.entry === entry).map((s) => s.at).sort((a, b) => a - b);
      for (let i = 1; i < times.length; i++) {
        const gap = (times[i] - times[i - 1]) / 1000;
        assert.ok(gap >= every - 0.05, `${entry} sent twice within ${gap} s (every ${every} s)`);
      }
    }
    return takeover;
  } finally {
    await leader.stop("SIGKILL");
    await follower?.stop("SIGTERM");
  }
}

Deno.test("redis: two beats send each run once; SIGKILL of the leader hands over", async () => {
  if (!await serviceAvailable("redis")) return;
  const name = uniqueName("beat");
  try {
    await twoReplicas(SERVICES.redis, name);
  } finally {
    const client = new Redis(SERVICES.redis);
    const keys = leaseKeys(name);
    await client.del(keys.leader, keys.state);
    await client.quit();
  }
});

Deno.test("amqp: two beats send each run once; SIGKILL of the leader hands over", async () => {
  if (!await serviceAvailable("rabbitmq")) return;
  const name = uniqueName("beat");
  try {
    await twoReplicas(SERVICES.rabbitmq, name);
  } finally {
    const connection = await connect(SERVICES.rabbitmq.replace(/\/\/$/, "/%2F"));
    const channel = await connection.createChannel();
    await channel.deleteQueue(`celeriac.beat.${name}.state`);
    await connection.close();
  }
});

Deno.test("sqlite: two beats send each run once; SIGKILL of the leader hands over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-beat-" });
  try {
    await twoReplicas(`sqlite://${dir}/embedded.sqlite3`, uniqueName("beat"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
