/**
 * The Redis result backend (`redis://`, `rediss://`, `sentinel://`), written
 * exactly as Celery 5.2.6 writes it (spec §5.3): the JSON result document in
 * `celery-task-meta-<id>`, stored as Celery's `GET` (a SUCCESS is never
 * overwritten) then `SETEX <key> <result_expires> <json>; PUBLISH <key> <json>`
 * (`SET` when `result_expires` is null or 0), done by one Lua script so a
 * store is one atomic round trip. Clients wait by subscribing
 * (see waiters.ts), never by polling.
 *
 * @module
 */

import type { ResolvedConfig } from "../../app/config.ts";
import { ProtocolError, TimeoutError } from "../../errors.ts";
import { getLogger } from "../../log.ts";
import { stringifyJson } from "../../protocol/json_content.ts";
import type { ConnectOptions } from "../../broker/types.ts";
import { openRedis, type RedisConnection } from "./facade.ts";
import { parseTransportOptions, type RedisTransportOptions } from "./options.ts";
import { parseRedisUrl, type RedisConnectOptions } from "./url.ts";
import {
  type BackendCapabilities,
  READY_STATES,
  type ReplyRoute,
  type ResultBackend,
  type ResultMeta,
  type WaitOptions,
} from "../../backend/types.ts";
import { ResultKeys } from "./result_keys.ts";
import * as join from "./chord_join.ts";
import type { ChordPart, ChordProgress, NativeChordBackend } from "../../canvas/chord_backend.ts";
import { ResultWaiters } from "./waiters.ts";

const log = getLogger("redis");

/** What the Redis result backend can do. */
export const REDIS_BACKEND_CAPABILITIES: BackendCapabilities = Object.freeze({
  crossProcess: true,
  forget: true,
  pushNotify: true,
  rereadable: true,
});

/**
 * Reads a result document. Celery's minimal form `{"status": …, "result": …}`
 * is completed with the task id and nulls; anything that is not an object
 * with a string `status` is a ProtocolError naming the key.
 */
export function parseResultMeta(text: string, key: string, taskId: string): ResultMeta {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError(`The result stored in ${JSON.stringify(key)} is not JSON.`, {
      taskId,
      cause: error,
    });
  }
  const doc = value as Record<string, unknown>;
  if (typeof doc !== "object" || doc === null || typeof doc.status !== "string") {
    throw new ProtocolError(
      `The value of ${JSON.stringify(key)} is not a Celery result document: ${text.slice(0, 200)}`,
      { taskId },
    );
  }
  return {
    result: null,
    traceback: null,
    children: null,
    date_done: null,
    ...doc,
    status: doc.status,
    task_id: typeof doc.task_id === "string" ? doc.task_id : taskId,
  };
}

/** The Redis result backend. Create it with `createResultBackend`. */
export class RedisResultBackend implements ResultBackend, NativeChordBackend {
  /** The URL it was created from. */
  readonly url: string;
  /** What it can do. */
  readonly capabilities: BackendCapabilities = REDIS_BACKEND_CAPABILITIES;
  /** Key names. */
  readonly keys: ResultKeys;
  readonly #commands: RedisConnection;
  readonly #waiters: ResultWaiters;
  readonly #expires: number;
  readonly #chordOrdered: boolean;
  #closed?: Promise<void>;

