/**
 * Clients waiting for results on Redis, as Celery's `ResultConsumer` does it:
 * one subscriber connection shared by every waiter, SUBSCRIBE to the result
 * key before the task is published (`prepare`), then GET to catch a result
 * stored before the subscription, and after a reconnect MGET of every
 * subscribed key (a result may have been published while the connection was
 * down). Only ready states wake a waiter; a key is unsubscribed once its task
 * is ready or nobody waits for it any more.
 *
 * @module
 */

import { READY_STATES, type ResultMeta } from "../types.ts";
import type { RedisConnection } from "../../broker/redis/facade.ts";

type Listener = (meta: ResultMeta) => void;

/** Parses a stored or published result document; undefined when it is not one. */
export type ParseMeta = (text: string, key: string) => ResultMeta | undefined;

/** The subscriptions of one result backend instance. */
export class ResultWaiters {
  readonly #open: () => Promise<RedisConnection>;
  readonly #commands: RedisConnection;
  readonly #parse: ParseMeta;
  /** Subscribed keys → listeners (an empty set: prepared, nobody waiting yet). */
  readonly #keys = new Map<string, Set<Listener>>();
  #subscriber?: Promise<RedisConnection>;
  #closed = false;

  /** `open` opens the subscriber connection (once, lazily). */
  constructor(open: () => Promise<RedisConnection>, commands: RedisConnection, parse: ParseMeta) {
    this.#open = open;
    this.#commands = commands;
    this.#parse = parse;
  }

  #connection(): Promise<RedisConnection> {
    this.#subscriber ??= this.#open().then((connection) => {
      connection.onMessage((channel, text) => {
        const meta = this.#parse(text, channel);
        if (meta) this.#deliver(channel, meta);
      });
      connection.onReconnect(() => void this.#catchUp());
      return connection;
    }).catch((error) => {
      this.#subscriber = undefined;
      throw error;
    });
    return this.#subscriber;
  }

  /** Subscribes to `key` (idempotent); resolves once Redis confirmed the subscription. */
  async watch(key: string): Promise<void> {
    if (this.#keys.has(key)) return;
    this.#keys.set(key, new Set());
    try {
      await (await this.#connection()).subscribe([key]);
    } catch (error) {
      this.#keys.delete(key);
      throw error;
    }
  }

  /** Adds a listener for ready states of `key`; returns the function that removes it. */
  listen(key: string, listener: Listener): () => void {
    let listeners = this.#keys.get(key);
    if (!listeners) this.#keys.set(key, listeners = new Set());
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#keys.get(key) === listeners) this.#drop(key);
    };
  }

  #deliver(key: string, meta: ResultMeta): void {
    if (!READY_STATES.has(meta.status)) return;
    const listeners = this.#keys.get(key);
    if (!listeners) return;
    this.#drop(key);
    for (const listener of listeners) listener(meta);
  }

  #drop(key: string): void {
    this.#keys.delete(key);
    if (this.#closed) return;
    this.#subscriber?.then((c) => c.unsubscribe([key])).catch(() => {});
  }

  async #catchUp(): Promise<void> {
    const keys = [...this.#keys.keys()];
    if (keys.length === 0 || this.#closed) return;
    const texts = await this.#commands.mget(keys).catch(() => []);
    texts.forEach((text, i) => {
      const meta = text === null ? undefined : this.#parse(text, keys[i]);
      if (meta) this.#deliver(keys[i], meta);
    });
  }

  /** Closes the subscriber connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#keys.clear();
    const subscriber = await this.#subscriber?.catch(() => undefined);
    await subscriber?.close();
  }
}
