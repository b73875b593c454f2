/**
 * Publishing with publisher confirms and Celery's publish retry: a publish
 * resolves once RabbitMQ confirmed it; a lost connection is retried per a
 * kombu retry policy (`interval_start`, `interval_step`, `interval_max`,
 * `max_retries`), a channel error (no such exchange, …) is not.
 *
 * @module
 */

import type { Options } from "./amqplib.ts";
import type { Buffer } from "node:buffer";
import { BrokerConnectionError } from "../../errors.ts";
import { getLogger } from "../../log.ts";
import { type AmqpConnection, amqpErrorCode, pause } from "./connection.ts";

const log = getLogger("broker.amqp");

/** kombu's retry policy, in seconds. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  max_retries: number;
  /** Wait before the first retry. */
  interval_start: number;
  /** Added to the wait for each further retry. */
  interval_step: number;
  /** Longest wait. */
  interval_max: number;
}

/** One message to publish. */
export interface OutgoingMessage {
  /** Exchange (`""` = default exchange). */
  exchange: string;
  /** Routing key. */
  routingKey: string;
  /** Body bytes. */
  body: Buffer;
  /** Basic properties. */
  options: Options.Publish;
  /** Runs before each attempt (declarations). */
  before?: () => Promise<void>;
}

async function publishOnce(connection: AmqpConnection, out: OutgoingMessage): Promise<void> {
  await out.before?.();
  const channel = await connection.confirmChannel();
  await new Promise<void>((resolve, reject) => {
    channel.publish(out.exchange, out.routingKey, out.body, out.options, (error: unknown) => {
      if (!error) return resolve();
      reject(
        connection.closeReason(channel) ??
          (error instanceof Error ? error : new Error(String(error))),
      );
    });
  });
}

/** Publishes and waits for the confirm, retrying per `policy` (null: no retry). */
export async function publishConfirmed(
  connection: AmqpConnection,
  out: OutgoingMessage,
  policy: RetryPolicy | null,
): Promise<void> {
  const retries = policy?.max_retries ?? 0;
  for (let attempt = 0;; attempt++) {
    try {
      return await publishOnce(connection, out);
    } catch (error) {
      const where = `exchange ${JSON.stringify(out.exchange)} with routing key ` +
        JSON.stringify(out.routingKey);
      const text = (error as Error).message;
      const code = amqpErrorCode(error);
      const permanent = code !== undefined && code !== 320;
      if (permanent || attempt >= retries || connection.closingSignal.aborted || !policy) {
        const attempts = permanent ? "" : ` after ${attempt + 1} attempt(s)`;
        throw new BrokerConnectionError(
          `Cannot publish to ${where} on ${connection.endpoint.maskedUrl}${attempts}: ${text}`,
          { cause: error },
        );
      }
      const seconds = Math.min(
        policy.interval_start + policy.interval_step * attempt,
        policy.interval_max,
      );
      log.warning(`Publish failed (${text}); retry ${attempt + 1}/${retries} in ${seconds} s.`);
      await pause(seconds * 1000, connection.closingSignal);
    }
  }
}
