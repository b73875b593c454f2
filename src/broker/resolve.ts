/**
 * Picks a broker adapter by URL scheme. Each entry is a literal `import()` so
 * `deno compile` bundles every adapter and a process only loads the one it uses.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import type { ResolvedConfig } from "../app/config.ts";
import { maskUrl } from "../app/mask_url.ts";
import type { Broker, BrokerFactory, ConnectOptions } from "./types.ts";

const ADAPTERS: Record<string, () => Promise<{ createBroker: BrokerFactory }>> = {
  "memory": () => import("../transports/memory/broker.ts"),
  "sqlite": () => import("../transports/sqlite/broker.ts"),
  "amqp": () => import("../transports/amqp/broker.ts"),
  "pyamqp": () => import("../transports/amqp/broker.ts"),
  "amqps": () => import("../transports/amqp/broker.ts"),
  "redis": () => import("../transports/redis/broker.ts"),
  "rediss": () => import("../transports/redis/broker.ts"),
  "sentinel": () => import("../transports/redis/broker.ts"),
};

/** URL schemes with a broker adapter. */
export const BROKER_SCHEMES: readonly string[] = Object.keys(ADAPTERS);

/** Scheme of a URL, without the colon (`amqp`, `redis`, …). */
export function schemeOf(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return match ? match[1].toLowerCase() : "";
}

/** Creates the broker for `url`; an unknown scheme is an error listing the supported ones. */
export async function createBroker(
  url: string,
  config: ResolvedConfig,
  options: ConnectOptions = {},
): Promise<Broker> {
  const load = ADAPTERS[schemeOf(url)];
  if (!load) {
    throw new ConfigurationError(
      `Unsupported broker URL ${JSON.stringify(maskUrl(url))}: unknown scheme ` +
        `"${schemeOf(url)}". Supported: ${BROKER_SCHEMES.map((s) => `${s}://`).join(", ")}.`,
    );
  }
  const { createBroker: create } = await load();
  return await create(url, config, options);
}
