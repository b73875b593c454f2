/**
 * The brokers the reliability tests run on, each a "world": broker and
 * result backend URLs plus settings, with unique names so tests never share
 * queues or keys, and a cleanup that removes what the test made.
 *
 * - `sqlite`: the embedded broker and backend in a temporary file.
 * - `redis`: the shared Redis, every key under a fresh `global_keyprefix`.
 * - `amqp`: the shared RabbitMQ with a fresh queue; results in a SQLite file
 *   (readable from worker subprocesses).
 *
 * @module
 */

import { Celery } from "../../mod.ts";
import { serviceAvailable, SERVICES, uniqueName } from "../services.ts";
import { deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { deleteKeysWithPrefix, rawRedis } from "../integration/redis_test_tools.ts";
import { DatabaseSync } from "node:sqlite";
import { registerFaultTasks } from "./fault_app.ts";

/** A broker kind. */
export type WorldKind = "sqlite" | "redis" | "amqp";

/** Every broker kind. */
export const WORLD_KINDS: readonly WorldKind[] = ["sqlite", "redis", "amqp"];

/** One broker world for one test. */
export interface World extends AsyncDisposable {
  /** The broker kind. */
  kind: WorldKind;
  /** A directory for run logs and markers. */
  dir: string;
  /** The queue tasks go to. */
  queue: string;
  /** Settings for an app of this world (broker, backend, queue, transport options). */
  settings: Record<string, unknown>;
  /** Makes an app with the fault tasks and these settings (plus `extra`). */
  app(extra?: Record<string, unknown>): Celery;
  /** Lines of `runs.log` (see fault_app.ts). */
  runs(): string[];
  /**
   * Messages the broker dead-lettered from the queue: SQLite's dead-letter
   * table, RabbitMQ's dead-letter queue (with `deadLetter`), Redis's
   * `<queue>.dead` list (malformed list elements only: Redis drops rejects).
   */
  deadLetters(): Promise<number>;
}

/** Options of `openWorld`. */
export interface WorldOptions {
  /** Visibility timeout / lease in seconds (SQLite and Redis), for crash tests. */
  visibilityTimeout?: number;
  /** Broker URL to use instead of the shared service (a private node). */
  brokerUrl?: string;
  /** RabbitMQ: declare the queue with a dead-letter queue `<queue>.dlq`. */
  deadLetter?: boolean;
}

/** Opens a world, or returns undefined (test skipped) when its service is down outside CI. */
export async function openWorld(
  kind: WorldKind,
  options: WorldOptions = {},
): Promise<World | undefined> {
  if (kind === "redis" && !options.brokerUrl && !await serviceAvailable("redis")) return undefined;
  if (kind === "amqp" && !options.brokerUrl && !await serviceAvailable("rabbitmq")) {
    return undefined;
  }
  const dir = await Deno.makeTempDir({ prefix: `celeriac-rel-${kind}-` });
  const queue = uniqueName(`rel-${kind}`);
  const transport: Record<string, unknown> = {};
  if (options.visibilityTimeout !== undefined) {
    transport.visibility_timeout = options.visibilityTimeout;
    // A worker killed while it held kombu's restore mutex (each consumer thread takes it for a
    // few ms every visibility timeout, at most 100 s) blocks every restore until the mutex
    // expires: 300 s by default, as kombu's. Shortened with the timeout, so a kill test waits
    // seconds, not minutes.
    transport.unacked_mutex_expire = Math.max(2, options.visibilityTimeout * 2);
  }
  const settings: Record<string, unknown> = {
    task_default_queue: queue,
    result_expires: 600,
  };
  const prefix = `${queue}:`;
  if (kind === "sqlite") {
    settings.broker_url = `sqlite://${dir}/embedded.sqlite3`;
    settings.result_backend = `sqlite://${dir}/embedded.sqlite3`;
  } else if (kind === "redis") {
    const url = options.brokerUrl ?? SERVICES.redis;
    settings.broker_url = url;
    settings.result_backend = url;
    transport.global_keyprefix = prefix;
    settings.result_backend_transport_options = { global_keyprefix: prefix };
  } else {
    settings.broker_url = options.brokerUrl ?? SERVICES.rabbitmq;
    settings.result_backend = `sqlite://${dir}/results.sqlite3`;
    if (options.deadLetter) {
      settings.task_queues = [{
        name: queue,
        arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": `${queue}.dlq` },
      }];
    }
  }
  settings.broker_transport_options = transport;
  const apps: Celery[] = [];
  const world: World = {
    kind,
    dir,
    queue,
    settings,
    app(extra = {}) {
      const app = registerFaultTasks(
        new Celery("fault", { config: { ...settings, ...extra }, setAsCurrent: false }),
      );
      apps.push(app);
      return app;
    },
    runs() {
      try {
        return Deno.readTextFileSync(`${dir}/runs.log`).split("\n").filter(Boolean);
      } catch {
        return [];
      }
    },
    async deadLetters() {
      if (kind === "sqlite") {
        const db = new DatabaseSync(`${dir}/embedded.sqlite3`, { readOnly: true });
        try {
          const row = db.prepare("SELECT count(*) AS n FROM celeriac_dead_letters WHERE queue = ?")
            .get(queue) as { n: number };
          return Number(row.n);
        } finally {
          db.close();
        }
      }
      const broker = await world.app().getBroker();
      if (kind === "amqp") return await broker.messageCount(`${queue}.dlq`);
      const redis = rawRedis(String(settings.broker_url));
      try {
        return await redis.llen(`${prefix}${queue}.dead`);
      } finally {
        redis.disconnect();
      }
    },
    async [Symbol.asyncDispose]() {
      await Promise.allSettled(apps.map((app) => app.close()));
      if (kind === "redis" && !options.brokerUrl) await deleteKeysWithPrefix(prefix);
      if (kind === "amqp" && !options.brokerUrl) {
        await deleteAmqpEntities([queue, `${queue}.dlq`]);
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  if (kind === "amqp" && options.deadLetter) {
    const broker = await world.app().getBroker();
    await broker.declareQueue({
      name: `${queue}.dlq`,
      exchange: "",
      exchangeType: "direct",
      routingKey: `${queue}.dlq`,
      durable: true,
      autoDelete: false,
      arguments: {},
    });
  }
  return world;
}

/** The app module Web Workers and worker subprocesses load. */
export const FAULT_APP_URL: string = new URL("./fault_app.ts", import.meta.url).href;

/** `appLocation` for an in-process worker whose tasks run in Web Workers. */
export const FAULT_APP_LOCATION = { moduleUrl: FAULT_APP_URL, main: "fault" } as const;

/** Counts lines of `runs` ending with `what`, per task id. */
export function countRuns(runs: string[], what = "run"): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of runs) {
    const [id, , , ...rest] = line.split(" ");
    if (rest.join(" ") !== what) continue;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Polls `condition` every 25 ms until it holds; throws `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
