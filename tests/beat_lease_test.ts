/**
 * One suite for every beat leader lease, against the real services: only one
 * holder at a time, renewals keep it, only the holder shares state, closing
 * releases it, and (for TTL-based leases) a holder that stops renewing loses
 * it after its TTL.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { connect } from "../src/transports/amqp/amqplib.ts";
import { type BeatLease, createLease } from "../src/beat/leader_lease.ts";
import { leaseKeys } from "../src/transports/redis/lease.ts";
import { serviceAvailable, SERVICES, uniqueName } from "./services.ts";

interface Backend {
  kind: string;
  /** Service the backend needs, if any. */
  service?: keyof typeof SERVICES;
  /** A broker URL (and a cleanup) for one test. */
  setup(name: string): Promise<{ url: string; cleanup(): Promise<void> }>;
  /** Whether a holder that stops renewing (without closing) loses the lease after its TTL. */
  expires: boolean;
}

const BACKENDS: Backend[] = [
  {
    kind: "local",
    expires: true,
    setup: () => Promise.resolve({ url: "memory://", cleanup: () => Promise.resolve() }),
  },
  {
    kind: "sqlite",
    expires: true,
    async setup() {
      const dir = await Deno.makeTempDir({ prefix: "celeriac-lease-" });
      return {
        url: `sqlite://${dir}/embedded.sqlite3`,
        cleanup: () => Deno.remove(dir, { recursive: true }),
      };
    },
  },
  {
    kind: "redis",
    service: "redis",
    expires: true,
    setup(name) {
      return Promise.resolve({
        url: SERVICES.redis,
        async cleanup() {
          const client = new Redis(SERVICES.redis);
          const keys = leaseKeys(name);
          await client.del(keys.leader, keys.state);
          await client.quit();
        },
      });
    },
  },
  {
    kind: "amqp",
    service: "rabbitmq",
    expires: false, // the lease ends with the holder's connection (see beat_replicas_test.ts)
    setup(name) {
      return Promise.resolve({
        url: SERVICES.rabbitmq,
        async cleanup() {
          const connection = await connect(SERVICES.rabbitmq.replace(/\/\/$/, "/%2F"));
          const channel = await connection.createChannel();
          await channel.deleteQueue(`celeriac.beat.${name}.state`);
          await connection.close();
        },
      });
    },
  },
];

async function withLeases(
  backend: Backend,
  ttl: number,
  body: (a: BeatLease, b: BeatLease) => Promise<void>,
) {
  const name = uniqueName("lease");
  const { url, cleanup } = await backend.setup(name);
  const a = await createLease(url, { name, ttl, holder: "beat-a" });
  const b = await createLease(url, { name, ttl, holder: "beat-b" });
  try {
    assert.equal(a.kind, backend.kind);
    await body(a, b);
  } finally {
    await a.close();
    await b.close();
    await cleanup();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of BACKENDS) {
  Deno.test(`${backend.kind} lease: one holder, renewals, fenced state, release`, async () => {
    if (backend.service && !await serviceAvailable(backend.service)) return;
    await withLeases(backend, 30, async (a, b) => {
      assert.equal(await a.acquire(), true);
      assert.equal(await b.acquire(), false);
      assert.equal(await a.acquire(), true, "the holder renews");
      assert.equal(await b.acquire(), false);
      assert.equal(await b.saveState('{"from":"b"}'), false, "only the holder shares state");
      assert.equal(await a.saveState('{"from":"a"}'), true);
      assert.equal(await b.loadState(), '{"from":"a"}');
      await a.close();
      assert.equal(await b.acquire(), true, "a released lease is taken at once");
      assert.equal(await b.loadState(), '{"from":"a"}', "state outlives its writer");
      assert.equal(await b.saveState('{"from":"b"}'), true);
    });
  });

  if (backend.expires) {
    Deno.test(`${backend.kind} lease: a holder that stops renewing loses it after its TTL`, async () => {
      if (backend.service && !await serviceAvailable(backend.service)) return;
      await withLeases(backend, 0.4, async (a, b) => {
        assert.equal(await a.acquire(), true);
        await sleep(150);
        assert.equal(await b.acquire(), false, "not before the TTL");
        await sleep(400);
        assert.equal(await b.acquire(), true, "after the TTL");
        assert.equal(await a.saveState("{}"), false, "the old holder can no longer share state");
        assert.equal(await a.acquire(), false);
      });
    });
  }
}

Deno.test("an unknown broker scheme lists the supported ones", async () => {
  await assert.rejects(
    () => createLease("kafka://localhost"),
    /Unsupported beat leader lease URL "kafka:\/\/localhost": unknown scheme "kafka". Supported: amqp:\/\/, pyamqp:\/\/, amqps:\/\/, redis:\/\//,
  );
});

Deno.test("a lease TTL of 0 or less is a ConfigurationError naming beat_lease_ttl", async () => {
  for (const ttl of [0, -1, Number.NaN]) {
    await assert.rejects(
      () => createLease("memory://", { ttl }),
      /Invalid beat leader lease TTL \(setting "beat_lease_ttl"\)/,
    );
  }
});

Deno.test("sqlite:// alone: the lease is in the embedded default file, so two beats share it", async () => {
  const home = await Deno.makeTempDir({ prefix: "celeriac-bare-lease-" });
  try {
    // A child process: CELERIAC_HOME (where the default file lives) is process-wide.
    const leaderLease = new URL("../src/beat/leader_lease.ts", import.meta.url).href;
    const script = `
      import { createLease } from ${JSON.stringify(leaderLease)};
      const a = await createLease("sqlite://", { name: "bare", ttl: 5, holder: "a" });
      const b = await createLease("sqlite://", { name: "bare", ttl: 5, holder: "b" });
      console.log(JSON.stringify([await a.acquire(), await b.acquire()]));
      await a.close();
      await b.close();`;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env: { CELERIAC_HOME: home },
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), [true, false], "one leader");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
