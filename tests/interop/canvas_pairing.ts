/**
 * What the canvas interop files share: a broker/backend pairing with unique
 * queue names (results kept 10 minutes: canvas ids a test never sees expire
 * by themselves), and whether the services answer.
 *
 * @module
 */

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
