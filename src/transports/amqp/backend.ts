/**
 * The rpc:// result backend, as Python Celery's `RPCBackend`: results travel
 * as messages over the broker (RabbitMQ) to the client's own reply queue.
 * A worker publishes each state to exchange `""` with routing key = the
 * task's `reply_to` and `correlation_id` = the request's (or the task id); a
 * client consumes its reply queue and matches replies by correlation id,
 * buffering those nobody waits for yet. Results are delivered once, to the
 * process that sent the task.
 *
 * @module
 */

import type { ConsumeMessage } from "./amqplib.ts";
import { Buffer } from "node:buffer";
import type { ResolvedConfig } from "../../app/config.ts";
import { maskUrl } from "../../app/mask_url.ts";
import { AmqpConnection } from "./connection.ts";
import { publishConfirmed, type RetryPolicy } from "./publisher.ts";
import { AMQP_SCHEMES, parseAmqpUrl } from "./url.ts";
import { schemeOf } from "../schemes.ts";
import type { ConnectOptions } from "../../broker/types.ts";
import {
  BrokerConnectionError,
  CeleriacError,
  ConfigurationError,
  TimeoutError,
} from "../../errors.ts";
import { getLogger } from "../../log.ts";
import {
  acceptedContentTypes,
  decodeContent,
  encodeJson,
  JSON_CONTENT_ENCODING,
  JSON_CONTENT_TYPE,
} from "../../protocol/json_content.ts";
import {
  type BackendCapabilities,
  READY_STATES,
  type ReplyRoute,
  type ResultBackend,
  type ResultMeta,
  type WaitOptions,
} from "../../backend/types.ts";
import { ReplyBuffer } from "./reply_buffer.ts";
import { ReplyListener } from "./reply_listener.ts";

const log = getLogger("backend.rpc");

/** What the rpc backend can do. */
export const RPC_CAPABILITIES: BackendCapabilities = Object.freeze({
  crossProcess: true,
  forget: false,
  pushNotify: true,
  rereadable: false,
});

/** Python's `RPCBackend.retry_policy` for publishing results. */
const RESULT_RETRY_POLICY: RetryPolicy = {
  max_retries: 20,
  interval_start: 0,
  interval_step: 1,
  interval_max: 1,
};

const BARRIER_PREFIX = "celeriac.rpc-barrier.";
const BARRIER_TIMEOUT_MS = 5000;

/** The reply body Python's rpc backend sends, plus any further fields of `meta`. */
export function replyBody(meta: ResultMeta): Record<string, unknown> {
  const { task_id, status, result, traceback, children, ...rest } = meta;
  return { task_id, status, result, traceback, children, ...rest };
}

