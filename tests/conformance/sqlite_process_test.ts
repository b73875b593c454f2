/**
 * The embedded SQLite adapters across processes: a client in one process and
 * a worker in another share queues and results, a SIGKILLed consumer's
 * messages come back after their lease, and draining 10,000 messages is fast.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DEFAULT_SETTINGS } from "../../src/app/settings.ts";
import { createResultBackend } from "../../src/transports/sqlite/backend.ts";
import { createBroker } from "../../src/transports/sqlite/broker.ts";
import { uniqueName } from "../services.ts";
import { bodyText, DeliveryReader, directQueue, publishTexts, textMessage } from "./suite_tools.ts";

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const PEER = new URL("./sqlite_peer.ts", import.meta.url).pathname;

/** A running `sqlite_peer.ts` and the lines it printed so far. */
class Peer {
  readonly lines: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #reading: Promise<void>;

  constructor(args: string[]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", CONFIG, PEER, ...args],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#child = child;
    this.#reading = (async () => {
      let rest = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        this.lines.push(...parts);
      }
    })();
  }

  /** Waits until a line starting with `prefix` was printed. */
  async waitForLine(prefix: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.some((line) => line.startsWith(prefix))) {
      if (Date.now() > deadline) throw new Error(`The peer never printed ${prefix}: ${this.lines}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Waits for the peer to exit; returns its exit code. */
  async exit(): Promise<number> {
    const status = await this.#child.status;
    await this.#reading;
    return status.code;
  }

  /** Kills the peer with SIGKILL and waits for it. */
  async kill(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.exit();
  }
}

async function withTempFile(body: (url: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-sqlite-" });
  try {
    await body(`sqlite://${dir}/embedded.sqlite3`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sqlite: messages published by another process reach a waiting consumer", async () => {
  await withTempFile(async (url) => {
    await using broker = await createBroker(url, DEFAULT_SETTINGS);
    const queue = directQueue(uniqueName("xproc"));
    const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: 10 }));
    const peer = new Peer(["publish", url, queue.name, "300"]);
    const got: string[] = [];
    while (got.length < 300) {
      const delivery = await reader.expect(20_000, `message ${got.length}`);
      got.push(bodyText(delivery));
      await delivery.ack();
    }
    assert.equal(await peer.exit(), 0);
    assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => `p${i}`));
    assert.equal(await reader.next(200), undefined);
    await reader.cancel();
  });
});

Deno.test("sqlite: another process consumes what this one published; results flow back", async () => {
  await withTempFile(async (url) => {
    await using broker = await createBroker(url, DEFAULT_SETTINGS);
    await using backend = await createResultBackend(url, DEFAULT_SETTINGS);
    const queue = directQueue(uniqueName("xproc"));
    await publishTexts(broker, queue, ["a", "b", "c"]);
    const consumer = new Peer(["consume", url, queue.name, "3"]);
    assert.equal(await consumer.exit(), 0);
    assert.deepEqual(consumer.lines, ["GOT a false", "GOT b false", "GOT c false", "DONE"]);
    assert.equal(await broker.messageCount(queue.name), 0);
    const taskId = crypto.randomUUID();
    const waiting = backend.waitFor(taskId, { intervalMs: 100, timeoutMs: 20_000 });
    const storer = new Peer(["result", url, taskId]);
    const meta = await waiting;
    assert.equal(meta.status, "SUCCESS");
    assert.equal(await storer.exit(), 0);
  });
});

Deno.test("sqlite: a SIGKILLed consumer's messages come back after the lease", async () => {
  await withTempFile(async (url) => {
    const config = { ...DEFAULT_SETTINGS, broker_transport_options: { visibility_timeout: 1.5 } };
    await using broker = await createBroker(url, config);
    const queue = directQueue(uniqueName("sigkill"));
    await publishTexts(broker, queue, ["k0", "k1", "k2", "k3"]);
    const holder = new Peer(["hold", url, queue.name, "4", "1.5"]);
    await holder.waitForLine("HOLDING 4");
    const reader = new DeliveryReader(broker.consume({ queues: [queue], prefetch: 10 }));
    // The holder renews its 1.5 s lease, so nothing comes back while it lives.
    assert.equal(await reader.next(2500), undefined, "a held message was delivered twice");
    const killedAt = Date.now();
    await holder.kill();
    const back = await reader.take(4, 10_000);
    const tookMs = Date.now() - killedAt;
    assert.deepEqual(back.map((d) => bodyText(d)), ["k0", "k1", "k2", "k3"]);
    assert.ok(back.every((d) => d.redelivered), "messages of a dead consumer are redelivered");
    assert.ok(tookMs < 5000, `came back after ${tookMs} ms with a 1.5 s lease`);
    for (const delivery of back) await delivery.ack();
    await reader.cancel();
  });
});

Deno.test("sqlite: messages survive closing and reopening the file", async () => {
  await withTempFile(async (url) => {
    const queue = directQueue(uniqueName("restart"));
    const first = await createBroker(url, DEFAULT_SETTINGS);
    await publishTexts(first, queue, ["kept"]);
    await first.close();
    await using second = await createBroker(url, DEFAULT_SETTINGS);
    assert.equal(await second.messageCount(queue.name), 1);
  });
});

Deno.test("sqlite: drains 10,000 messages (publish all, then consume + ack) quickly", async () => {
  await withTempFile(async (url) => {
    await using broker = await createBroker(url, DEFAULT_SETTINGS);
    const queue = directQueue(uniqueName("drain"));
    const count = 10_000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        broker.publish(textMessage(`d${i}`), {
          exchange: queue.exchange,
          routingKey: queue.routingKey,
          queue,
        })),
    );
    const published = performance.now();
    const reader = broker.consume({ queues: [queue], prefetch: 16 }).getReader();
    for (let i = 0; i < count; i++) {
      const { value: delivery } = await reader.read();
      assert.equal(delivery && bodyText(delivery), `d${i}`);
      await delivery!.ack();
    }
    const drained = performance.now();
    await reader.cancel();
    console.log(
      `sqlite drain of ${count}: publish ${(published - started).toFixed(0)} ms, ` +
        `consume+ack ${(drained - published).toFixed(0)} ms (prefetch 16)`,
    );
    assert.ok(drained - started < 10_000, `took ${(drained - started).toFixed(0)} ms`);
  });
});
