/**
 * Write coalescing (`src/transports/write_coalescing.ts`) patches a private
 * field of amqplib and of ioredis. These tests pin what it relies on: the
 * field is a corkable socket on a real connection of the pinned versions, the
 * patch applies, writes of one turn go out in one cork/uncork, and a missing
 * field is reported instead of ignored.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { connect } from "../../src/transports/amqp/amqplib.ts";
import {
  coalesceWrites,
  type CorkableStream,
  isCoalesced,
} from "../../src/transports/write_coalescing.ts";
import { serviceAvailable } from "../services.ts";
import { AMQP_URL } from "./amqp_helpers.ts";
import { REDIS_URL } from "./redis_test_tools.ts";

Deno.test("writes made in one turn go out between one cork and one uncork", async () => {
  const calls: string[] = [];
  const stream: CorkableStream = {
    write: (chunk: unknown) => (calls.push(`write ${chunk}`), true),
    cork: () => calls.push("cork"),
    uncork: () => calls.push("uncork"),
  };
  assert.equal(coalesceWrites(stream, "test"), true);
  assert.equal(coalesceWrites(stream, "test"), true, "patching twice is a no-op");
  stream.write("a");
  stream.write("b");
  stream.write("c");
  await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
  stream.write("d");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(calls, [
    "cork",
    "write a",
    "write b",
    "write c",
    "uncork",
    "cork",
    "write d",
    "uncork",
  ]);
});

Deno.test("a missing socket field is reported, not silently skipped", () => {
  assert.equal(coalesceWrites(undefined, "somelib"), false);
  assert.equal(coalesceWrites({ write: () => true } as unknown as CorkableStream, "other"), false);
});

Deno.test({
  name: "ioredis 5.11.1: client.stream is a corkable socket and gets coalesced",
  ignore: !await serviceAvailable("redis"),
  fn: async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true });
    try {
      await client.connect();
      const stream = (client as unknown as { stream?: CorkableStream }).stream;
      assert.equal(typeof stream?.cork, "function", "ioredis's private socket field moved");
      assert.equal(coalesceWrites(stream, "ioredis"), true);
      assert.ok(isCoalesced(stream));
      assert.equal(await client.ping(), "PONG", "commands still work through the patch");
    } finally {
      client.disconnect();
    }
  },
});

Deno.test({
  name: "amqplib 2.3.1: connection.stream is a corkable socket and gets coalesced",
  ignore: !await serviceAvailable("rabbitmq"),
  fn: async () => {
    const model = await connect(AMQP_URL);
    try {
      const stream = (model.connection as unknown as { stream?: CorkableStream }).stream;
      assert.equal(typeof stream?.cork, "function", "amqplib's private socket field moved");
      assert.equal(coalesceWrites(stream, "amqplib"), true);
      assert.ok(isCoalesced(stream));
      const channel = await model.createChannel();
      await channel.checkExchange("amq.direct"); // a round trip through the patched socket
      await channel.close();
    } finally {
      await model.close();
    }
  },
});
