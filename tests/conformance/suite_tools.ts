/**
 * Small tools the conformance suites share: reading deliveries with a
 * time limit, building test messages, polling until a condition holds.
 *
 * @module
 */

import type {
  Broker,
  Delivery,
  PublishTarget,
  QueueSpec,
  WireMessage,
} from "../../src/broker/types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Reads deliveries from a consume stream with a time limit per read. A read
 * that times out stays pending and is picked up by the next call, so no
 * delivery is lost between calls.
 */
export class DeliveryReader {
  #reader: ReadableStreamDefaultReader<Delivery>;
  #pending?: Promise<ReadableStreamReadResult<Delivery>>;

  /** Locks `stream` for reading. */
  constructor(stream: ReadableStream<Delivery>) {
    this.#reader = stream.getReader();
  }

  /** The next delivery, or undefined when none arrives within `timeoutMs`. Throws when the stream ended. */
  async next(timeoutMs: number): Promise<Delivery | undefined> {
    this.#pending ??= this.#reader.read();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const result = await Promise.race([this.#pending, timeout]);
      if (result === "timeout") return undefined;
      this.#pending = undefined;
      if (result.done) throw new Error("The consume stream ended while a delivery was expected.");
      return result.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Like `next`, but a missing delivery is an error naming `what`. */
  async expect(timeoutMs: number, what: string): Promise<Delivery> {
    const delivery = await this.next(timeoutMs);
    if (!delivery) throw new Error(`No delivery within ${timeoutMs} ms: expected ${what}.`);
    return delivery;
  }

  /** Reads `count` deliveries, failing when they do not arrive within `timeoutMs` in total. */
  async take(count: number, timeoutMs: number): Promise<Delivery[]> {
    const deadline = Date.now() + timeoutMs;
    const out: Delivery[] = [];
    while (out.length < count) {
      const left = deadline - Date.now();
      const delivery = await this.next(Math.max(left, 1));
      if (!delivery) {
        throw new Error(
          `Only ${out.length} of ${count} deliveries arrived within ${timeoutMs} ms.`,
        );
      }
      out.push(delivery);
    }
    return out;
  }

  /** Cancels the stream (stops consuming); a pending read resolves as done. */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
    await this.#pending?.catch(() => {});
    this.#pending = undefined;
  }
}

/** A JSON task-like message whose body is `text`, with a few Celery headers. */
export function textMessage(text: string, extra: Partial<WireMessage> = {}): WireMessage {
  return {
    headers: { lang: "py", task: "conformance.echo", id: crypto.randomUUID() },
    properties: { deliveryMode: 2 },
    contentType: "application/json",
    contentEncoding: "utf-8",
    body: encoder.encode(JSON.stringify(text)),
    ...extra,
  };
}

/** The text `textMessage` put in a delivery's body. */
export function bodyText(delivery: Delivery): string {
  return JSON.parse(decoder.decode(delivery.message.body)) as string;
}

/** Celery's usual queue: a direct exchange of the same name, routing key = name. */
export function directQueue(name: string, args: Record<string, unknown> = {}): QueueSpec {
  return {
    name,
    exchange: name,
    exchangeType: "direct",
    routingKey: name,
    durable: true,
    autoDelete: false,
    arguments: args,
  };
}

/** Polls `check` until it returns true, failing after `timeoutMs` with `what`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting: ${what}`);
    await sleep(20);
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Where `publish` sends a message for `queue` (its exchange and routing key, declaring it). */
export function targetOf(queue: QueueSpec, extra: Partial<PublishTarget> = {}): PublishTarget {
  return { exchange: queue.exchange, routingKey: queue.routingKey, queue, ...extra };
}

/** Publishes `texts` in order, each awaited. */
export async function publishTexts(
  broker: Broker,
  queue: QueueSpec,
  texts: string[],
): Promise<void> {
  for (const text of texts) await broker.publish(textMessage(text), targetOf(queue));
}