  /** Wraps an open commands connection; use `createResultBackend`. */
  constructor(
    url: string,
    config: ResolvedConfig,
    options: RedisTransportOptions,
    commands: RedisConnection,
    openSubscriber: () => Promise<RedisConnection>,
  ) {
    this.url = url;
    this.keys = new ResultKeys(options.globalKeyprefix);
    this.#commands = commands;
    // Celery converts result_expires with int(): 0 (or null) means no expiry.
    this.#expires = Math.floor(config.result_expires ?? 0);
    // Celery reads it from the transport options: false keeps chord parts in a list.
    this.#chordOrdered = config.result_backend_transport_options?.result_chord_ordered !== false;
    this.#waiters = new ResultWaiters(openSubscriber, commands, (text, key) => {
      try {
        return parseResultMeta(text, key, this.keys.taskIdOf(key));
      } catch (error) {
        log.warning((error as Error).message);
        return undefined;
      }
    });
  }

  /** Subscribes to the task's result before the task is published. No reply queue. */
  prepare(taskId: string): Promise<string | undefined> {
    // Not awaited: the task is published while the SUBSCRIBE travels; waitFor
    // awaits the confirmation and then GETs, so a result stored before the
    // subscription took effect is still found. Saves a round trip per send.
    this.#waiters.watch(this.keys.task(taskId)).catch(() => {});
    return Promise.resolve(undefined);
  }

  /** Stores a state unless a SUCCESS is already stored, and publishes it to waiters. */
  async store(meta: ResultMeta, _reply: ReplyRoute): Promise<void> {
    // GET, then SETEX + PUBLISH unless SUCCESS is stored: one atomic script, one round trip.
    await this.#commands.storeResult(
      this.keys.task(meta.task_id),
      stringifyJson(meta),
      Math.max(this.#expires, 0),
    );
  }

  /** GET of the result key; undefined (PENDING) when nothing is stored. */
  async read(taskId: string): Promise<ResultMeta | undefined> {
    const key = this.keys.task(taskId);
    const text = await this.#commands.get(key);
    return text === null ? undefined : parseResultMeta(text, key, taskId);
  }

  /** Waits for a ready state: subscribe (if `prepare` did not), GET, then pub/sub. */
  async waitFor(taskId: string, options: WaitOptions): Promise<ResultMeta> {
    const { signal, timeoutMs } = options;
    signal?.throwIfAborted();
    const key = this.keys.task(taskId);
    await this.#waiters.watch(key);
    return await new Promise<ResultMeta>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        stopListening();
        signal?.removeEventListener("abort", onAbort);
        settle();
      };
      const stopListening = this.#waiters.listen(key, (meta) => finish(() => resolve(meta)));
      const onAbort = () => finish(() => reject(signal?.reason));
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => finish(() => reject(new TimeoutError())), timeoutMs);
      }
      this.read(taskId).then((meta) => {
        if (meta && READY_STATES.has(meta.status)) finish(() => resolve(meta));
      }, (error) => finish(() => reject(error)));
    });
  }

  /** Stores a chord's size (`.s`), before its last header message. */
  setChordSize(groupId: string, size: number): Promise<void> {
    return join.setChordSize(this.#commands, this.keys, this.#expires, groupId, size);
  }

  /** Counts one chord header completion (`.j`); see chord_join.ts. */
  chordPartReturn(
    groupId: string,
    part: ChordPart,
    groupIndex: number | null,
  ): Promise<ChordProgress> {
    return join.chordPartReturn(
      this.#commands,
      this.keys,
      this.#expires,
      groupId,
      part,
      groupIndex,
      this.#chordOrdered,
    );
  }

  /** Deletes a chord's join keys. */
  deleteChordKeys(groupId: string): Promise<void> {
    return join.deleteChordKeys(this.#commands, this.keys, groupId);
  }

  /** Saves a group result (`celery-taskset-meta-<gid>`). */
  saveGroup(groupId: string, results: unknown[]): Promise<void> {
    return join.saveGroup(this.#commands, this.keys, this.#expires, groupId, results);
  }

  /** Reads a saved group result's member tuples. */
  restoreGroup(groupId: string): Promise<unknown[] | undefined> {
    return join.restoreGroup(this.#commands, this.keys, groupId);
  }

  /** Deletes a saved group result. */
  deleteGroup(groupId: string): Promise<void> {
    return join.deleteGroup(this.#commands, this.keys, groupId);
  }

  /** DEL of the result key. */
  async forget(taskId: string): Promise<void> {
    await this.#commands.del([this.keys.task(taskId)]);
  }

  /** Closes the connections. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#waiters.close();
      await this.#commands.close();
    })();
    return this.#closed;
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function backendSsl(config: ResolvedConfig): Record<string, unknown> | null {
  // Celery's `redis_backend_use_ssl`, when the user set it (not a celeriac setting).
  const value = (config as unknown as Record<string, unknown>).redis_backend_use_ssl;
  return typeof value === "object" && value !== null ? value as Record<string, unknown> : null;
}

/**
 * Creates the Redis result backend for `url`, connected. Reads
 * `result_expires`, `result_backend_transport_options` (`global_keyprefix`,
 * `master_name`, `sentinel_kwargs`) and, for `rediss://`, the URL's
 * `ssl_cert_reqs` / `ssl_ca_certs` / `ssl_certfile` / `ssl_keyfile`.
 */
export async function createResultBackend(
  url: string,
  config: ResolvedConfig,
  connect: ConnectOptions = {},
): Promise<ResultBackend> {
  const options = parseTransportOptions(
    config.result_backend_transport_options ?? {},
    "result_backend_transport_options",
  );
  const target: RedisConnectOptions = parseRedisUrl(url, backendSsl(config));
  const open = (role: "commands" | "subscriber") =>
    openRedis(target, {
      role,
      connectTimeoutMs: config.broker_connection_timeout * 1000,
      masterName: options.masterName,
      sentinelPassword: options.sentinelPassword,
      purpose: "result backend",
      keepProcessAlive: connect.keepProcessAlive,
    });
  const commands = await open("commands");
  return new RedisResultBackend(url, config, options, commands, () => open("subscriber"));
}
