/**
 * The beat leader lease on RabbitMQ: the leader is the connection that holds
 * the exclusive queue `celeriac.beat.<name>.leader`. RabbitMQ refuses the
 * same exclusive queue to every other connection (`RESOURCE_LOCKED`) and
 * deletes it when its connection closes, so a leader that dies frees the
 * lease at once; one that hangs or loses the network is dropped after two
 * missed heartbeats (heartbeat = ttl / 3 seconds). Renewing checks the queue
 * on the live connection.
 *
 * The shared run state is the single message of the durable queue
 * `celeriac.beat.<name>.state` (`x-max-length: 1`: publishing the new state
 * drops the old one). Only the leader's connection publishes it.
 *
 * The only file that talks to amqplib for beat.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { ChannelModel } from "./amqplib.ts";
import { connectEndpoint } from "./connection.ts";
import { type AmqpEndpoint, parseAmqpUrl } from "./url.ts";
import { DEFAULT_SETTINGS } from "../../app/settings.ts";
import type { BeatLease, LeaseOptions } from "../../beat/leader_lease.ts";

/**
 * Opens the lease on the RabbitMQ server of `url`, parsed and connected by the
 * broker's own code (URL forms, `broker_use_ssl`, connect timeout), with a
 * heartbeat of a third of the lease's TTL.
 */
export async function createLease(url: string, options: LeaseOptions): Promise<BeatLease> {
  const leaderQueue = `celeriac.beat.${options.name}.leader`;
  const stateQueue = `celeriac.beat.${options.name}.state`;
  const config = { ...DEFAULT_SETTINGS, ...options.config };
  const endpoint: AmqpEndpoint = {
    ...await parseAmqpUrl(url, config),
    heartbeat: Math.max(1, Math.round(options.ttl / 3)),
  };
  let connection: ChannelModel | undefined;
  let held = false;

  const open = async (): Promise<ChannelModel> => {
    if (connection) return connection;
    const opened = await connectEndpoint(endpoint); // BrokerConnectionError naming the URL
    opened.on("error", () => {});
    opened.on("close", () => {
      if (connection === opened) [connection, held] = [undefined, false];
    });
    connection = opened;
    return opened;
  };

  /** Runs `body` on a fresh channel, closed afterwards (a refused declare closes it anyway). */
  const withChannel = async <T>(
    body: (channel: Awaited<ReturnType<ChannelModel["createConfirmChannel"]>>) => Promise<T>,
  ): Promise<T> => {
    const channel = await (await open()).createConfirmChannel();
    channel.on("error", () => {});
    try {
      return await body(channel);
    } finally {
      await channel.close().catch(() => {});
    }
  };

  await open();
  return {
    kind: "amqp",
    ttl: options.ttl,
    async acquire() {
      try {
        held = await withChannel(async (channel) => {
          if (held) await channel.checkQueue(leaderQueue);
          else await channel.assertQueue(leaderQueue, { exclusive: true, durable: false });
          return true;
        });
      } catch {
        held = false; // RESOURCE_LOCKED: another beat leads; or the connection is gone.
      }
      return held && connection !== undefined;
    },
    async loadState() {
      return await withChannel(async (channel) => {
        await channel.assertQueue(stateQueue, { durable: true, arguments: { "x-max-length": 1 } });
        const message = await channel.get(stateQueue, { noAck: false });
        if (!message) return null;
        channel.nack(message, false, true);
        return message.content.toString("utf-8");
      });
    },
    async saveState(state: string) {
      if (!held || !connection) return false;
      return await withChannel(async (channel) => {
        await channel.assertQueue(stateQueue, { durable: true, arguments: { "x-max-length": 1 } });
        channel.sendToQueue(stateQueue, Buffer.from(state, "utf-8"), {
          persistent: true,
          contentType: "application/json",
        });
        await channel.waitForConfirms();
        return true;
      });
    },
    async close() {
      const opened = connection;
      [connection, held] = [undefined, false];
      await opened?.close().catch(() => {});
    },
  };
}
