import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DEFAULT_SETTINGS } from "../../app/settings.ts";
import { ConfigurationError } from "../../errors.ts";
import type { QueueSpec } from "../../broker/types.ts";
import { createBroker, SQLITE_BROKER_CAPABILITIES } from "./broker.ts";

const queue: QueueSpec = {
  name: "celery",
  exchange: "celery",
  exchangeType: "direct",
  routingKey: "celery",
  durable: true,
  autoDelete: false,
  arguments: {},
};
const message = {
  headers: { id: "1" },
  properties: {},
  contentType: "application/json",
  contentEncoding: "utf-8",
  body: new TextEncoder().encode("[]"),
};

async function withFile(body: (url: string, path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-sqlite-broker-" });
  try {
    await body(`sqlite://${dir}/a/b/broker.sqlite3`, `${dir}/a/b/broker.sqlite3`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sqlite broker: creates parent directories; reject(false) dead-letters", async () => {
  assert.equal(SQLITE_BROKER_CAPABILITIES.deadLetter, true);
  await withFile(async (url, path) => {
    await using broker = await createBroker(url, DEFAULT_SETTINGS);
    await broker.publish(message, { exchange: "celery", routingKey: "celery", queue });
    const reader = broker.consume({ queues: [queue], prefetch: 1 }).getReader();
    const { value } = await reader.read();
    await value!.reject(false);
    await reader.cancel();
    await broker.close(); // commits the pending reject
    const db = new DatabaseSync(path);
    try {
      const dead = db.prepare("SELECT queue, headers FROM celeriac_dead_letters").all();
      assert.deepEqual(dead.map((row) => [row.queue, row.headers]), [["celery", '{"id":"1"}']]);
      assert.equal(db.prepare("SELECT count(*) AS n FROM celeriac_messages").get()!.n, 0);
    } finally {
      db.close();
    }
  });
});

Deno.test("sqlite broker: a publish to an unbound exchange goes to the queue it names", async () => {
  await withFile(async (url) => {
    await using broker = await createBroker(url, DEFAULT_SETTINGS);
    await broker.publish(message, { exchange: "nobody-declared-this", routingKey: "jobs" });
    assert.equal(await broker.messageCount("jobs"), 1);
    assert.equal(await broker.purge("jobs"), 1);
  });
});

Deno.test("sqlite broker: purge also deletes delayed messages; messageCount counts ready ones", async () => {
  await withFile(async (url) => {
    await using broker = await createBroker(url, DEFAULT_SETTINGS);
    const later = new Date(Date.now() + 60_000);
    await broker.publish(message, { exchange: "", routingKey: "celery", deliverAt: later });
    await broker.publish(message, { exchange: "", routingKey: "celery" });
    assert.equal(await broker.messageCount("celery"), 1);
    assert.equal(await broker.purge("celery"), 2);
  });
});

Deno.test("sqlite broker: transport options are validated, naming the key", async () => {
  await withFile(async (url) => {
    const config = { ...DEFAULT_SETTINGS, broker_transport_options: { visibility_timeout: "x" } };
    await assert.rejects(
      async () => await createBroker(url, config),
      (error) => error instanceof ConfigurationError && /visibility_timeout/.test(error.message),
    );
  });
});
