/**
 * Picks a result backend adapter by URL scheme, through literal `import()` calls.
 *
 * @module
 */

import { ConfigurationError } from "../errors.ts";
import type { ResolvedConfig } from "../app/config.ts";
import { maskUrl } from "../app/mask_url.ts";
import { schemeOf } from "../broker/resolve.ts";
import type { ConnectOptions } from "../broker/types.ts";
import type { ResultBackend, ResultBackendFactory } from "./types.ts";

const ADAPTERS: Record<string, () => Promise<{ createResultBackend: ResultBackendFactory }>> = {
  "memory": () => import("../transports/memory/backend.ts"),
  "sqlite": () => import("../transports/sqlite/backend.ts"),
  "rpc": () => import("../transports/amqp/backend.ts"),
  "amqp": () => import("../transports/amqp/amqp_alias.ts"),
  "redis": () => import("../transports/redis/backend.ts"),
  "rediss": () => import("../transports/redis/backend.ts"),
  "sentinel": () => import("../transports/redis/backend.ts"),
};

/** URL schemes with a result backend adapter. */
export const BACKEND_SCHEMES: readonly string[] = Object.keys(ADAPTERS);

/** Celery also accepts a bare backend name (`"amqp"`, `"rpc"`, `"redis"`), meaning `<name>://`. */
function withScheme(url: string): string {
  return /^[a-z][a-z0-9+.-]*$/i.test(url) ? `${url}://` : url;
}

/** Creates the result backend for `url`; an unknown scheme is an error listing the supported ones. */
export async function createResultBackend(
  given: string,
  config: ResolvedConfig,
  options: ConnectOptions = {},
): Promise<ResultBackend> {
  const url = withScheme(given);
  const load = ADAPTERS[schemeOf(url)];
  if (!load) {
    throw new ConfigurationError(
      `Unsupported result backend ${JSON.stringify(maskUrl(url))}: unknown scheme ` +
        `"${schemeOf(url)}". Supported: ${BACKEND_SCHEMES.map((s) => `${s}://`).join(", ")}.`,
    );
  }
  const { createResultBackend: create } = await load();
  return await create(url, config, options);
}
