/**
 * Shared pieces of the RabbitMQ integration tests: the test broker URL, a
 * config for it, and deleting the queues and exchanges a test declared.
 *
 * @module
 */

import type { ResolvedConfig } from "../../src/app/config.ts";
import { DEFAULT_SETTINGS } from "../../src/app/settings.ts";
import { AmqpConnection } from "../../src/broker/amqp/connection.ts";
import { parseAmqpUrl } from "../../src/broker/amqp/url.ts";
import { SERVICES } from "../services.ts";

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
