/**
 * The worker's end of remote control (kombu's pidbox `Node`, spec §3.1–§3.4):
 * consumes `<node>.celery.pidbox`, runs each command addressed to this node
 * and publishes the reply to the client's reply queue. A malformed message
 * is logged and ignored; a command that throws replies `{"error": …}`; a
 * command left out of `worker_control_allow` is refused.
 *
 * @module
 */

import type { ResolvedConfig } from "../app/settings.ts";
import type { Broker, Delivery } from "../broker/types.ts";
import {
  addressedTo,
  type ControlRequest,
  encodeReply,
  nodeQueue,
  parseRequest,
} from "../control/mailbox.ts";
import type { Logger } from "../log.ts";
import { CONTROL_COMMANDS, type ControlTarget } from "./control_commands.ts";

/** Commands answered even when an allow-list is set (they change nothing). */
const ALWAYS_ALLOWED = new Set(["ping", "hello", "clock"]);

/** The pidbox consumer of one worker. */
export class RemoteControl {
  readonly #broker: Broker;
  readonly #config: ResolvedConfig;
  readonly #target: ControlTarget;
  readonly #logger: Logger;
  readonly #allowed: ReadonlySet<string> | null;
  #reader?: ReadableStreamDefaultReader<Delivery>;
  #loop?: Promise<void>;
  #queue: Promise<void> = Promise.resolve();

  /** Prepares the consumer; `start()` declares the queue and consumes. */
  constructor(broker: Broker, config: ResolvedConfig, target: ControlTarget, logger: Logger) {
    this.#broker = broker;
    this.#config = config;
    this.#target = target;
    this.#logger = logger;
    this.#allowed = config.worker_control_allow ? new Set(config.worker_control_allow) : null;
  }

  /** Starts consuming the node's pidbox queue. */
  async start(): Promise<void> {
    const queue = nodeQueue(this.#config, this.#target.hostname);
    await this.#broker.declareQueue(queue);
    this.#reader = this.#broker.consume({ queues: [queue], prefetch: 0 }).getReader();
    this.#loop = this.#read(this.#reader);
  }

  /** Stops consuming; waits for the command being handled. */
  async stop(): Promise<void> {
    await this.#reader?.cancel().catch(() => {});
    await this.#loop;
    await this.#queue;
  }

  async #read(reader: ReadableStreamDefaultReader<Delivery>): Promise<void> {
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) return;
        void value.ack().catch(() => {});
        this.#queue = this.#queue.then(() => this.#handle(value)).catch((error) =>
          this.#logger.error(`Control command failed: ${error?.stack ?? error}`)
        );
      }
    } catch (error) {
      this.#logger.error(`Remote control stopped: ${error}`);
    }
  }

  async #handle(delivery: Delivery): Promise<void> {
    let request: ControlRequest;
    try {
      request = parseRequest(delivery.message);
    } catch (error) {
      this.#logger.warning(`Ignored a malformed control message: ${(error as Error).message}`);
      return;
    }
    const { hostname, clock } = this.#target;
    if (!addressedTo(request, hostname)) return;
    clock.adjust(delivery.message.headers.clock ?? 0);
    const reply = await this.#run(request);
    if (reply === undefined || !request.reply_to || !request.ticket) return;
    const message = encodeReply(hostname, reply, request.ticket, clock.forward());
    try {
      await this.#broker.publish(message, {
        exchange: request.reply_to.exchange,
        routingKey: request.reply_to.routing_key,
        declareExchange: { name: request.reply_to.exchange, type: "direct", durable: false },
      });
    } catch (error) {
      this.#logger.warning(`Cannot reply to ${request.method}: ${(error as Error).message}`);
    }
  }

  async #run(request: ControlRequest): Promise<unknown> {
    const command = CONTROL_COMMANDS[request.method];
    if (!command) {
      this.#logger.error(`No such control command: ${request.method}`);
      return { error: `KeyError('${request.method}')` };
    }
    if (
      this.#allowed && !this.#allowed.has(request.method) && !ALWAYS_ALLOWED.has(request.method)
    ) {
      this.#logger.warning(
        `Refused control command ${request.method}: not in worker_control_allow`,
      );
      return { error: `command ${request.method} is not allowed on this worker` };
    }
    this.#logger.debug(`pidbox received method ${request.method} [reply_to:${request.ticket}]`);
    try {
      return await command.handle(this.#target, request.arguments);
    } catch (error) {
      const name = (error as Error)?.name ?? "Error";
      const text = (error as Error)?.message ?? String(error);
      this.#logger.error(`Error running control command ${request.method}: ${text}`);
      return { error: `${name}(${JSON.stringify(text).replace(/^"|"$/g, "'")})` };
    }
  }
}
