/**
 * TLS as the README documents it, against real TLS listeners the test
 * starts (see `tls_servers.ts`): `rediss://` with `ssl_cert_reqs` /
 * `ssl_ca_certs` in the URL, and `amqps://` with `broker_use_ssl` (kombu's
 * option names; `true` accepted too). A task runs over each; a server whose
 * certificate the given CA did not sign is refused with a clear error.
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import { createLease } from "../../src/beat/leader_lease.ts";
import { ConfigurationError } from "../../src/errors.ts";
import { deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import {
  type Certificates,
  makeCertificates,
  redisHasTls,
  startRedisTls,
  startTlsProxy,
} from "./tls_servers.ts";

async function runOneTask(config: Record<string, unknown>): Promise<unknown> {
  const app = new Celery("tls", { config, setAsCurrent: false });
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  }, { name: "tls.add" });
  try {
    const worker = await app.worker({ pool: "async", concurrency: 1, banner: false });
    try {
      return await (await add.delay(20, 22)).get({ timeout: 15 });
    } finally {
      await worker.stop();
    }
  } finally {
    await app.close();
  }
}

async function connectError(config: Record<string, unknown>): Promise<Error> {
  const app = new Celery("tls", {
    config: { broker_connection_timeout: 5, broker_connection_max_retries: 0, ...config },
    setAsCurrent: false,
  });
  try {
    await app.getBroker().then(async (broker) => {
      // A lazy broker connects on first use.
      await broker.declareQueue({
        name: uniqueName("tls-refused"),
        exchange: "",
        exchangeType: "direct",
        routingKey: "x",
        durable: false,
        autoDelete: true,
        arguments: {},
      });
    });
  } catch (error) {
    return error as Error;
  } finally {
    await app.close().catch(() => {});
  }
  throw new Error("the connection was not refused");
}

Deno.test({
  name:
    "rediss:// with ssl_cert_reqs=CERT_REQUIRED and ssl_ca_certs: a task runs; a wrong CA is refused",
  ignore: !await redisHasTls(),
  async fn() {
    const certs: Certificates = await makeCertificates();
    try {
      await using redis = await startRedisTls(certs);
      const url = (ca: string) =>
        `rediss://localhost:${redis.port}/0?ssl_cert_reqs=CERT_REQUIRED&ssl_ca_certs=${ca}`;
      const dir = certs.dir;
      assert.equal(
        await runOneTask({
          broker_url: url(certs.caFile),
          result_backend: `sqlite://${dir}/results.sqlite3`,
        }),
        42,
      );
      assert.equal(
        await runOneTask({
          broker_url: `rediss://localhost:${redis.port}/1`,
          broker_use_ssl: { ssl_cert_reqs: "CERT_REQUIRED", ssl_ca_certs: certs.caFile },
          result_backend: url(certs.caFile),
        }),
        42,
        "broker_use_ssl with kombu's Redis names; results over TLS too",
      );
      const refused = await connectError({ broker_url: url(certs.wrongCaFile) });
      assert.match(refused.message, /certificate|UnknownIssuer|self.signed|unable to verify/i);
    } finally {
      await Deno.remove(certs.dir, { recursive: true });
    }
  },
});

Deno.test("amqps:// with broker_use_ssl (ca_certs, cert_reqs): a task runs; a wrong CA is refused; true is accepted", async () => {
  if (!await serviceAvailable("rabbitmq")) return;
  const certs = await makeCertificates();
  const queue = uniqueName("tls-amqp");
  try {
    await using proxy = await startTlsProxy(certs, { hostname: "127.0.0.1", port: 5672 });
    const brokerUrl = `amqps://guest:guest@localhost:${proxy.port}//`;
    const settings = {
      broker_url: brokerUrl,
      result_backend: `sqlite://${certs.dir}/results.sqlite3`,
      task_default_queue: queue,
    };
    assert.equal(
      await runOneTask({
        ...settings,
        broker_use_ssl: { ca_certs: certs.caFile, cert_reqs: "CERT_REQUIRED" },
      }),
      42,
    );
    const refused = await connectError({
      broker_url: brokerUrl,
      broker_use_ssl: { ca_certs: certs.wrongCaFile, cert_reqs: "CERT_REQUIRED" },
    });
    assert.match(refused.message, /certificate|UnknownIssuer|self.signed|unable to verify/i);
    // Beat's leader lease connects the same way: with the CA it leads, with the wrong CA it is
    // refused (its own URL parser once ignored broker_use_ssl).
    const leaseName = uniqueName("tls-beat");
    const lease = await createLease(brokerUrl, {
      name: leaseName,
      ttl: 6,
      config: { broker_use_ssl: { ca_certs: certs.caFile, cert_reqs: "CERT_REQUIRED" } },
    });
    try {
      assert.equal(await lease.acquire(), true, "the lease is held over TLS");
    } finally {
      await lease.close();
    }
    await assert.rejects(
      createLease(brokerUrl, {
        name: leaseName,
        ttl: 6,
        config: { broker_use_ssl: { ca_certs: certs.wrongCaFile, cert_reqs: "CERT_REQUIRED" } },
      }),
      /certificate|UnknownIssuer|self.signed|unable to verify/i,
    );
    // `true` (kombu: TLS with the system's CAs) is a valid setting: it connects with TLS and,
    // with no CA given, refuses the test's self-signed server.
    const app = new Celery("tls", { config: { broker_use_ssl: true }, setAsCurrent: false });
    assert.equal(app.conf.resolve().broker_use_ssl, true);
    await app.close();
    const system = await connectError({ broker_url: brokerUrl, broker_use_ssl: true });
    assert.match(system.message, /certificate|UnknownIssuer|self.signed|unable to verify/i);
    assert.throws(
      // @ts-expect-error: the wrong type on purpose (a config read from untyped JSON can hold it)
      () => new Celery("tls", { config: { broker_use_ssl: "yes" }, setAsCurrent: false }),
      (error: unknown) =>
        error instanceof ConfigurationError && /broker_use_ssl/.test(error.message),
    );
  } finally {
    await deleteAmqpEntities([queue]);
    await Deno.remove(certs.dir, { recursive: true });
  }
});
