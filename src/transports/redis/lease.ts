/**
 * The beat leader lease in Redis: a key `<prefix>celeriac.beat.<name>.leader`
 * holding the leader's id with a TTL (`SET NX PX`), renewed by the holder
 * only (a Lua check-and-`PEXPIRE`), released by the holder only. The shared
 * run state lives in `<prefix>celeriac.beat.<name>.state` and is written only
 * while the lease is held (checked in the same script), so a leader that lost
 * its lease cannot overwrite its successor's state.
 *
 * The only file that talks to ioredis for beat; it uses EVAL and QUIT.
 *
 * @module
 */

import { openRedis } from "./facade.ts";
import { parseTransportOptions } from "./options.ts";
import { parseRedisUrl } from "./url.ts";
import type { BeatLease, LeaseOptions } from "../../beat/leader_lease.ts";

const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

const SAVE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The Redis key names of a lease (exported for tests that inspect them). */
export function leaseKeys(name: string, prefix = ""): { leader: string; state: string } {
  return {
    leader: `${prefix}celeriac.beat.${name}.leader`,
    state: `${prefix}celeriac.beat.${name}.state`,
  };
}

/**
 * Opens the lease on the Redis server of `url`, through the broker's own
 * connection code: the same URL forms (`redis://`, `rediss://`,
 * `sentinel://…;sentinel://…` with `master_name`), `broker_use_ssl`,
 * `broker_transport_options` and `broker_connection_timeout` as the broker.
 */
export async function createLease(url: string, options: LeaseOptions): Promise<BeatLease> {
  const config = options.config ?? {};
  const transport = parseTransportOptions(config.broker_transport_options ?? {});
  const keys = leaseKeys(options.name, transport.globalKeyprefix);
  const connection = await openRedis(parseRedisUrl(url, config.broker_use_ssl ?? null), {
    role: "commands",
    connectTimeoutMs: (config.broker_connection_timeout ?? 4) * 1000,
    masterName: transport.masterName,
    sentinelPassword: transport.sentinelPassword,
    purpose: "beat lease",
    failFast: true,
  });
  const ttlMs = String(Math.round(options.ttl * 1000));
  let held = false;
  return {
    kind: "redis",
    ttl: options.ttl,
    async acquire() {
      try {
        held = await connection.evalScript(ACQUIRE, [keys.leader], [options.holder, ttlMs]) === 1;
      } catch {
        held = false; // Redis unreachable: the key expires on its own; do not send meanwhile.
      }
      return held;
    },
    async loadState() {
      return await connection.getString(keys.state);
    },
    async saveState(state: string) {
      return await connection.evalScript(SAVE, [keys.leader, keys.state], [
        options.holder,
        state,
      ]) ===
        1;
    },
    async close() {
      if (connection.closed) return;
      try {
        if (held) await connection.evalScript(RELEASE, [keys.leader], [options.holder]);
      } catch {
        // Unreachable: the key expires on its own after the TTL.
      } finally {
        await connection.close();
      }
    },
  };
}
