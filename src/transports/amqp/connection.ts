/**
 * One AMQP connection, kept alive: opened with TCP_NODELAY, replaced after
 * a loss (one connect attempt at a time; consumers retry with backoff), with
 * a confirm channel for publishing and an "ops" channel for declarations,
 * counts and purges. Declarations are cached per connection, like kombu's
 * `maybe_declare`.
 *
 * @module
 */

import { type Channel, type ChannelModel, type ConfirmChannel, connect } from "./amqplib.ts";
import type { ResolvedConfig } from "../../app/config.ts";
import type { ConnectOptions } from "../../broker/types.ts";
import type { ConnectionShare } from "../../broker/connection_share.ts";
import { BrokerConnectionError } from "../../errors.ts";
import { getLogger } from "../../log.ts";
import type { AmqpEndpoint } from "./url.ts";
import { coalesceWrites, type CorkableStream } from "../write_coalescing.ts";

const log = getLogger("broker.amqp");

/** An AMQP error code (`406`, `404`, …) carried by amqplib's channel errors. */
export function amqpErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

/** Why a connection attempt failed, in words (amqplib's handshake errors are terse). */
export function describeConnectError(error: unknown, endpoint: AmqpEndpoint): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/ACCESS.REFUSED/.test(message)) {
    return `login refused for user ${JSON.stringify(endpoint.username)} (ACCESS_REFUSED: wrong ` +
      `user name or password)`;
  }
  if (/Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) {
    return `access to virtual host ${JSON.stringify(endpoint.vhost)} refused (NOT_ALLOWED: it ` +
      `does not exist or the user has no permissions on it)`;
  }
  return message;
}

/** Sleeps `ms`, or less when `abort` fires first. */
export function pause(ms: number, abort: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      abort.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    abort.addEventListener("abort", done);
  });
}

/** Something Node lets the process exit around (a socket, a timer). */
interface Unrefable {
  unref?: () => unknown;
}

/**
 * Lets the process exit while `model` is idle: unreferences its socket and
 * heartbeat timers (amqplib's `connection.stream` and `connection.heartbeater`).
 */
function letProcessExit(model: ChannelModel): void {
  const connection = model.connection as unknown as {
    stream?: Unrefable;
    heartbeater?: { sendTimer?: Unrefable; recvTimer?: Unrefable };
  };
  connection.stream?.unref?.();
  connection.heartbeater?.sendTimer?.unref?.();
  connection.heartbeater?.recvTimer?.unref?.();
}

/**
 * Opens one amqplib connection to `endpoint` (TLS, timeout, heartbeat and
 * client properties as every celeriac connection). A failure is a
 * BrokerConnectionError naming the masked URL and the cause.
 */
export async function connectEndpoint(endpoint: AmqpEndpoint): Promise<ChannelModel> {
  try {
    return await connect({
      protocol: endpoint.tls ? "amqps" : "amqp",
      hostname: endpoint.hostname,
      port: endpoint.port,
      username: endpoint.username,
      password: endpoint.password,
      // amqplib unescapes the vhost once more; keep a literal `%` intact.
      vhost: endpoint.vhost.replaceAll("%", "%25"),
      heartbeat: endpoint.heartbeat,
    }, {
      noDelay: true,
      timeout: endpoint.connectTimeoutMs,
      clientProperties: { product: "celeriac", connection_name: `celeriac ${Deno.pid}` },
      ...endpoint.tls,
    });
  } catch (error) {
    throw new BrokerConnectionError(
      `Cannot connect to ${endpoint.maskedUrl}: ${describeConnectError(error, endpoint)}.`,
      { cause: error },
    );
  }
}

/** A kept-alive AMQP connection. */
export class AmqpConnection {
  /** Where it connects. */
  readonly endpoint: AmqpEndpoint;
  readonly #config: ResolvedConfig;
  readonly #closing = new AbortController();
  #model?: ChannelModel;
  #connecting?: Promise<ChannelModel>;
  #generation = 0;
  /** The connection was lost and not yet re-established (the next one logs "Connected to"). */
  #lost = false;
  #confirm?: Promise<ConfirmChannel>;
  #ops?: Promise<Channel>;
  #declared = new Set<string>();
  readonly #closeReasons = new WeakMap<Channel, Error>();
  readonly #keepProcessAlive: boolean;
  /** Where this connection is shared (`open()`), and under which key. */
  #shared?: { share: ConnectionShare; key: string };

  /** Prepares a connection; nothing is opened until `get()`. */
  constructor(endpoint: AmqpEndpoint, config: ResolvedConfig, options: ConnectOptions = {}) {
    this.endpoint = endpoint;
    this.#config = config;
    this.#keepProcessAlive = options.keepProcessAlive ?? true;
  }

  /**
   * The connection to `endpoint`: with `options.share`, the one the app's
   * other adapters use (the broker's, for `rpc://` results), else a new one.
   * Each user calls `close()`; the connection closes with the last.
   */
  static open(
    endpoint: AmqpEndpoint,
    config: ResolvedConfig,
    options: ConnectOptions = {},
  ): AmqpConnection {
    const { share } = options;
    if (!share) return new AmqpConnection(endpoint, config, options);
    const key = `amqp ${options.keepProcessAlive ?? true} ${JSON.stringify(endpoint)}`;
    return share.acquire(key, () => {
      const connection = new AmqpConnection(endpoint, config, options);
      connection.#shared = { share, key };
      return connection;
    });
  }

