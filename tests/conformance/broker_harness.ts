/**
 * Per-test bookkeeping for the broker conformance suite: every broker,
 * consumer and queue a test opens is closed, cancelled and emptied afterwards,
 * even when the test fails.
 *
 * @module
 */

import type { Broker, QueueSpec } from "../../src/broker/types.ts";
import { uniqueName } from "../services.ts";
import { DeliveryReader, directQueue } from "./suite_tools.ts";

/** Options of `brokerConformance`. */
export interface BrokerConformanceOptions {
  /** Skip every test (for example when the service does not answer). */
  ignore?: boolean;
  /** Longest wait for a message left unacked at close to come back (default 10,000 ms). */
  redeliveryTimeoutMs?: number;
  /** Messages in the bulk test (default 2,000). */
  manyMessages?: number;
  /** Priorities used by the priority test, from least to most urgent for "higher-first" (default 0, 3, 6, 9). */
  priorityLevels?: number[];
  /** Declaration arguments of the priority test's queue (default `{"x-max-priority": 9}`). */
  priorityQueueArguments?: Record<string, unknown>;
  /** Called after each test with the queue names it used, to delete them from the server. */
  deleteQueues?: (queues: string[]) => Promise<void>;
  /** Deno's resource sanitizer (default true). */
  sanitizeResources?: boolean;
  /** Deno's async-op sanitizer (default true). */
  sanitizeOps?: boolean;
}

/** What one test opened; `cleanup()` undoes all of it. */
export class BrokerHarness {
  readonly #open: () => Promise<Broker>;
  readonly #options: BrokerConformanceOptions;
  readonly #brokers: Broker[] = [];
  readonly #readers: DeliveryReader[] = [];
  readonly #queues: string[] = [];

  /** Starts bookkeeping for one test. */
  constructor(open: () => Promise<Broker>, options: BrokerConformanceOptions) {
    this.#open = open;
    this.#options = options;
  }

  /** Opens a broker that is closed after the test. */
  async open(): Promise<Broker> {
    const broker = await this.#open();
    this.#brokers.push(broker);
    return broker;
  }

  /** A fresh queue spec (direct exchange of the same name) emptied after the test. */
  queue(prefix: string, args: Record<string, unknown> = {}): QueueSpec {
    const name = uniqueName(`conformance-${prefix}`);
    this.#queues.push(name);
    return directQueue(name, args);
  }

  /** Starts consuming; the stream is cancelled after the test. */
  consume(broker: Broker, queues: QueueSpec[], prefetch: number): DeliveryReader {
    const reader = new DeliveryReader(broker.consume({ queues, prefetch }));
    this.#readers.push(reader);
    return reader;
  }

  /** Cancels consumers, closes brokers, purges and deletes the queues. */
  async cleanup(): Promise<void> {
    for (const reader of this.#readers) await reader.cancel();
    for (const broker of this.#brokers) await broker.close().catch(() => {});
    if (this.#queues.length === 0) return;
    const sweeper = await this.#open();
    try {
      for (const queue of this.#queues) await sweeper.purge(queue).catch(() => {});
    } finally {
      await sweeper.close();
    }
    await this.#options.deleteQueues?.(this.#queues);
  }
}
