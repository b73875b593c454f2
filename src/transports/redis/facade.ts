/**
 * The one place celeriac talks to ioredis. It names only the Redis commands
 * the broker and the result backend use, so the rest of the code never sees
 * the client library, and an error from it becomes a `BrokerConnectionError`
 * that names the URL with its password masked.
 *
 * Each connection has one role: `commands` (everything that does not block),
 * `blocking` (BRPOP only — a blocked connection cannot serve other commands),
 * or `subscriber` (pub/sub only). ioredis reconnects by itself, resends
 * commands that were in flight and resubscribes channels.
 *
 * (Longer than most files: one small method per Redis command is the point.)
 *
 * @module
 */

// deno-lint-ignore no-import-prefix -- inline npm: keeps mod.ts usable by URL without an import map
import { type ChainableCommander, Redis, type RedisOptions } from "npm:ioredis@5.11.1";
import { BrokerConnectionError, ConfigurationError } from "../../errors.ts";
import { getLogger } from "../../log.ts";
import { maskRedisUrl, type RedisConnectOptions } from "./url.ts";
import { coalesceWrites, type CorkableStream } from "../write_coalescing.ts";
import { ACK_TAGS, POP_AND_RECORD, RELEASE_LOCK, RESTORE_TAG, STORE_RESULT } from "./scripts.ts";

const log = getLogger("redis");

/** What a connection is for (see the module doc). */
export type RedisRole = "commands" | "blocking" | "subscriber";

/** Options of `openRedis`. */
export interface OpenRedisOptions {
  /** The connection's role. */
  role: RedisRole;
  /** Give up connecting after this many milliseconds (`broker_connection_timeout`). */
  connectTimeoutMs: number;
  /** Sentinel: the master's name (transport option `master_name`). */
  masterName?: string;
  /** Sentinel: the sentinels' own password. */
  sentinelPassword?: string;
  /** Shown in errors: `broker` or `result backend`. */
  purpose: string;
  /** False: the idle socket does not keep the process alive (see `ConnectOptions`). */
  keepProcessAlive?: boolean;
  /**
   * Fail a command after one reconnect attempt instead of ~20 (beat's lease:
   * a leader that cannot renew must stop sending at once).
   */
  failFast?: boolean;
}

/** The commands that can be queued in a MULTI/EXEC transaction or a pipeline. */
export class RedisBatch {
  readonly #chain: ChainableCommander;
  readonly #run: <T>(work: Promise<T>) => Promise<T>;

  /** Wraps an ioredis chain; use `RedisConnection.transaction()` / `pipeline()`. */
  constructor(chain: ChainableCommander, run: <T>(work: Promise<T>) => Promise<T>) {
    this.#chain = chain;
    this.#run = run;
  }

  /** ZADD key score member. */
  zadd(key: string, score: number, member: string): this {
    this.#chain.zadd(key, score, member);
    return this;
  }
  /** HSET key field value. */
  hset(key: string, field: string, value: string): this {
    this.#chain.hset(key, field, value);
    return this;
  }
  /** ZREM key member… */
  /** SADD key member. */
  sadd(key: string, member: string): this {
    this.#chain.sadd(key, member);
    return this;
  }

  /** SREM key member… */
  srem(key: string, members: string[]): this {
    this.#chain.srem(key, ...members);
    return this;
  }

  /** ZREM key member… */
  zrem(key: string, members: string[]): this {
    this.#chain.zrem(key, ...members);
    return this;
  }
  /** HDEL key field… */
  hdel(key: string, fields: string[]): this {
    this.#chain.hdel(key, ...fields);
    return this;
  }
  /** LPUSH key value. */
  lpush(key: string, value: string): this {
    this.#chain.lpush(key, value);
    return this;
  }
  /** RPUSH key value. */
  rpush(key: string, value: string): this {
    this.#chain.rpush(key, value);
    return this;
  }
  /** LRANGE key start stop. */
  lrange(key: string, start: number, stop: number): this {
    this.#chain.lrange(key, start, stop);
    return this;
  }
  /** LLEN key. */
  llen(key: string): this {
    this.#chain.llen(key);
    return this;
  }
  /** ZCOUNT key min max. */
  zcount(key: string, min: string, max: string): this {
    this.#chain.zcount(key, min, max);
    return this;
  }
  /** ZRANGE key start stop. */
  zrange(key: string, start: number, stop: number): this {
    this.#chain.zrange(key, start, stop);
    return this;
  }
  /** GET key. */
  get(key: string): this {
    this.#chain.get(key);
    return this;
  }
  /** EXPIRE key seconds. */
  expire(key: string, seconds: number): this {
    this.#chain.expire(key, seconds);
    return this;
  }
  /** DEL key. */
  del(key: string): this {
    this.#chain.del(key);
    return this;
  }
  /** SET key value, or SETEX key seconds value when `seconds` is given. */
  set(key: string, value: string, seconds?: number): this {
    if (seconds) this.#chain.setex(key, seconds, value);
    else this.#chain.set(key, value);
    return this;
  }
  /** PUBLISH channel message. */
  publish(channel: string, message: string): this {
    this.#chain.publish(channel, message);
    return this;
  }

