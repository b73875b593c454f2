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

// deno-lint-ignore no-import-prefix -- inline npm: keeps mod.ts usable by URL without an import map
import { Redis } from "npm:ioredis@5.11.1";
import { maskUrl } from "../app/mask_url.ts";
import { BrokerConnectionError } from "../errors.ts";
import type { BeatLease, LeaseOptions } from "./leader_lease.ts";

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

/** Opens the lease on the Redis server of `url`. */
export async function createLease(url: string, options: LeaseOptions): Promise<BeatLease> {
  const transport = options.config?.broker_transport_options ?? {};
  const prefix = typeof transport.global_keyprefix === "string" ? transport.global_keyprefix : "";
  const keys = leaseKeys(options.name, prefix);
  const client = new Redis(url.replace(/^rediss?:\/\/\/?$/, "redis://127.0.0.1:6379"), {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    enableOfflineQueue: true,
  });
  // Each failing command rejects; acquire() reports it as "not held". The
  // last error says why a connect failed (ioredis only says "Connection is closed").
  let lastError: Error | undefined;
  client.on("error", (error: Error) => lastError = error);
  try {
    await client.connect();
  } catch (cause) {
    client.disconnect();
    const reason = lastError?.message ?? (cause as Error)?.message ?? String(cause);
    throw new BrokerConnectionError(
      `Cannot connect to ${maskUrl(url)} for the beat lease: ${reason}`,
      { cause: lastError ?? cause },
    );
  }
  const ttlMs = String(Math.round(options.ttl * 1000));
  let held = false;
  return {
    kind: "redis",
    ttl: options.ttl,
    async acquire() {
      try {
        held = await client.eval(ACQUIRE, 1, keys.leader, options.holder, ttlMs) === 1;
      } catch {
        held = false; // Redis unreachable: the key expires on its own; do not send meanwhile.
      }
      return held;
    },
    async loadState() {
      return await client.get(keys.state);
    },
    async saveState(state: string) {
      return await client.eval(SAVE, 2, keys.leader, keys.state, options.holder, state) === 1;
    },
    async close() {
      try {
        if (held) await client.eval(RELEASE, 1, keys.leader, options.holder);
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
