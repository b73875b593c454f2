/**
 * What the canvas interop files share: a broker/backend pairing with unique
 * queue names (results kept 10 minutes: canvas ids a test never sees expire
 * by themselves), run and cleaned up, and whether the services answer.
 *
 * @module
 */

import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import {
  deleteKeysWithPrefix,
  deleteResultKeys,
  REDIS_URL,
} from "../integration/redis_test_tools.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import type { InteropSetup } from "./worker_scenarios.ts";

/** RabbitMQ and Redis both answer (under CI an unreachable one fails the test file). */
export const canvasServicesUp: boolean = await serviceAvailable("rabbitmq") &&
  await serviceAvailable("redis");

/** A pairing with results kept 10 minutes (canvas ids the test never sees expire by themselves). */
export function pairing(
  broker: string,
  backend: string,
  config: Record<string, unknown> = {},
): InteropSetup {
  const queue = uniqueName("it-canvas");
  const settings = { result_expires: 600, ...config };
  return {
    broker,
    backend,
    queue,
    otherQueue: `${queue}-other`,
    config: settings,
    python: { broker, backend, queue, config: settings },
    resultIds: [],
  };
}

/** The pairings Celery users run: RabbitMQ with Redis or rpc:// results, and Redis for both. */
export type PairingKind = "rabbitmq+redis" | "rabbitmq+rpc" | "redis";

/**
 * Runs `scenario` on a fresh pairing of `kind`, then removes what it left:
 * the RabbitMQ queue, or the Redis keys under its prefix, and the result keys
 * of the ids it recorded.
 */
export async function onPairing(
  kind: PairingKind,
  scenario: (setup: InteropSetup) => Promise<void>,
): Promise<void> {
  const prefix = `${uniqueName("it-canvas")}:`;
  const setup = kind === "redis"
    ? pairing(REDIS_URL, REDIS_URL, { broker_transport_options: { global_keyprefix: prefix } })
    : pairing(AMQP_URL, kind === "rabbitmq+redis" ? REDIS_URL : "rpc://");
  try {
    await scenario(setup);
  } finally {
    if (kind === "redis") await deleteKeysWithPrefix(prefix);
    else await deleteAmqpEntities([setup.queue]);
    if (kind !== "rabbitmq+rpc") await deleteResultKeys(setup.resultIds);
  }
}
