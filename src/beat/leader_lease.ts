/**
 * The leader lease that makes beat safe to run on every replica: only the
 * beat holding the lease sends, and it shares its run state through the
 * broker so a beat that takes over continues where the leader stopped (a run
 * sent by the old leader is not sent again; a run nobody sent fires once).
 *
 * One file per broker kind, chosen by URL scheme through literal `import()`s:
 * Redis (`SET NX PX` + renewal, src/transports/redis/lease.ts), RabbitMQ (an
 * exclusive queue, src/transports/amqp/lease.ts), the embedded SQLite file (a lock
 * row with an expiry, src/transports/sqlite/lease.ts). `memory://` and an explicit
 * `"local"` use a lease held in this process.
 *
 * The leader shares each run before it publishes the task, so a successor
 * never sends a run again; a leader killed in the instant between the two
 * loses that one run instead (at most once per run, never twice).
 *
 * Bound: a leader renews every `ttl / 3` seconds; when it dies without
 * releasing, another beat takes over within `ttl + ttl / 3` seconds (default
 * ttl 30 s → 40 s). A leader that stops cleanly releases at once and the next
 * beat takes over at its next try (within `ttl / 3`).
 *
 * @module
 */

import type { ResolvedConfig } from "../app/config.ts";
import { findScheme, schemeFor, schemesFor, type Transport } from "../transports/schemes.ts";
import { ConfigurationError } from "../errors.ts";

/** A lease on "the beat that sends" for one schedule name, held in the broker. */
export interface BeatLease {
  /** What holds the lease, for logs: `redis`, `amqp`, `sqlite`, `local`. */
  readonly kind: string;
  /** Seconds a lease lasts without renewal. */
  readonly ttl: number;
  /** Takes the lease when free, renews it when held. True when this beat is the leader now. */
  acquire(): Promise<boolean>;
  /** The run state the last leader shared (a `serializeSchedule` document), or null. */
  loadState(): Promise<string | null>;
  /** Shares the run state; false (nothing written) when the lease is no longer held. */
  saveState(state: string): Promise<boolean>;
  /** Releases the lease if held and closes connections. */
  close(): Promise<void>;
}

/** Options of a lease. */
export interface LeaseOptions {
  /** Beats with the same broker and name share one lease (default: the app's main name). */
  name: string;
  /** Seconds a lease lasts without renewal (default 30). */
  ttl: number;
  /** This beat's identity in the lease (default: a random id). */
  holder: string;
  /** The broker's settings: its transport options (`global_keyprefix`…), TLS and connect timeout. */
  config?: Partial<
    Pick<
      ResolvedConfig,
      "broker_transport_options" | "broker_use_ssl" | "broker_connection_timeout"
    >
  >;
}

/** What a lease module exports. */
export type LeaseFactory = (url: string, options: LeaseOptions) => Promise<BeatLease>;

/** What holds a lease: a Redis key, a RabbitMQ queue, an SQLite row, or this process. */
export type LeaseKind = "redis" | "amqp" | "sqlite" | "local";

/** What holds the lease for each transport (`local`: this process, for `memory://` and `local://`). */
const LEASE_KIND_OF: Record<Transport, LeaseKind> = {
  redis: "redis",
  amqp: "amqp",
  sqlite: "sqlite",
  memory: "local",
};

/** Each kind's module, by literal `import()` so `deno compile` sees them. */
const LEASE_MODULES: Record<LeaseKind, () => Promise<{ createLease: LeaseFactory }>> = {
  redis: () => import("../transports/redis/lease.ts"),
  amqp: () => import("../transports/amqp/lease.ts"),
  sqlite: () => import("../transports/sqlite/lease.ts"),
  local: () => Promise.resolve({ createLease: createLocalLease }),
};

/** Broker URL schemes that have a lease (from the one scheme table, `src/transports/schemes.ts`). */
export const LEASE_SCHEMES: readonly string[] = schemesFor("lease");

/** What would hold the lease for `brokerUrl` (`redis`, `amqp`, `sqlite`, `local`), or undefined. */
export function leaseKindFor(brokerUrl: string): LeaseKind | undefined {
  const entry = findScheme(brokerUrl, "lease");
  return entry && LEASE_KIND_OF[entry.transport];
}

/**
 * The lease for a broker URL. An unknown scheme is a ConfigurationError
 * listing the supported ones.
 */
export async function createLease(
  brokerUrl: string,
  options: Partial<LeaseOptions> = {},
): Promise<BeatLease> {
  const kind = LEASE_KIND_OF[schemeFor(brokerUrl, "lease").transport];
  const ttl = options.ttl ?? 30;
  if (!Number.isFinite(ttl) || ttl <= 0) {
    throw new ConfigurationError(
      `Invalid beat leader lease TTL (setting "beat_lease_ttl"): ${ttl}. ` +
        `Accepted: seconds above 0.`,
    );
  }
  const { createLease: create } = await LEASE_MODULES[kind]();
  return await create(brokerUrl, {
    name: options.name || "celeriac",
    ttl,
    holder: options.holder ?? crypto.randomUUID(),
    config: options.config,
  });
}

const localLeases = new Map<string, { holder: string; until: number; state: string | null }>();

/** A lease held in this process (for `memory://`, whose beats can only share a process). */
export function createLocalLease(_url: string, options: LeaseOptions): Promise<BeatLease> {
  const { name, holder, ttl } = options;
  const held = () => {
    const lease = localLeases.get(name);
    return lease !== undefined && lease.holder === holder && lease.until > performance.now();
  };
  return Promise.resolve({
    kind: "local",
    ttl,
    acquire() {
      const lease = localLeases.get(name);
      if (lease && lease.holder !== holder && lease.until > performance.now()) {
        return Promise.resolve(false);
      }
      localLeases.set(name, {
        holder,
        until: performance.now() + ttl * 1000,
        state: lease?.state ?? null,
      });
      return Promise.resolve(true);
    },
    loadState: () => Promise.resolve(localLeases.get(name)?.state ?? null),
    saveState(state: string) {
      if (!held()) return Promise.resolve(false);
      localLeases.get(name)!.state = state;
      return Promise.resolve(true);
    },
    close() {
      if (held()) localLeases.get(name)!.until = 0;
      return Promise.resolve();
    },
  });
}
