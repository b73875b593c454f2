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
import { type ChannelModel, connect, type Options } from "../broker/amqp/amqplib.ts";
import { maskUrl } from "../app/mask_url.ts";
import { BrokerConnectionError } from "../errors.ts";
import type { BeatLease, LeaseOptions } from "./leader_lease.ts";

/** amqplib's connect options for a kombu-style URL (`//` is the vhost `/`). */
function connectOptions(url: string, heartbeat: number): Options.Connect {
  const parsed = new URL(url.replace(/^[a-z]+:/i, "http:"));
  const path = parsed.pathname;
  return {
    protocol: /^amqps:/i.test(url) ? "amqps" : "amqp",
    hostname: parsed.hostname || "localhost",
    port: Number(parsed.port) || (/^amqps:/i.test(url) ? 5671 : 5672),
    username: decodeURIComponent(parsed.username) || "guest",
    password: decodeURIComponent(parsed.password) || "guest",
    vhost: path === "" || path === "/" ? "/" : decodeURIComponent(path.slice(1)),
    heartbeat,
  };
}

/** Opens the lease on the RabbitMQ server of `url`. */
export async function createLease(url: string, options: LeaseOptions): Promise<BeatLease> {
  const leaderQueue = `celeriac.beat.${options.name}.leader`;
  const stateQueue = `celeriac.beat.${options.name}.state`;
  const heartbeat = Math.max(1, Math.round(options.ttl / 3));
  let connection: ChannelModel | undefined;
  let held = false;

  const open = async (): Promise<ChannelModel> => {
    if (connection) return connection;
    try {
      const opened = await connect(connectOptions(url, heartbeat));
      opened.on("error", () => {});
      opened.on("close", () => {
        if (connection === opened) [connection, held] = [undefined, false];
      });
      connection = opened;
      return opened;
    } catch (cause) {
      throw new BrokerConnectionError(
        `Cannot connect to ${maskUrl(url)} for the beat lease: ${cause}`,
        { cause },
      );
    }
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
