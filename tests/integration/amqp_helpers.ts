/**
 * Shared pieces of the RabbitMQ integration tests: the test broker URL, a
 * config for it, and deleting the queues and exchanges a test declared.
 *
 * @module
 */

import type { ResolvedConfig } from "../../src/app/config.ts";
import { DEFAULT_SETTINGS } from "../../src/app/settings.ts";
import { AmqpConnection } from "../../src/transports/amqp/connection.ts";
import { parseAmqpUrl } from "../../src/transports/amqp/url.ts";
import { SERVICES, uniqueName } from "../services.ts";

/** The RabbitMQ the tests use. */
export const AMQP_URL: string = SERVICES.rabbitmq;

/** Celery's defaults with the test RabbitMQ as broker (and `overrides`). */
export function amqpConfig(overrides: Partial<ResolvedConfig> = {}): ResolvedConfig {
  return Object.freeze({ ...DEFAULT_SETTINGS, broker_url: AMQP_URL, ...overrides });
}

/** Deletes queues and the exchanges of the same names (tests name them alike). */
export async function deleteAmqpEntities(names: string[]): Promise<void> {
  const config = amqpConfig();
  const connection = new AmqpConnection(await parseAmqpUrl(AMQP_URL, config), config);
  try {
    for (const name of names) {
      const channel = await connection.opsChannel();
      await channel.deleteQueue(name).catch(() => {});
      const again = await connection.opsChannel();
      await again.deleteExchange(name).catch(() => {});
    }
  } finally {
    await connection.close();
  }
}

/** Runs `rabbitmqctl` (quietly, tab-separated) and returns its output; throws on failure. */
export async function rabbitmqctl(args: string[], node?: string): Promise<string> {
  const nodeArgs = node ? ["-n", node] : [];
  const { code, stdout, stderr } = await new Deno.Command("rabbitmqctl", {
    args: [...nodeArgs, "-q", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (code !== 0) {
    throw new Error(`rabbitmqctl ${args.join(" ")} failed (${code}): ${decoder.decode(stderr)}`);
  }
  return decoder.decode(stdout);
}

/**
 * Closes, from the server side, the connections this process opened (as a
 * network failure would): those on `vhost` only, when given. Test modules run
 * in parallel in one process, so a test that cuts connections on the shared
 * RabbitMQ should use a `privateVhost()`, or it cuts the others' too.
 */
export async function closeOwnConnections(node?: string, vhost?: string): Promise<number> {
  const listing = await rabbitmqctl(
    ["list_connections", "pid", "vhost", "client_properties"],
    node,
  );
  const ours = listing.split("\n").filter((line) =>
    line.includes(`celeriac ${Deno.pid}"`) && (vhost === undefined || line.split("\t")[1] === vhost)
  );
  for (const line of ours) {
    await rabbitmqctl(["close_connection", line.split("\t")[0], "test: simulated failure"], node);
  }
  return ours.length;
}

/** One row of `rabbitmqctl list_queues name durable auto_delete arguments` for `name`. */
export async function queueRow(name: string): Promise<string | undefined> {
  const listing = await rabbitmqctl(["list_queues", "name", "durable", "auto_delete", "arguments"]);
  return listing.split("\n").find((line) => line.split("\t")[0] === name);
}

/** A vhost of its own on the test RabbitMQ (guest has every permission); deleted on dispose. */
export interface PrivateVhost extends AsyncDisposable {
  /** Its name. */
  vhost: string;
  /** The test broker URL on it. */
  url: string;
}

/** Creates a `PrivateVhost`, for tests that cut connections (see `closeOwnConnections`). */
export async function privateVhost(): Promise<PrivateVhost> {
  const vhost = uniqueName("celeriac-cut");
  await rabbitmqctl(["add_vhost", vhost]);
  await rabbitmqctl(["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]);
  const base = AMQP_URL.replace(/^(amqps?:\/\/[^/]+).*$/, "$1");
  return {
    vhost,
    url: `${base}/${encodeURIComponent(vhost)}`,
    [Symbol.asyncDispose]: async () => void await rabbitmqctl(["delete_vhost", vhost]),
  };
}