  /** Sends the batch; resolves with each command's reply, throws on the first error. */
  async exec(): Promise<unknown[]> {
    const replies = await this.#run(this.#chain.exec());
    if (replies === null) throw new Error("The Redis transaction was aborted.");
    return replies.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
  }
}

type ScriptCall = (keyCount: number, ...args: (string | number)[]) => Promise<unknown>;

/** One Redis connection with the commands celeriac uses. */
export class RedisConnection {
  readonly #client: Redis;
  readonly #url: string;
  readonly #purpose: string;
  #closed = false;

  /** Wraps a connected ioredis client; use `openRedis`. */
  constructor(client: Redis, url: string, purpose: string) {
    this.#client = client;
    this.#url = url;
    this.#purpose = purpose;
    client.defineCommand("celeriacPopAndRecord", { lua: POP_AND_RECORD });
    client.defineCommand("celeriacAckTags", { lua: ACK_TAGS });
    client.defineCommand("celeriacRestoreTag", { lua: RESTORE_TAG });
    client.defineCommand("celeriacReleaseLock", { lua: RELEASE_LOCK });
    client.defineCommand("celeriacStoreResult", { lua: STORE_RESULT });
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `work`, turning connection failures into a BrokerConnectionError. */
  readonly run = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await work;
    } catch (error) {
      if ((error as Error).name === "ReplyError") throw error;
      throw new BrokerConnectionError(
        `Redis ${this.#purpose} ${maskRedisUrl(this.#url)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };

  /** EVAL script with `keys` and `args` (scripts used by a few calls: beat's lease). */
  evalScript(script: string, keys: string[], args: string[]): Promise<unknown> {
    return this.run(this.#client.eval(script, keys.length, ...keys, ...args));
  }
  /** GET key. */
  getString(key: string): Promise<string | null> {
    return this.run(this.#client.get(key));
  }
  /** LPUSH key value… */
  lpush(key: string, values: string[]): Promise<number> {
    return this.run(this.#client.lpush(key, ...values));
  }
  /** RPUSH key value… */
  rpush(key: string, values: string[]): Promise<number> {
    return this.run(this.#client.rpush(key, ...values));
  }
  /** SADD key member. */
  sadd(key: string, member: string): Promise<number> {
    return this.run(this.#client.sadd(key, member));
  }
  /** SMEMBERS key. */
  /** SREM key member…: how many were removed. */
  srem(key: string, members: string[]): Promise<number> {
    return this.run(this.#client.srem(key, ...members));
  }

  smembers(key: string): Promise<string[]> {
    return this.run(this.#client.smembers(key));
  }
  /** BRPOP key… timeout: `[list, element]`, or null on timeout. */
  brpop(keys: string[], timeoutSeconds: number): Promise<[string, string] | null> {
    return this.run(this.#client.brpop(...keys, timeoutSeconds));
  }
  /** HGET key field. */
  hget(key: string, field: string): Promise<string | null> {
    return this.run(this.#client.hget(key, field));
  }
  /** ZREVRANGEBYSCORE key max min [LIMIT 0 count]: members only. */
  zrevrangebyscore(key: string, max: number, min: number, count: number | null): Promise<string[]> {
    const work = count === null
      ? this.#client.zrevrangebyscore(key, max, min)
      : this.#client.zrevrangebyscore(key, max, min, "LIMIT", 0, count);
    return this.run(work);
  }
  /** ZADD key XX score member…: refreshes scores of members that still exist. */
  zaddExisting(key: string, score: number, members: string[]): Promise<number> {
    const args = members.flatMap((member) => [score, member]);
    return this.run(this.#client.zadd(key, "XX", ...args));
  }
  /** SET key value PX ms NX: true when the lock was taken. */
  setNxPx(key: string, value: string, ms: number): Promise<boolean> {
    return this.run(this.#client.set(key, value, "PX", ms, "NX")).then((reply) => reply === "OK");
  }
  /** GET key. */
  get(key: string): Promise<string | null> {
    return this.run(this.#client.get(key));
  }
  /** MGET key… */
  mget(keys: string[]): Promise<(string | null)[]> {
    return this.run(this.#client.mget(...keys));
  }
  /** DEL key… */
  del(keys: string[]): Promise<number> {
    return this.run(this.#client.del(...keys));
  }
  /** PUBLISH channel message. */
  publish(channel: string, message: string): Promise<number> {
    return this.run(this.#client.publish(channel, message));
  }
  /** CLIENT ID of this connection. */
  clientId(): Promise<number> {
    return this.run(this.#client.client("ID"));
  }
  /** CLIENT KILL ID id: closes another connection (of a thread that is gone); false if none. */
  async clientKill(id: number): Promise<boolean> {
    return await this.run(this.#client.client("KILL", "ID", String(id))) === 1;
  }

  /** CLIENT UNBLOCK id: ends another connection's BRPOP as if it timed out; false if not blocked. */
  async clientUnblock(id: number): Promise<boolean> {
    return await this.run(this.#client.client("UNBLOCK", id)) === 1;
  }

  /** A MULTI/EXEC transaction. */
  transaction(): RedisBatch {
    return new RedisBatch(this.#client.multi(), this.run);
  }
  /** A pipeline (no MULTI). */
  pipeline(): RedisBatch {
    return new RedisBatch(this.#client.pipeline(), this.run);
  }

  /** Runs `POP_AND_RECORD` (see scripts.ts). */
  popAndRecord(keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.#script("celeriacPopAndRecord", keys, args);
  }
  /** Runs `ACK_TAGS` (see scripts.ts). */
  async ackTags(keys: string[], tags: string[]): Promise<void> {
    await this.#script("celeriacAckTags", keys, tags);
  }
  /** Runs `RESTORE_TAG` (see scripts.ts); true when the message was pushed. */
  async restoreTag(keys: string[], args: string[]): Promise<boolean> {
    return await this.#script("celeriacRestoreTag", keys, args) === 1;
  }
  /** Runs `RELEASE_LOCK` (see scripts.ts). */
  async releaseLock(key: string, token: string): Promise<void> {
    await this.#script("celeriacReleaseLock", [key], [token]);
  }

  /** Runs `STORE_RESULT` (see scripts.ts); false when a stored SUCCESS was kept. */
  async storeResult(key: string, document: string, expiresSeconds: number): Promise<boolean> {
    return await this.#script("celeriacStoreResult", [key], [document, expiresSeconds]) === 1;
  }

  #script(name: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    const call = (this.#client as unknown as Record<string, ScriptCall>)[name].bind(this.#client);
    return this.run(call(keys.length, ...keys, ...args));
  }

  /** SUBSCRIBE channel… (subscriber connections). */
  async subscribe(channels: string[]): Promise<void> {
    if (channels.length) await this.run(this.#client.subscribe(...channels));
  }
  /** UNSUBSCRIBE channel… */
  async unsubscribe(channels: string[]): Promise<void> {
    if (channels.length) await this.run(this.#client.unsubscribe(...channels));
  }
  /** PSUBSCRIBE pattern… */
  async psubscribe(patterns: string[]): Promise<void> {
    if (patterns.length) await this.run(this.#client.psubscribe(...patterns));
  }
  /** Calls `listener(channel, message)` for SUBSCRIBE and PSUBSCRIBE messages. */
  onMessage(listener: (channel: string, message: string) => void): void {
    this.#client.on("message", listener);
    this.#client.on(
      "pmessage",
      (_pattern: string, channel: string, message: string) => listener(channel, message),
    );
  }
  /** Calls `listener` each time the connection is ready again after it was lost. */
  onReconnect(listener: () => void): void {
    // Connections are handed out ready, so usually the first "ready" is past:
    // only skip it when it is still to come.
    let first = this.#client.status !== "ready";
    this.#client.on("ready", () => {
      if (first) first = false;
      else listener();
    });
  }

  /** Closes the connection (QUIT, or a hard disconnect if that fails). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // QUIT lets Redis finish what was sent; it is not waited for past CLOSE_WAIT_MS (seen hanging
    // on a subscriber connection that had reconnected after a Redis restart), nor is the end.
    if (this.#client.status === "ready") {
      await withinMs(this.#client.quit().catch(() => {}), CLOSE_WAIT_MS);
    }
    this.#client.disconnect();
    if (this.#client.status !== "end") {
      await withinMs(
        new Promise<void>((resolve) => this.#client.once("end", () => resolve())),
        CLOSE_WAIT_MS,
      );
    }
  }
}

/** Longest `close()` waits for QUIT's reply, then for the connection's end. */
const CLOSE_WAIT_MS = 1000;

/** Resolves when `work` does, or after `ms`, whichever is first. */
async function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([work, new Promise((resolve) => timer = setTimeout(resolve, ms))]);
  clearTimeout(timer);
}

function clientOptions(target: RedisConnectOptions, options: OpenRedisOptions): RedisOptions {
  const common: RedisOptions = {
    db: target.db,
    username: target.username,
    password: target.password,
    tls: target.tls,
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs,
    connectionName: `celeriac-${options.role}`,
    // Off: ioredis's auto-pipelining defers every command to a setImmediate and wraps it in a
    // pipeline; the socket's writes are already coalesced per turn (write_coalescing.ts). Measured
    // on a -P threads -c 1 drain: 4,800 → 8,400 tasks/s, 206 → 133 µs of worker CPU per task.
    enableAutoPipelining: false,
    // Blocking and subscriber connections wait out a Redis restart; the
    // commands connection fails a command after ~20 reconnect attempts.
    maxRetriesPerRequest: options.failFast ? 1 : options.role === "commands" ? 20 : null,
    retryStrategy: (times: number) => Math.min(times * 100, 2000),
  };
  if (!target.sentinels) return { ...common, host: target.host, port: target.port };
  if (!options.masterName) {
    throw new BrokerConnectionError(
      `Cannot connect to ${maskRedisUrl(target.url)}: a sentinel:// URL needs the ` +
        `"master_name" transport option.`,
    );
  }
  return {
    ...common,
    sentinels: target.sentinels,
    name: options.masterName,
    sentinelPassword: options.sentinelPassword,
    enableTLSForSentinelMode: Boolean(target.tls),
  };
}

