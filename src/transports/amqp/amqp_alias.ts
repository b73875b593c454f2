/**
 * `amqp://` as a result backend: Celery 4's "amqp" backend, removed in
 * Celery 5 and still found in old configurations. It maps to rpc:// with a
 * warning. A bare `amqp://` uses the broker; a URL with a host connects there.
 *
 * @module
 */

import type { ResolvedConfig } from "../../app/config.ts";
import { maskUrl } from "../../app/mask_url.ts";
import type { ConnectOptions } from "../../broker/types.ts";
import { getLogger } from "../../log.ts";
import { openRpcBackend, type RpcBackend, rpcConnectionUrl } from "./backend.ts";

const log = getLogger("backend.rpc");

/** Opens the rpc backend for a legacy `amqp://` result backend URL, logging a warning. */
export function createResultBackend(
  url: string,
  config: ResolvedConfig,
  options: ConnectOptions = {},
): Promise<RpcBackend> {
  log.warning(
    `result_backend ${JSON.stringify(maskUrl(url))}: the "amqp" result backend was removed in ` +
      `Celery 5; using "rpc://" instead (results travel to the client's reply queue). ` +
      `Set result_backend = "rpc://" to silence this warning.`,
  );
  const bare = /^amqp:\/\/\/?$/i.test(url);
  return openRpcBackend(url, config, bare ? rpcConnectionUrl(config) : url, options);
}
