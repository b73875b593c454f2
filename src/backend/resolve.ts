/**
 * Picks a result backend adapter by URL scheme, through literal `import()` calls.
 *
 * @module
 */

import type { ResolvedConfig } from "../app/config.ts";
import type { ConnectOptions } from "../broker/types.ts";
import { schemeFor, schemeOf, schemesFor, type Transport } from "../transports/schemes.ts";
import type { ResultBackend, ResultBackendFactory } from "./types.ts";

type BackendModule = () => Promise<{ createResultBackend: ResultBackendFactory }>;

const ADAPTERS: Record<Transport, BackendModule> = {
  memory: () => import("../transports/memory/backend.ts"),
  sqlite: () => import("../transports/sqlite/backend.ts"),
  amqp: () => import("../transports/amqp/backend.ts"), // rpc://
  redis: () => import("../transports/redis/backend.ts"),
};
/** `amqp://` as a result backend: Celery's deprecated name for rpc://, with its warning. */
const AMQP_ALIAS: BackendModule = () => import("../transports/amqp/amqp_alias.ts");

/** URL schemes with a result backend adapter (from `src/transports/schemes.ts`). */
export const BACKEND_SCHEMES: readonly string[] = schemesFor("backend");

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
  const { transport } = schemeFor(url, "backend");
  const load = schemeOf(url) === "amqp" ? AMQP_ALIAS : ADAPTERS[transport];
  const { createResultBackend: create } = await load();
  return await create(url, config, options);
}
