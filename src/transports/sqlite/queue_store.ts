/**
 * The embedded broker's tables and the statements on them. One row of
 * `celeriac_messages` is one message in one queue. A consumer claims rows by
 * setting a lease (`reserved_until`, `reserved_by`); a row whose lease ran out
 * (its consumer died) is ready again and comes back marked redelivered.
 * Acked rows are deleted; `reject(false)` moves a row to
 * `celeriac_dead_letters`. Times are epoch milliseconds.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ExchangeType, PublishTarget, QueueSpec, WireMessage } from "../../broker/types.ts";
import { openEmbeddedDatabase } from "./database.ts";
import { type Binding, routeMessage } from "../exchange_routing.ts";

const MESSAGE_COLUMNS =
  `queue TEXT NOT NULL, priority INTEGER NOT NULL, visible_at INTEGER NOT NULL,
  reserved_until INTEGER, reserved_by TEXT, redelivered INTEGER NOT NULL DEFAULT 0,
  exchange TEXT NOT NULL, routing_key TEXT NOT NULL, headers TEXT NOT NULL,
  properties TEXT NOT NULL, content_type TEXT NOT NULL, content_encoding TEXT NOT NULL,
  body BLOB NOT NULL`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS celeriac_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT, ${MESSAGE_COLUMNS});
CREATE INDEX IF NOT EXISTS celeriac_messages_order ON celeriac_messages (queue, priority DESC, id);
CREATE INDEX IF NOT EXISTS celeriac_messages_holder ON celeriac_messages (reserved_by)
  WHERE reserved_by IS NOT NULL;
CREATE TABLE IF NOT EXISTS celeriac_dead_letters (
  id INTEGER PRIMARY KEY, ${MESSAGE_COLUMNS}, dead_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS celeriac_bindings (
  exchange TEXT NOT NULL, exchange_type TEXT NOT NULL, routing_key TEXT NOT NULL,
  queue TEXT NOT NULL, PRIMARY KEY (exchange, routing_key, queue))`;

/** A claimed message row. */
export interface MessageRow {
  id: number;
  queue: string;
  priority: number;
  redelivered: number;
  exchange: string;
  routing_key: string;
  headers: string;
  properties: string;
  content_type: string;
  content_encoding: string;
  body: Uint8Array;
}

/** Whether a row is ready at `now`: visible and not under a live lease. */
const READY = "visible_at <= :now AND (reserved_until IS NULL OR reserved_until < :now)";

/** Prepared statements over the broker tables of one connection. */
export class QueueStore {
  /** The connection. */
  readonly db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #bindings: StatementSync;
  readonly #bind: StatementSync;
  readonly #claim: StatementSync;
  readonly #renew: StatementSync;
  readonly #releaseAll: StatementSync;
  readonly #delete: StatementSync;
  readonly #release: StatementSync;
  readonly #bury: StatementSync;
  readonly #count: StatementSync;
  readonly #purge: StatementSync;
  readonly #nextVisible: StatementSync;
  readonly #dataVersion: StatementSync;

