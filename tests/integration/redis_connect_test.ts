/**
 * Connecting as kombu and Celery do, against private redis-servers:
 * `rediss://` (TLS, with `ssl_cert_reqs` and `ssl_ca_certs`), a password,
 * and `sentinel://` with `master_name` in the transport options.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createResultBackend } from "../../src/transports/redis/backend.ts";
import type { ResultBackend } from "../../src/backend/types.ts";
import { createLease, leaseKindFor } from "../../src/beat/leader_lease.ts";
import { leaseKeys } from "../../src/transports/redis/lease.ts";
import { createBroker } from "../../src/transports/redis/broker.ts";
import type { Broker } from "../../src/broker/types.ts";
import { BrokerConnectionError } from "../../src/errors.ts";
import { buildResultMeta } from "../../src/protocol/result_meta.ts";
import { bodyText, DeliveryReader, directQueue, publishTexts } from "../conformance/suite_tools.ts";
import { freePort, haveRedisServer, PrivateRedis } from "./redis_server.ts";
import { redisTestConfig } from "./redis_test_tools.ts";

const canRun = await haveRedisServer();

/** Publishes, consumes, stores and reads one result through `broker` and `backend`. */
async function roundTrip(broker: Broker, backend: ResultBackend): Promise<void> {
  const queue = directQueue("connect");
  await publishTexts(broker, queue, ["hello"]);
  const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: 1 }));
  const delivery = await reader.expect(5000, "the message");
  assert.equal(bodyText(delivery), "hello");
  await delivery.ack();
  await reader.cancel();
  const id = crypto.randomUUID();
  await backend.prepare(id);
  await backend.store(buildResultMeta({ taskId: id }, "SUCCESS", 42), {});
  assert.equal((await backend.waitFor(id, { intervalMs: 50, timeoutMs: 5000 })).result, 42);
}

async function certificates(dir: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args: [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`, "-days", "1"],
      ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
}

Deno.test({
  name: "rediss:// with a password: TLS verified against ssl_ca_certs, or CERT_NONE",
  ignore: !canRun,
  fn: async () => {
    const port = freePort();
    const dir = await Deno.makeTempDir({ prefix: "celeriac-tls-" });
    await certificates(dir);
    const server = await PrivateRedis.start([
      ...["--port", "0", "--tls-port", String(port), "--requirepass", "s3cret"],
      ...["--tls-cert-file", `${dir}/cert.pem`, "--tls-key-file", `${dir}/key.pem`],
      ...["--tls-ca-cert-file", `${dir}/cert.pem`, "--tls-auth-clients", "no"],
    ], port);
    try {
      const base = `rediss://:s3cret@127.0.0.1:${port}/0`;
      const config = redisTestConfig("", { broker_use_ssl: { ssl_ca_certs: `${dir}/cert.pem` } });
      const verified = await createBroker(base, config);
      const noVerify = `${base}?ssl_cert_reqs=CERT_NONE`;
      const backend = await createResultBackend(noVerify, config);
      try {
        await roundTrip(verified, backend);
      } finally {
        await verified.close();
        await backend.close();
      }
      await assert.rejects(
        () => createBroker(base, redisTestConfig("", { broker_connection_timeout: 3 })),
        (error: Error) =>
          error instanceof BrokerConnectionError && error.message.includes(":**@") &&
          !error.message.includes("s3cret"),
      );
      await assert.rejects(
        () => createBroker(`rediss://:wrong@127.0.0.1:${port}/0`, config),
        (error: Error) =>
          error instanceof BrokerConnectionError && /WRONGPASS|invalid/i.test(error.message),
      );
    } finally {
      await server.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "sentinel:// finds the master named by the master_name transport option",
  ignore: !canRun,
  fn: async () => {
    const master = await PrivateRedis.start();
    const sentinelPort = freePort();
    const conf = `${master.dir}/sentinel.conf`;
    await Deno.writeTextFile(
      conf,
      `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${master.port} 1\n`,
    );
    const sentinel = new Deno.Command("redis-server", {
      args: [conf, "--sentinel"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const url = `sentinel://127.0.0.1:${freePort()};sentinel://127.0.0.1:${sentinelPort}`;
      const options = { master_name: "mymaster" };
      const config = redisTestConfig("", {
        broker_transport_options: options,
        result_backend_transport_options: options,
      });
      const deadline = Date.now() + 10_000;
      let broker: Broker | undefined;
      while (!broker) {
        broker = await createBroker(url, config).catch((error) => {
          if (Date.now() > deadline) throw error;
          return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100));
        });
      }
      const backend = await createResultBackend(url, config);
      try {
        await roundTrip(broker, backend);
      } finally {
        await broker.close();
        await backend.close();
      }
      await assert.rejects(
        () => createBroker(url, redisTestConfig("")),
        /needs the "master_name" transport option/,
      );

      // Beat's leader lease goes through the same connection code: found through the sentinels.
      assert.equal(leaseKindFor(url), "redis", "the banner names the lease that is used");
      const leaseOptions = { name: "sentinel-beat", ttl: 5, config };
      const first = await createLease(url, { ...leaseOptions, holder: "first" });
      const second = await createLease(url, { ...leaseOptions, holder: "second" });
      try {
        assert.equal(first.kind, "redis");
        assert.equal(await first.acquire(), true, "the first beat leads");
        assert.equal(await second.acquire(), false, "the second stands by");
        const onMaster = await new Deno.Command("redis-cli", {
          args: ["-p", String(master.port), "GET", leaseKeys("sentinel-beat").leader],
        }).output();
        assert.equal(
          new TextDecoder().decode(onMaster.stdout).trim(),
          "first",
          "held on the master",
        );
      } finally {
        await first.close();
        await second.close();
      }
    } finally {
      sentinel.kill("SIGTERM");
      await sentinel.status;
      await master.destroy();
    }
  },
});
