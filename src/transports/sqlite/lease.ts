/**
 * The beat leader lease in the embedded SQLite file (`sqlite:///path`): one
 * row of the table `celeriac_beat_lease` per lease name, holding the
 * leader's id, an expiry (epoch milliseconds) and the shared run state. A
 * beat takes the row when it is free or expired and renews it while it
 * holds it, in one `INSERT … ON CONFLICT DO UPDATE … WHERE` statement, so
 * SQLite's write lock makes take-over atomic between processes. Expiry uses
 * the wall clock, which every process on the host shares.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { BrokerConnectionError } from "../../errors.ts";
import { createOwnerOnly } from "./database.ts";
import { sqliteFilePath } from "./location.ts";
import type { BeatLease, LeaseOptions } from "../../beat/leader_lease.ts";

/** Opens the lease in the SQLite file of `url`. */
export function createLease(url: string, options: LeaseOptions): Promise<BeatLease> {
  let db: DatabaseSync;
  try {
    // The broker's own reading of the URL: `sqlite://` alone is the embedded default file (it
    // was a private temporary database, so every beat led).
    const path = sqliteFilePath(url);
    createOwnerOnly(path);
    db = new DatabaseSync(path);
    db.exec(`PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS celeriac_beat_lease (
        name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL, state TEXT)`);
  } catch (cause) {
    throw new BrokerConnectionError(`Cannot open ${url} for the beat lease: ${cause}`, { cause });
  }
  const take = db.prepare(
    `INSERT INTO celeriac_beat_lease (name, holder, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE celeriac_beat_lease.holder = excluded.holder OR celeriac_beat_lease.expires_at < ?`,
  );
  const read = db.prepare(`SELECT state FROM celeriac_beat_lease WHERE name = ?`);
  const write = db.prepare(
    `UPDATE celeriac_beat_lease SET state = ? WHERE name = ? AND holder = ? AND expires_at >= ?`,
  );
  const release = db.prepare(
    `UPDATE celeriac_beat_lease SET expires_at = 0 WHERE name = ? AND holder = ?`,
  );
  const { name, holder } = options;
  const ttlMs = Math.round(options.ttl * 1000);
  let closed = false;
  return Promise.resolve({
    kind: "sqlite",
    ttl: options.ttl,
    acquire() {
      try {
        const now = Date.now();
        return Promise.resolve(Number(take.run(name, holder, now + ttlMs, now).changes) === 1);
      } catch {
        return Promise.resolve(false); // busy for longer than busy_timeout: not the leader now
      }
    },
    loadState() {
      const row = read.get(name) as { state: string | null } | undefined;
      return Promise.resolve(row?.state ?? null);
    },
    saveState(state: string) {
      return Promise.resolve(Number(write.run(state, name, holder, Date.now()).changes) === 1);
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      try {
        release.run(name, holder);
      } finally {
        db.close();
      }
      return Promise.resolve();
    },
  });
}
