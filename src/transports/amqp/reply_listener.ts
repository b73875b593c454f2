/**
 * The client's rpc reply queue, consumed without acks: declared as Python's
 * rpc backend declares it (`durable=false`, `auto_delete=true`,
 * `x-expires` = `result_expires` in ms, reached through the default exchange),
 * once per connection, and declared and consumed again after a reconnect
 * while anyone still waits for a reply.
 *
 * @module
 */

import type { Channel, ChannelModel, ConsumeMessage } from "./amqplib.ts";
import { BrokerConnectionError } from "../../errors.ts";
import type { AmqpConnection } from "./connection.ts";
import { encodeFieldTable } from "./field_table.ts";
import { getLogger } from "../../log.ts";

const log = getLogger("backend.rpc");

/** Listens on one reply queue. */
export class ReplyListener {
  /** The reply queue name (what tasks carry as `reply_to`). */
  readonly queue: string;
  readonly #connection: AmqpConnection;
  readonly #arguments: Record<string, unknown>;
  readonly #onReply: (message: ConsumeMessage) => void;
  readonly #stillNeeded: () => boolean;
  #current?: { model: ChannelModel; ready: Promise<Channel> };
  #closed = false;

  /**
   * Prepares listening on `queue`; `expiresSeconds` becomes `x-expires`.
   * `stillNeeded` says whether to resume after a lost connection.
   */
  constructor(
    connection: AmqpConnection,
    queue: string,
    expiresSeconds: number | null,
    onReply: (message: ConsumeMessage) => void,
    stillNeeded: () => boolean,
  ) {
    this.#connection = connection;
    this.queue = queue;
    this.#arguments = expiresSeconds && expiresSeconds > 0
      ? { "x-expires": Math.round(expiresSeconds * 1000) }
      : {};
    this.#onReply = onReply;
    this.#stillNeeded = stillNeeded;
  }

  /** Declares and consumes the reply queue on the current connection, if not done yet. */
  async ensure(): Promise<void> {
    if (this.#closed) throw new BrokerConnectionError("The rpc reply queue listener is closed.");
    const model = await this.#connection.get();
    if (this.#current?.model !== model) {
      const ready = this.#start(model);
      const current = { model, ready };
      this.#current = current;
      ready.catch(() => {
        if (this.#current === current) this.#current = undefined;
      });
    }
    await this.#current.ready;
  }

  async #start(model: ChannelModel): Promise<Channel> {
    const channel = await model.createChannel();
    channel.on("error", (error: Error) => log.debug(`Reply channel error: ${error.message}`));
    channel.once("close", () => this.#lost(model));
    await channel.assertQueue(this.queue, {
      durable: false,
      exclusive: false,
      autoDelete: true,
      arguments: encodeFieldTable(this.#arguments),
    });
    await channel.consume(this.queue, (message) => {
      if (message) this.#onReply(message);
      else channel.close().catch(() => {}); // cancelled by the broker: start over
    }, { noAck: true });
    return channel;
  }

  /**
   * Stops listening: the channel closes, so the queue's consumer is gone
   * (and the auto-delete queue with it) even when the connection stays open
   * for others.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const current = this.#current;
    this.#current = undefined;
    const channel = await current?.ready.catch(() => undefined);
    await channel?.close().catch(() => {});
  }

  #lost(model: ChannelModel): void {
    if (this.#current?.model === model) this.#current = undefined;
    if (this.#closed || this.#connection.closingSignal.aborted || !this.#stillNeeded()) return;
    this.#connection.getWithRetry()
      .then(() => this.ensure())
      .catch((error) => log.error(`Cannot resume the rpc reply queue: ${error.message}`));
  }
}