/** A reply body as a result document (Python's bodies have no `date_done`). */
export function metaFromReply(body: unknown, correlationId: string): ResultMeta | undefined {
  if (!body || typeof body !== "object" || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  if (typeof fields.status !== "string") return undefined;
  return {
    ...fields,
    task_id: typeof fields.task_id === "string" ? fields.task_id : correlationId,
    status: fields.status,
    result: fields.result ?? null,
    traceback: typeof fields.traceback === "string" ? fields.traceback : null,
    children: Array.isArray(fields.children) ? fields.children : [],
    date_done: typeof fields.date_done === "string" ? fields.date_done : null,
  };
}

/** The rpc result backend. Create it with `createResultBackend`. */
export class RpcBackend implements ResultBackend {
  readonly url: string;
  readonly capabilities: BackendCapabilities = RPC_CAPABILITIES;
  readonly #connection: AmqpConnection;
  #closed?: Promise<void>;
  readonly #config: ResolvedConfig;
  readonly #accepted: ReadonlySet<string>;
  readonly #buffer = new ReplyBuffer();
  readonly #barriers = new Map<string, () => void>();
  readonly #listener: ReplyListener;
  readonly #pending = new Set<(error: Error) => void>();

  /** Uses `connection` (already opened) for results. */
  constructor(url: string, connection: AmqpConnection, config: ResolvedConfig) {
    this.url = url;
    this.#connection = connection;
    this.#config = config;
    this.#accepted = acceptedContentTypes(config.result_accept_content ?? config.accept_content);
    this.#listener = new ReplyListener(
      connection,
      crypto.randomUUID(),
      config.result_expires,
      (message) => this.#onReply(message),
      () => this.#buffer.waiting > 0 || this.#barriers.size > 0,
    );
  }

  /** This client's reply queue name. */
  get replyQueue(): string {
    return this.#listener.queue;
  }

  #onReply(message: ConsumeMessage): void {
    const correlationId = String(message.properties.correlationId ?? "");
    if (correlationId.startsWith(BARRIER_PREFIX)) {
      this.#barriers.get(correlationId)?.();
      return;
    }
    let body: unknown;
    try {
      body = decodeContent(
        new Uint8Array(message.content),
        String(message.properties.contentType ?? ""),
        this.#accepted,
      );
    } catch (error) {
      log.error(`Dropped an rpc reply that cannot be decoded: ${(error as Error).message}`);
      return;
    }
    const meta = metaFromReply(body, correlationId);
    if (!meta) {
      log.error(`Dropped an rpc reply that is not a result document (${correlationId}).`);
      return;
    }
    this.#buffer.put(correlationId || meta.task_id, meta);
  }

  /** Declares and consumes this client's reply queue; returns its name as the task's `reply_to`. */
  async prepare(_taskId: string): Promise<string> {
    await this.#listener.ensure();
    return this.#listener.queue;
  }

  /** Publishes a state to the task's `reply_to` (nothing when it is empty), as Python's worker does. */
  async store(meta: ResultMeta, reply: ReplyRoute): Promise<void> {
    if (!reply.replyTo) return;
    await publishConfirmed(this.#connection, {
      exchange: "",
      routingKey: reply.replyTo,
      body: Buffer.from(encodeJson(replyBody(meta))),
      options: {
        contentType: JSON_CONTENT_TYPE,
        contentEncoding: JSON_CONTENT_ENCODING,
        correlationId: reply.correlationId || meta.task_id,
        deliveryMode: this.#config.result_persistent ? 2 : 1,
        priority: 0,
        headers: {},
      },
    }, RESULT_RETRY_POLICY);
  }

  /**
   * The latest state received for `taskId`. First makes sure every reply
   * already in the reply queue has arrived: a marker message is sent through
   * the queue and awaited (the queue is FIFO with one consumer).
   */
  async read(taskId: string): Promise<ResultMeta | undefined> {
    await this.#listener.ensure();
    const id = `${BARRIER_PREFIX}${crypto.randomUUID()}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arrived = new Promise<void>((resolve) => {
      this.#barriers.set(id, resolve);
      timer = setTimeout(resolve, BARRIER_TIMEOUT_MS);
    });
    try {
      await publishConfirmed(this.#connection, {
        exchange: "",
        routingKey: this.#listener.queue,
        body: Buffer.from("{}"),
        options: { correlationId: id, contentType: JSON_CONTENT_TYPE, deliveryMode: 1 },
      }, null);
      await arrived;
    } finally {
      clearTimeout(timer);
      this.#barriers.delete(id);
    }
    return this.#buffer.get(taskId);
  }

  /** Waits for a ready state of `taskId` (SUCCESS, FAILURE, REVOKED). */
  async waitFor(taskId: string, options: WaitOptions): Promise<ResultMeta> {
    options.signal?.throwIfAborted();
    await this.#listener.ensure();
    const buffered = this.#buffer.get(taskId);
    if (buffered && READY_STATES.has(buffered.status)) return buffered;
    const { signal, timeoutMs } = options;
    return await new Promise<ResultMeta>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const fail = (error: Error) => {
        finish();
        reject(error);
      };
      const finish = () => {
        this.#pending.delete(fail);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        unlisten();
      };
      const onAbort = () => {
        finish();
        reject(signal?.reason);
      };
      const unlisten = this.#buffer.listen(taskId, (meta) => {
        finish();
        resolve(meta);
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          finish();
          reject(new TimeoutError("The operation timed out.", { taskId }));
        }, timeoutMs);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.add(fail);
    });
  }

  /** Not supported, as in Celery: throws `NotImplementedError('backend does not implement forget.')`. */
  forget(taskId: string): Promise<void> {
    const error = new CeleriacError("backend does not implement forget.", { taskId });
    error.name = "NotImplementedError";
    return Promise.reject(error);
  }

  /**
   * Stops consuming the reply queue (it goes away: auto-delete) and closes
   * the connection (a shared one stays open for the broker).
   */
  async close(): Promise<void> {
    for (const release of this.#barriers.values()) release();
    const closed = new BrokerConnectionError(`The rpc backend (${this.url}) was closed.`);
    for (const fail of [...this.#pending]) fail(closed);
    await this.#listener.close();
    // Once: a shared connection counts each user's close.
    this.#closed ??= this.#connection.close();
    await this.#closed;
  }

  /** Same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * The AMQP URL rpc results travel over: the broker's (`broker_url`, which
 * the app fills with the URL it really uses). Without one, rpc:// has no
 * RabbitMQ to use: celeriac's default broker is the embedded SQLite file,
 * not Celery's `amqp://localhost`.
 */
export function rpcConnectionUrl(config: ResolvedConfig): string {
  const broker = config.broker_url;
  if (!broker) {
    throw new ConfigurationError(
      `Invalid result_backend "rpc://" without a broker_url: rpc results travel over the broker, ` +
        `which must be RabbitMQ (set broker_url to ${
          AMQP_SCHEMES.map((s) => `${s}://…`).join(" or ")
        }), or use another result backend.`,
    );
  }
  if (!AMQP_SCHEMES.includes(schemeOf(broker))) {
    throw new ConfigurationError(
      `Invalid result_backend "rpc://" with broker_url ${JSON.stringify(maskUrl(broker))}: ` +
        `rpc results travel over the broker, which must be RabbitMQ ` +
        `(${
          AMQP_SCHEMES.map((s) => `${s}://`).join(", ")
        }). Use a redis:// result backend instead.`,
    );
  }
  return broker;
}

/** Opens an rpc backend over `connectUrl` (default: the broker). */
export async function openRpcBackend(
  url: string,
  config: ResolvedConfig,
  connectUrl: string = rpcConnectionUrl(config),
  options: ConnectOptions = {},
): Promise<RpcBackend> {
  const connection = AmqpConnection.open(await parseAmqpUrl(connectUrl, config), config, options);
  await connection.get();
  return new RpcBackend(url, connection, config);
}

/**
 * Opens the `rpc://` result backend over the broker connection settings.
 *
 * @example
 * ```ts ignore
 * const backend = await createResultBackend("rpc://", config); // config.broker_url is amqp://
 * const replyTo = await backend.prepare(taskId); // put it on the task message
 * const meta = await backend.waitFor(taskId, { intervalMs: 500, timeoutMs: 10_000 });
 * ```
 */
export function createResultBackend(
  url: string,
  config: ResolvedConfig,
  options: ConnectOptions = {},
): Promise<RpcBackend> {
  return openRpcBackend(url, config, rpcConnectionUrl(config), options);
}
