/**
 * The broker / result-backend pairs the benchmark measures, with unique
 * queue names per run and the clean-up that leaves nothing behind.
 *
 * Redis benchmarks use their own database (12, override with
 * `CELERIAC_BENCH_REDIS_URL`) so result keys never mix with tests'.
 *
 * @module
 */

import { connect } from "../src/transports/amqp/amqplib.ts";
import { Redis } from "ioredis";

/** Which broker a setup uses. */
export type BrokerKind = "sqlite" | "amqp" | "redis";

/** A broker and result backend measured together. */
export interface Setup {
  /** Short id (`--only`). */
  id: string;
  /** Row label, e.g. `RabbitMQ (rpc results)`. */
  label: string;
  /** Broker kind. */
  broker: BrokerKind;
  /** Result backend kind. */
  results: "sqlite" | "rpc" | "redis";
}

/** Where RabbitMQ is. */
export const AMQP_URL: string = Deno.env.get("CELERIAC_BENCH_AMQP_URL") ??
  "amqp://guest:guest@127.0.0.1:5672//";
/** Where Redis is (a database of its own). */
export const REDIS_URL: string = Deno.env.get("CELERIAC_BENCH_REDIS_URL") ??
  "redis://127.0.0.1:6379/12";

/** Every setup, in table order. */
export const SETUPS: readonly Setup[] = [
  { id: "embedded", label: "embedded SQLite (default)", broker: "sqlite", results: "sqlite" },
  { id: "rabbitmq", label: "RabbitMQ, rpc results", broker: "amqp", results: "rpc" },
  { id: "redis", label: "Redis, Redis results", broker: "redis", results: "redis" },
  { id: "rabbitmq-redis", label: "RabbitMQ, Redis results", broker: "amqp", results: "redis" },
];

/** The URLs and queue of one run of a setup. */
export interface RunPlace {
  /** Setup. */
  setup: Setup;
  /** Queue name, unique to the run. */
  queue: string;
  /** Broker URL. */
  brokerUrl: string;
  /** Result backend URL. */
  backendUrl: string;
  /** For the embedded broker: the directory used as `CELERIAC_HOME`. */
  home?: string;
}

/** A fresh place (queue, files) for one run. */
export function newPlace(setup: Setup): RunPlace {
  const queue = `bench-${crypto.randomUUID().slice(0, 8)}`;
  if (setup.broker === "sqlite") {
    const home = Deno.makeTempDirSync({ prefix: "celeriac-bench-" });
    const url = `sqlite://${home}/embedded.sqlite3`;
    return { setup, queue, brokerUrl: url, backendUrl: url, home };
  }
  const brokerUrl = setup.broker === "amqp" ? AMQP_URL : REDIS_URL;
  const backendUrl = setup.results === "rpc" ? "rpc://" : REDIS_URL;
  return { setup, queue, brokerUrl, backendUrl };
}

/** Environment that points a worker (celeriac or Python) at a place. */
export function placeEnv(place: RunPlace): Record<string, string> {
  const env: Record<string, string> = { CELERIAC_BENCH_QUEUE: place.queue };
  if (place.home) env.CELERIAC_HOME = place.home; // nothing configured: the embedded default
  else {
    env.CELERY_BROKER_URL = place.brokerUrl;
    env.CELERY_RESULT_BACKEND = place.backendUrl;
  }
  return env;
}

async function deleteRedisKeys(pattern: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** Removes what a run left: queue, exchange, list keys, result keys, files. */
export async function cleanPlace(place: RunPlace): Promise<void> {
  const { setup, queue } = place;
  if (place.home) await Deno.remove(place.home, { recursive: true }).catch(() => {});
  if (setup.broker === "amqp") {
    const connection = await connect(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      await channel.deleteQueue(queue);
      await channel.deleteExchange(queue);
    } finally {
      await connection.close().catch(() => {});
    }
  }
  if (setup.broker === "redis") {
    await deleteRedisKeys(`*${queue}*`);
    await deleteRedisKeys("unacked*");
  }
  if (setup.results === "redis") await deleteRedisKeys("celery-task-meta-*");
}
