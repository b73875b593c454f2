/**
 * Clients waiting for results on Redis, as Celery's `ResultConsumer` does it:
 * one subscriber connection shared by every waiter, SUBSCRIBE to the result
 * key as the task is published (`prepare`; keys of one turn share one
 * SUBSCRIBE), then, once Redis confirmed it, GET to catch a result stored
 * before the subscription took effect, and after a reconnect (once the keys
 * are subscribed again) MGET of every subscribed key (a result may have been
 * published while the connection was down). Only ready states wake a waiter; a key is unsubscribed once its task
 * is ready or nobody waits for it any more.
 *
 * @module
 */

import { READY_STATES, type ResultMeta } from "../../backend/types.ts";
import type { RedisConnection } from "./facade.ts";

type Listener = (meta: ResultMeta) => void;

/** How often listened keys are read directly, in case a PUBLISH was missed. */
const SWEEP_INTERVAL_MS = 1_000;

/** Parses a stored or published result document; undefined when it is not one. */
export type ParseMeta = (text: string, key: string) => ResultMeta | undefined;

/** The subscriptions of one result backend instance. */
export class ResultWaiters {
  readonly #open: () => Promise<RedisConnection>;
  readonly #commands: RedisConnection;
  readonly #parse: ParseMeta;
  /** Subscribed keys → listeners (an empty set: prepared, nobody waiting yet). */
  readonly #keys = new Map<string, Set<Listener>>();
  /** Keys whose SUBSCRIBE is not confirmed yet → the confirmation. */
  readonly #subscribing = new Map<string, Promise<void>>();
  /** Keys to SUBSCRIBE / UNSUBSCRIBE at the end of this turn (one command each). */
  #toSubscribe?: { keys: string[]; done: PromiseWithResolvers<void> };
  #toUnsubscribe: string[] = [];
  #subscriber?: Promise<RedisConnection>;
  #closed = false;
  #sweepTimer?: ReturnType<typeof setTimeout>;

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

  /**
   * Subscribes to `key` (idempotent); resolves once Redis confirmed the
   * subscription. Keys watched in the same turn share one SUBSCRIBE.
   */
  watch(key: string): Promise<void> {
    const pending = this.#subscribing.get(key);
    if (pending) return pending;
    if (this.#keys.has(key)) return Promise.resolve();
    this.#keys.set(key, new Set());
    if (!this.#toSubscribe) {
      const batch = { keys: [] as string[], done: Promise.withResolvers<void>() };
      this.#toSubscribe = batch;
      queueMicrotask(() => this.#subscribeBatch(batch));
    }
    this.#toSubscribe.keys.push(key);
    const subscribed = this.#toSubscribe.done.promise.then(() => {
      this.#subscribing.delete(key);
    }, (error) => {
      this.#subscribing.delete(key);
      this.#keys.delete(key);
      throw error;
    });
    this.#subscribing.set(key, subscribed);
    return subscribed;
  }

  async #subscribeBatch(batch: { keys: string[]; done: PromiseWithResolvers<void> }) {
    this.#toSubscribe = undefined;
    try {
      await (await this.#connection()).subscribe(batch.keys);
      batch.done.resolve();
    } catch (error) {
      batch.done.reject(error);
    }
  }

  /** Adds a listener for ready states of `key`; returns the function that removes it. */
  listen(key: string, listener: Listener): () => void {
    let listeners = this.#keys.get(key);
    if (!listeners) this.#keys.set(key, listeners = new Set());
    listeners.add(listener);
    this.#sweepSoon();
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
    if (![...this.#keys.values()].some((listeners) => listeners.size > 0)) {
      // nobody waits: no sweep keeps the process alive
      clearTimeout(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
    if (this.#closed) return;
    if (this.#toUnsubscribe.push(key) > 1) return;
    queueMicrotask(() => {
      const keys = this.#toUnsubscribe;
      this.#toUnsubscribe = [];
      this.#subscriber?.then((c) => c.unsubscribe(keys)).catch(() => {});
    });
  }

  async #catchUp(): Promise<void> {
    const keys = [...this.#keys.keys()];
    if (keys.length === 0 || this.#closed) return;
    // ioredis reports "ready" before its automatic re-SUBSCRIBE is even sent: a
    // result stored between an immediate MGET and the re-subscription would be
    // missed by both. SUBSCRIBE again (idempotent) and wait for it, then MGET.
    const subscriber = await this.#subscriber?.catch(() => undefined);
    await subscriber?.subscribe(keys).catch(() => {});
    const texts = await this.#commands.mget(keys).catch(() => []);
    texts.forEach((text, i) => {
      const meta = text === null ? undefined : this.#parse(text, keys[i]);
      if (meta) this.#deliver(keys[i], meta);
    });
  }

  /** Closes the subscriber connection. */
  /**
   * The safety net under pub/sub: while anyone listens, one MGET a second of
   * every listened key delivers a result whose PUBLISH was not heard (a
   * re-SUBSCRIBE racing the UNSUBSCRIBE of the same key, a message lost in a
   * reconnect). One round trip a second, however many results are awaited.
   */
  #sweepSoon(): void {
    if (this.#sweepTimer !== undefined || this.#closed) return;
    const timer = setTimeout(() => {
      this.#sweepTimer = undefined;
      const keys = [...this.#keys].filter(([, listeners]) => listeners.size > 0).map(([k]) => k);
      if (keys.length === 0 || this.#closed) return;
      this.#commands.mget(keys).then((texts) => {
        texts.forEach((text, i) => {
          const meta = text === null ? undefined : this.#parse(text, keys[i]);
          if (meta) this.#deliver(keys[i], meta);
        });
      }).catch(() => {}).finally(() => {
        if ([...this.#keys.values()].some((listeners) => listeners.size > 0)) this.#sweepSoon();
      });
    }, SWEEP_INTERVAL_MS);
    this.#sweepTimer = timer;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#sweepTimer);
    this.#keys.clear();
    const subscriber = await this.#subscriber?.catch(() => undefined);
    await subscriber?.close();
  }
}