  /** Opens the file of `url` and prepares the statements. */
  constructor(url: string) {
    this.db = openEmbeddedDatabase(url, SCHEMA);
    const sql = (text: string) => this.db.prepare(text);
    this.#insert = sql(`INSERT INTO celeriac_messages (queue, priority, visible_at, exchange,
      routing_key, headers, properties, content_type, content_encoding, body)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#bindings = sql(`SELECT exchange_type, routing_key, queue FROM celeriac_bindings
      WHERE exchange = ?`);
    this.#bind = sql(`INSERT OR IGNORE INTO celeriac_bindings VALUES (?, ?, ?, ?)`);
    this.#claim = sql(`UPDATE celeriac_messages SET reserved_until = :until, reserved_by = :by,
      redelivered = CASE WHEN reserved_until IS NULL THEN redelivered ELSE 1 END
      WHERE id IN (SELECT id FROM celeriac_messages WHERE queue = :queue AND ${READY}
        ORDER BY priority DESC, id LIMIT :limit)
      RETURNING id, queue, priority, redelivered, exchange, routing_key, headers, properties,
        content_type, content_encoding, body`);
    this.#renew = sql(`UPDATE celeriac_messages SET reserved_until = ? WHERE reserved_by = ?`);
    this.#releaseAll = sql(`UPDATE celeriac_messages SET reserved_until = NULL,
      reserved_by = NULL, redelivered = 1 WHERE reserved_by = ?`);
    this.#delete = sql(`DELETE FROM celeriac_messages WHERE id = ? AND reserved_by = ?`);
    this.#release = sql(`UPDATE celeriac_messages SET reserved_until = NULL, reserved_by = NULL,
      redelivered = max(redelivered, ?) WHERE id = ? AND reserved_by = ?`);
    this.#bury = sql(`INSERT INTO celeriac_dead_letters SELECT *, ? FROM celeriac_messages
      WHERE id = ? AND reserved_by = ?`);
    this.#count = sql(`SELECT count(*) AS n FROM celeriac_messages WHERE queue = :queue
      AND ${READY}`);
    this.#purge = sql(`DELETE FROM celeriac_messages WHERE queue = :queue
      AND (reserved_until IS NULL OR reserved_until < :now)`);
    this.#nextVisible = sql(`SELECT min(visible_at) AS at FROM celeriac_messages
      WHERE queue = ? AND reserved_until IS NULL AND visible_at > ?`);
    this.#dataVersion = sql(`PRAGMA data_version`);
  }

  /** Records the binding of a declared queue (the default exchange needs none). */
  declare(spec: QueueSpec): void {
    if (spec.exchange === "") return;
    this.#bind.run(spec.exchange, spec.exchangeType, spec.routingKey, spec.name);
  }

  /** Inserts the message into every queue its target routes to; returns those queues. */
  insert(message: WireMessage, target: PublishTarget): string[] {
    let queues = [target.routingKey];
    if (target.exchange !== "") {
      const rows = this.#bindings.all(target.exchange) as unknown as {
        exchange_type: ExchangeType;
        routing_key: string;
        queue: string;
      }[];
      const bindings: Binding[] = rows.map((r) => ({ queue: r.queue, routingKey: r.routing_key }));
      queues = routeMessage(target.exchange, rows[0]?.exchange_type, bindings, target.routingKey);
    }
    const headers = JSON.stringify(message.headers);
    const properties = JSON.stringify(message.properties);
    const visibleAt = target.deliverAt?.getTime() ?? 0;
    for (const queue of queues) {
      this.#insert.run(
        queue,
        message.properties.priority ?? 0,
        visibleAt,
        target.exchange,
        target.routingKey,
        headers,
        properties,
        message.contentType,
        message.contentEncoding,
        message.body,
      );
    }
    return queues;
  }

  /** Claims up to `limit` ready rows of `queue` for `holder` until `until`; most urgent first. */
  claim(queue: string, holder: string, limit: number, now: number, until: number): MessageRow[] {
    const rows = this.#claim.all({
      until,
      by: holder,
      queue,
      now,
      limit,
    }) as unknown as MessageRow[];
    return rows.sort((a, b) => b.priority - a.priority || a.id - b.id);
  }

  /** Extends every lease `holder` has to `until`. */
  renew(holder: string, until: number): void {
    this.#renew.run(until, holder);
  }

  /** Makes every row `holder` holds ready again, marked redelivered; returns how many. */
  releaseAll(holder: string): number {
    return Number(this.#releaseAll.run(holder).changes);
  }

  /** Deletes an acked row (nothing happens if `holder` lost it). */
  ack(id: number, holder: string): void {
    this.#delete.run(id, holder);
  }

  /** Makes a held row ready again; `redelivered` marks it as handed out before. */
  release(id: number, holder: string, redelivered: boolean): void {
    this.#release.run(redelivered ? 1 : 0, id, holder);
  }

  /** Moves a held row to the dead letters. */
  deadLetter(id: number, holder: string, now: number): void {
    this.#bury.run(now, id, holder);
    this.#delete.run(id, holder);
  }

  /** Ready rows of a queue. */
  count(queue: string, now: number): number {
    return Number((this.#count.get({ queue, now }) as { n: number }).n);
  }

  /** Deletes every row of a queue nobody holds (delayed ones too); returns how many. */
  purge(queue: string, now: number): number {
    return Number(this.#purge.run({ queue, now }).changes);
  }

  /** When the earliest delayed row of `queue` becomes visible, if any. */
  nextVisibleAt(queue: string, now: number): number | undefined {
    const row = this.#nextVisible.get(queue, now) as { at: number | null };
    return row.at ?? undefined;
  }

  /** Changes whenever another connection commits (cheap change detection for polling). */
  dataVersion(): number {
    return Number((this.#dataVersion.get() as { data_version: number }).data_version);
  }
}
