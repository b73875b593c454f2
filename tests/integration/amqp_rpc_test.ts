/**
 * The rpc:// backend beyond the conformance suite: the reply queue is
 * declared as Python's, replies carry Python's properties, replies for other
 * tasks are buffered, forget() is Celery's NotImplementedError, and the
 * legacy `amqp://` result backend maps to rpc.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createResultBackend as resolveBackend } from "../../src/backend/resolve.ts";
import { createResultBackend, RpcBackend } from "../../src/transports/amqp/backend.ts";
import { createBroker } from "../../src/transports/amqp/broker.ts";
import { BrokerConnectionError, ConfigurationError } from "../../src/errors.ts";
import { resultDoc } from "../conformance/backend_suite.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import { AMQP_URL, amqpConfig, deleteAmqpEntities, queueRow } from "./amqp_helpers.ts";
import { ConnectionShare } from "../../src/broker/connection_share.ts";
import {
  bodyText,
  DeliveryReader,
  directQueue,
  eventually,
  targetOf,
  textMessage,
} from "../conformance/suite_tools.ts";

const available = await serviceAvailable("rabbitmq");
const decoder = new TextDecoder();

Deno.test({
  name: "rpc: the reply queue is declared as Python's (not durable, auto-delete, x-expires)",
  ignore: !available,
  fn: async () => {
    const backend = await createResultBackend("rpc://", amqpConfig({ result_expires: 3600 }));
    try {
      const replyTo = await backend.prepare(crypto.randomUUID());
      assert.equal(replyTo, backend.replyQueue);
      assert.equal(await queueRow(replyTo), `${replyTo}\tfalse\ttrue\t[{"x-expires",3600000}]`);
      assert.equal(await backend.prepare(crypto.randomUUID()), replyTo, "one queue per client");
    } finally {
      await backend.close();
    }
  },
});

Deno.test({
  name: "rpc: store() publishes Python's reply (default exchange, correlation id, delivery mode)",
  ignore: !available,
  fn: async () => {
    const replyQueue = uniqueName("rpc-replies");
    const broker = await createBroker(AMQP_URL, amqpConfig());
    const queue = {
      name: replyQueue,
      exchange: "",
      exchangeType: "direct" as const,
      routingKey: replyQueue,
      durable: false,
      autoDelete: false,
      arguments: {},
    };
    await broker.declareQueue(queue);
    const transient = await createResultBackend("rpc://", amqpConfig());
    const persistent = await createResultBackend("rpc://", amqpConfig({ result_persistent: true }));
    const reader = broker.consume({ queues: [queue], prefetch: 10 }).getReader();
    try {
      const meta = resultDoc(crypto.randomUUID(), "SUCCESS", 5);
      await transient.store(meta, { replyTo: replyQueue });
      await persistent.store(meta, { replyTo: replyQueue, correlationId: "custom-correlation" });
      await transient.store(meta, { replyTo: "" }); // no reply_to: nothing is sent
      const first = (await reader.read()).value!;
      assert.equal(first.exchange, "");
      assert.equal(first.routingKey, replyQueue);
      assert.deepEqual(first.message.properties, {
        correlationId: meta.task_id,
        deliveryMode: 1,
        priority: 0,
      });
      assert.equal(first.message.contentType, "application/json");
      assert.equal(first.message.contentEncoding, "utf-8");
      assert.deepEqual(first.message.headers, {});
      const body = JSON.parse(decoder.decode(first.message.body));
      assert.deepEqual(Object.keys(body).slice(0, 5), [
        "task_id",
        "status",
        "result",
        "traceback",
        "children",
      ]);
      assert.deepEqual(body, { ...meta });
      const second = (await reader.read()).value!;
      assert.equal(second.message.properties.correlationId, "custom-correlation");
      assert.equal(second.message.properties.deliveryMode, 2);
      await first.ack();
      await second.ack();
      assert.equal(await broker.messageCount(replyQueue), 0);
    } finally {
      await reader.cancel();
      await transient.close();
      await persistent.close();
      await broker.close();
      await deleteAmqpEntities([replyQueue]);
    }
  },
});

Deno.test({
  name: "rpc: replies for other tasks are buffered; a reply without date_done (Python) is read",
  ignore: !available,
  fn: async () => {
    const client = await createResultBackend("rpc://", amqpConfig());
    const worker = await createResultBackend("rpc://", amqpConfig());
    try {
      const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
      const replyTo = await client.prepare(a);
      await worker.store(resultDoc(b, "SUCCESS", "b"), { replyTo, correlationId: b });
      await worker.store(resultDoc(a, "SUCCESS", "a"), { replyTo, correlationId: a });
      const wait = { intervalMs: 50, timeoutMs: 5000 };
      assert.equal((await client.waitFor(a, wait)).result, "a");
      assert.equal((await client.waitFor(b, wait)).result, "b");
      // As Python's worker sends it: no date_done.
      const c = crypto.randomUUID();
      const { date_done: _, ...pythonReply } = resultDoc(c, "FAILURE", {
        exc_type: "ValueError",
        exc_message: ["x"],
        exc_module: "builtins",
      });
      await worker.store(pythonReply as ReturnType<typeof resultDoc>, { replyTo });
      const failure = await client.waitFor(c, wait);
      assert.equal(failure.status, "FAILURE");
      assert.equal(failure.date_done, null);
    } finally {
      await client.close();
      await worker.close();
    }
  },
});

Deno.test({
  name: "rpc: forget() is Celery's NotImplementedError; capabilities say so",
  ignore: !available,
  fn: async () => {
    const backend = await createResultBackend("rpc://", amqpConfig());
    try {
      assert.equal(backend.capabilities.forget, false);
      await assert.rejects(backend.forget(crypto.randomUUID()), (error: Error) => {
        assert.equal(error.name, "NotImplementedError");
        assert.equal(error.message, "backend does not implement forget.");
        return true;
      });
    } finally {
      await backend.close();
    }
  },
});

Deno.test({
  name: "rpc: amqp:// as result backend maps to rpc; rpc needs an AMQP broker",
  ignore: !available,
  fn: async () => {
    for (const url of ["amqp://", AMQP_URL]) {
      const backend = await resolveBackend(url, amqpConfig());
      try {
        assert.ok(backend instanceof RpcBackend);
        const replyTo = await backend.prepare("t");
        assert.ok(replyTo);
      } finally {
        await backend.close();
      }
    }
    await assert.rejects(
      resolveBackend("rpc://", amqpConfig({ broker_url: "redis://:secret@localhost:6379/0" })),
      (error: Error) => error instanceof ConfigurationError && !error.message.includes("secret"),
    );
  },
});

Deno.test({
  name:
    "rpc: an app's broker and rpc backend share one connection; closing the backend ends only " +
    "its reply queue",
  ignore: !available,
  fn: async () => {
    const share = new ConnectionShare();
    const broker = await createBroker(AMQP_URL, amqpConfig(), { share });
    const backend = await createResultBackend("rpc://", amqpConfig(), { share });
    const name = uniqueName("rpc-shared");
    try {
      const replyTo = await backend.prepare(crypto.randomUUID());
      assert.equal(share.size, 1, "one connection for both");
      assert.ok(await queueRow(replyTo), "the reply queue is consumed");
      await backend.close();
      await backend.close(); // a second close is not another user's
      assert.equal(share.size, 1, "the broker still holds the connection");
      await eventually(
        "the reply queue is gone",
        async () => await queueRow(replyTo) === undefined,
      );
      // The broker goes on over the connection it shared.
      const queue = { ...directQueue(name), durable: false, autoDelete: false };
      await broker.declareQueue(queue);
      await broker.publish(textMessage("still here"), targetOf(queue));
      const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: 1 }));
      const delivery = await reader.expect(5000, "a message after the backend closed");
      assert.equal(bodyText(delivery), "still here");
      await delivery.ack();
      await reader.cancel();
      await broker.close();
      assert.equal(share.size, 0, "closed with its last user");
      await assert.rejects(
        broker.publish(textMessage("too late"), targetOf(queue)),
        BrokerConnectionError,
      );
    } finally {
      await backend.close();
      await broker.close();
      await deleteAmqpEntities([name]);
    }
  },
});