/**
 * Selects the URL's database once more, now that the connection is ready:
 * ioredis only reports a failed SELECT as an event and then uses database 0,
 * so `redis://host/99` on a server with 16 databases would quietly share
 * database 0. Here it is a ConfigurationError naming the URL.
 */
async function checkDatabase(client: Redis, target: RedisConnectOptions): Promise<void> {
  if (target.db === 0) return;
  try {
    await client.select(target.db);
  } catch (error) {
    client.disconnect();
    throw new ConfigurationError(
      `Invalid Redis URL ${JSON.stringify(maskRedisUrl(target.url))}: database ${target.db} ` +
        `does not exist on this server (${(error as Error).message}).`,
      { cause: error },
    );
  }
}

/**
 * Opens one connection and waits until it is ready. A server that does not
 * answer within the connect timeout is a `BrokerConnectionError` naming the
 * masked URL and the cause, e.g.
 * `Cannot connect to redis://:**@host:6379/0: connect ECONNREFUSED 127.0.0.1:6379.`
 */
export async function openRedis(
  target: RedisConnectOptions,
  options: OpenRedisOptions,
): Promise<RedisConnection> {
  const client = new Redis(clientOptions(target, options));
  let lastError: Error | undefined;
  // Silent until the first connection succeeds (that failure is thrown),
  // then one warning per outage; ioredis retries in the background.
  let quiet = true;
  client.on("error", (error: Error) => {
    lastError = error;
    if (!quiet) {
      log.warning(`Redis ${options.purpose} ${maskRedisUrl(target.url)}: ${error.message}`);
    }
    quiet = true;
  });
  client.on("ready", () => quiet = false);
  // Each reconnect makes a new socket: coalesce its writes too.
  client.on("connect", () => {
    const stream = (client as unknown as { stream?: CorkableStream & { unref?: () => void } })
      .stream;
    coalesceWrites(stream, "ioredis");
    if (options.keepProcessAlive === false) stream?.unref?.();
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${options.connectTimeoutMs} ms`)),
          options.connectTimeoutMs,
        );
      }),
    ]);
  } catch (error) {
    client.disconnect();
    const cause = lastError ?? (error as Error);
    throw new BrokerConnectionError(
      `Cannot connect to ${maskRedisUrl(target.url)} (${options.purpose}): ${cause.message}.`,
      { cause },
    );
  } finally {
    clearTimeout(timer);
  }
  await checkDatabase(client, target);
  return new RedisConnection(client, target.url, options.purpose);
}
