/**
 * Picks a broker adapter by URL scheme. Each entry is a literal `import()` so
 * `deno compile` bundles every adapter and a process only loads the one it uses.
 *
 * @module
 */

import type { ResolvedConfig } from "../app/config.ts";
import { schemeFor, schemesFor, type Transport } from "../transports/schemes.ts";
import type { Broker, BrokerFactory, ConnectOptions } from "./types.ts";

const ADAPTERS: Record<Transport, () => Promise<{ createBroker: BrokerFactory }>> = {
  memory: () => import("../transports/memory/broker.ts"),
  sqlite: () => import("../transports/sqlite/broker.ts"),
  amqp: () => import("../transports/amqp/broker.ts"),
  redis: () => import("../transports/redis/broker.ts"),
};

/** URL schemes with a broker adapter (from the one scheme table, `src/transports/schemes.ts`). */
export const BROKER_SCHEMES: readonly string[] = schemesFor("broker");

export { schemeOf } from "../transports/schemes.ts";

/** Creates the broker for `url`; an unknown scheme is an error listing the supported ones. */
export async function createBroker(
  url: string,
  config: ResolvedConfig,
  options: ConnectOptions = {},
): Promise<Broker> {
  const { createBroker: create } = await ADAPTERS[schemeFor(url, "broker").transport]();
  return await create(url, config, options);
}