  /** Aborted when `close()` is called. */
  get closingSignal(): AbortSignal {
    return this.#closing.signal;
  }

  /** Counts connections made so far; changes after each reconnect. */
  get generation(): number {
    return this.#generation;
  }

  /** True while `model` is the open connection. */
  isCurrent(model: ChannelModel): boolean {
    return this.#model === model;
  }

  /** The open connection, or one new connect attempt. Throws BrokerConnectionError. */
  get(): Promise<ChannelModel> {
    if (this.#closing.signal.aborted) {
      return Promise.reject(
        new BrokerConnectionError(`The connection to ${this.endpoint.maskedUrl} is closed.`),
      );
    }
    if (this.#model) return Promise.resolve(this.#model);
    this.#connecting ??= this.#open().finally(() => this.#connecting = undefined);
    return this.#connecting;
  }

  async #open(): Promise<ChannelModel> {
    const { endpoint } = this;
    const model = await connectEndpoint(endpoint);
    if (this.#closing.signal.aborted) {
      await model.close().catch(() => {});
      throw new BrokerConnectionError(`The connection to ${endpoint.maskedUrl} is closed.`);
    }
    this.#attach(model);
    if (this.#lost) {
      this.#lost = false;
      log.info(`Connected to ${endpoint.maskedUrl}`); // once a reconnect, whoever asked for it
    }
    return model;
  }

  #attach(model: ChannelModel): void {
    coalesceWrites((model.connection as unknown as { stream?: CorkableStream }).stream, "amqplib");
    if (!this.#keepProcessAlive) letProcessExit(model);
    this.#model = model;
    this.#generation++;
    this.#declared = new Set();
    this.#confirm = undefined;
    this.#ops = undefined;
    model.on("error", (error: Error) => log.debug(`AMQP connection error: ${error.message}`));
    model.on("blocked", (reason: string) => {
      log.warning(`RabbitMQ blocked publishing on ${this.endpoint.maskedUrl}: ${reason}`);
    });
    model.on("close", (error?: Error) => {
      if (this.#model !== model) return;
      this.#model = undefined;
      this.#confirm = undefined;
      this.#ops = undefined;
      if (!this.#closing.signal.aborted) {
        this.#lost = true;
        log.warning(
          `Connection to broker ${this.endpoint.maskedUrl} lost` +
            `${error ? ` (${error.message})` : ""}. Trying to re-establish the connection...`,
        );
      }
    });
  }

  /**
   * Connects, retrying with Celery's backoff (2, 4, 6, … 30 s, each attempt
   * logged) while `broker_connection_retry` allows
   * (`broker_connection_max_retries`, null = forever). Used by consumers.
   */
  async getWithRetry(): Promise<ChannelModel> {
    const max = this.#config.broker_connection_max_retries;
    for (let attempt = 1;; attempt++) {
      try {
        return await this.get();
      } catch (error) {
        const retry = this.#config.broker_connection_retry && !this.#closing.signal.aborted &&
          (max === null || attempt <= max);
        if (!retry) throw error;
        // kombu's ensure_connection intervals, as Celery's consumer: 2, 4, 6, … up to 30 seconds.
        const seconds = Math.min(2 * attempt, 30);
        log.error(
          `${(error as Error).message}\nTrying again in ${seconds.toFixed(2)} seconds... ` +
            `(${attempt}/${max ?? "∞"})`,
        );
        await pause(seconds * 1000, this.#closing.signal);
      }
    }
  }

  /** The publisher-confirms channel of the current connection. */
  confirmChannel(): Promise<ConfirmChannel> {
    this.#confirm ??= this.#channel((model) => model.createConfirmChannel(), () => {
      this.#confirm = undefined;
    });
    return this.#confirm;
  }

  /** The channel for declarations, counts and purges (recreated after a channel error). */
  opsChannel(): Promise<Channel> {
    this.#ops ??= this.#channel((model) => model.createChannel(), () => this.#ops = undefined);
    return this.#ops;
  }

  async #channel<C extends Channel>(
    create: (model: ChannelModel) => Promise<C>,
    forget: () => void,
  ): Promise<C> {
    try {
      const channel = await create(await this.get());
      channel.on("error", (error: Error) => {
        this.#closeReasons.set(channel, error);
        log.debug(`AMQP channel error: ${error.message}`);
      });
      channel.on("close", forget);
      return channel;
    } catch (error) {
      forget();
      throw error;
    }
  }

  /** The error the server closed `channel` with (amqplib's callbacks only say "channel closed"). */
  closeReason(channel: Channel): Error | undefined {
    return this.#closeReasons.get(channel);
  }

  /** True when `key` was declared on the current connection. */
  isDeclared(key: string): boolean {
    return this.#declared.has(key);
  }

  /** Remembers that `key` was declared on the connection of `generation`. */
  markDeclared(key: string, generation: number): void {
    if (generation === this.#generation) this.#declared.add(key);
  }

  /**
   * Closes the connection (a shared one once its last user closed it); later
   * calls fail with BrokerConnectionError.
   */
  async close(): Promise<void> {
    if (this.#shared && !this.#shared.share.release(this.#shared.key)) return;
    this.#closing.abort();
    const model = this.#model ?? await this.#connecting?.catch(() => undefined);
    this.#model = undefined;
    await model?.close().catch(() => {});
  }
}
