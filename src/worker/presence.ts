/**
 * What a worker shows and answers to the fleet, on the worker's main thread:
 * events (worker-online, a worker-heartbeat every 2 s, worker-offline, and
 * task events with `-E`), remote control (its pidbox queue), the revoked ids
 * (kept in the `--statedb` file, learned from other workers at start-up by
 * mingle, spec §3.9), and the Lamport clock shared with the app.
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import type { ResolvedConfig } from "../app/settings.ts";
import { maskUrl } from "../app/mask_url.ts";
import type { Broker, QueueSpec } from "../broker/types.ts";
import { EventDispatcher } from "../events/dispatcher.ts";
import { eventExchange } from "../events/topology.ts";
import type { Logger } from "../log.ts";
import type { ControlTarget } from "./control_commands.ts";
import type { Pool } from "./pool/types.ts";
import { RemoteControl } from "./remote_control.ts";
import { RevokedSet, StateFile } from "./revoked_set.ts";
import { TaskTracker } from "./task_tracker.ts";
import { loadAverage, softwareInfo } from "./worker_facts.ts";

/** Seconds between heartbeats (Celery's default `--heartbeat-interval`). */
export const HEARTBEAT_FREQUENCY = 2.0;

/** What the presence needs from its worker. */
export interface PresenceHost {
  /** The app (tasks, settings, clock, control client). */
  app: Celery;
  /** Node name. */
  hostname: string;
  /** The worker's broker. */
  broker: Broker;
  /** Resolved settings. */
  config: ResolvedConfig;
  /** The worker's logger. */
  logger: Logger;
  /** The pool (its kind and size; resized by `pool_grow` / `pool_shrink` when it can be). */
  pool: Pick<Pool, "kind" | "size" | "resize">;
  /** Task events on at start (`-E` or `worker_send_task_events`). */
  taskEvents: boolean;
  /** Ask running workers for their revoked ids at start (mingle). */
  mingle: boolean;
  /** Seconds between heartbeats (default 2). */
  heartbeatInterval?: number;
  /** Queues consumed now. */
  queues(): readonly QueueSpec[];
  /** Prefetch count now. */
  prefetchCount(): number;
  /** Starts consuming a queue; false when it already is. */
  addConsumer(queue: QueueSpec): Promise<boolean>;
  /** Stops consuming a queue; false when it was not. */
  cancelConsumer(name: string): Promise<boolean>;
  /** Sets a task's rate limit in the handler. */
  setRateLimit(name: string, perSecond: number | null): void;
  /**
   * Optional: ids were revoked (the `threads` pool passes them on to its
   * threads, and stops the threads running them when `terminate`).
   */
  revoked?(ids: string[], terminate: boolean, signal: string): string[];
  /** Optional: task events were turned on or off by remote control. */
  taskEventsChanged?(on: boolean): void;
  /** Optional: runs in progress the tracker does not hold (`threads` pool), as request-info. */
  activeElsewhere?(): Record<string, unknown>[];
  /** Optional: requests reserved or scheduled that the tracker does not hold (`threads` pool). */
  requestsElsewhere?(phase: "reserved" | "scheduled"): Promise<Record<string, unknown>[]>;
  /** Optional: runs in progress and finished, when the tracker does not see them (`threads` pool). */
  counts?(): { active: number; processed: number };
  /** Warm shutdown. */
  shutdown(): void;
}

/** Events, heartbeats, remote control and revocations of one worker. */
export class WorkerPresence {
  /** The worker's events. */
  readonly events: EventDispatcher;
  /** Held requests, revoked ids, totals. */
  readonly tracker: TaskTracker;
  readonly #host: PresenceHost;
  readonly #stateFile?: StateFile;
  readonly #startedAt = Date.now();
  readonly #rateLimits = new Map<string, string | null>();
  #remote?: RemoteControl;
  #heartbeat?: ReturnType<typeof setInterval>;

  /** Prepares; nothing is sent before `start()`. */
  constructor(host: PresenceHost) {
    this.#host = host;
    this.events = new EventDispatcher({
      broker: host.broker,
      exchange: eventExchange(host.config, host.broker.url),
      hostname: host.hostname,
      clock: host.app.clock,
      logger: host.logger,
      batchTaskEvents: true,
    });
    this.events.taskEvents = host.taskEvents;
    const revoked = new RevokedSet();
    const path = host.config.worker_state_db;
    this.#stateFile = path ? new StateFile(path, revoked, host.logger) : undefined;
    this.tracker = new TaskTracker(
      this.events,
      revoked,
      () => this.#stateFile?.saveSoon(() => host.app.clock.value),
    );
  }

  /** Loads the state file, syncs with other workers, answers control, sends worker-online. */
  async start(): Promise<void> {
    const host = this.#host;
    if (this.#stateFile) host.app.clock.adjust(await this.#stateFile.load());
    if (host.mingle) await this.#mingle();
    if (host.config.worker_enable_remote_control) {
      this.#remote = new RemoteControl(host.broker, host.config, this.#target(), host.logger);
      await this.#remote.start();
      await this.#pidboxHears();
    }
    const freq = host.heartbeatInterval ?? HEARTBEAT_FREQUENCY;
    this.events.send("worker-online", this.#heartbeatFields(freq));
    this.#heartbeat = setInterval(
      () => this.events.send("worker-heartbeat", this.#heartbeatFields(freq)),
      freq * 1000,
    );
  }

  /** Stops answering, sends worker-offline, saves the state file. */
  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    await this.#remote?.stop();
    const freq = this.#host.heartbeatInterval ?? HEARTBEAT_FREQUENCY;
    this.events.send("worker-offline", this.#heartbeatFields(freq));
    await this.events.close();
    await this.#stateFile?.save(this.#host.app.clock.value).catch((error) =>
      this.#host.logger.error(`Cannot save the state file: ${error}`)
    );
  }

  /**
   * Waits until the pidbox answers a ping from this worker, so that "ready."
   * means "answers remote control" (on Redis the subscription is made in the
   * background, and a request published before it is lost). Up to ~3 s.
   */
  async #pidboxHears(): Promise<void> {
    const { app, hostname, logger } = this.#host;
    for (let attempt = 0; attempt < 12; attempt++) {
      const replies = await app.control.broadcast("ping", {
        destination: [hostname],
        reply: true,
        timeout: 0.25,
        limit: 1,
      }).catch(() => []);
      if (replies.length) return;
    }
    logger.warning(`Remote control: ${hostname} does not hear its own ping yet.`);
  }

  #heartbeatFields(freq: number): Record<string, unknown> {
    return {
      freq,
      ...(this.#host.counts?.() ??
        { active: this.tracker.active, processed: this.tracker.processed }),
      loadavg: loadAverage(),
      ...softwareInfo(),
    };
  }

  /** Celery's mingle: `hello` to every worker, merge their revoked ids and clocks. */
  async #mingle(): Promise<void> {
    const { app, hostname, logger } = this.#host;
    logger.info("mingle: searching for neighbors");
    let replies: Record<string, unknown>[] = [];
    try {
      replies = await app.control.broadcast("hello", {
        arguments: { from_node: hostname, revoked: this.tracker.revoked.toData() },
        reply: true,
        timeout: 1,
      });
    } catch (error) {
      logger.warning(`mingle: cannot reach other workers: ${(error as Error).message}`);
      return;
    }
    const peers = replies.flatMap((reply) =>
      Object.entries(reply).filter(([node, value]) => node !== hostname && value)
    );
    if (peers.length === 0) return logger.info("mingle: all alone");
    logger.info(`mingle: sync with ${peers.length} nodes`);
    for (const [node, value] of peers) {
      const { revoked, clock } = value as { revoked?: unknown; clock?: unknown };
      this.tracker.revoked.merge(revoked);
      app.clock.adjust(clock);
      logger.debug(`mingle: processing reply from ${node}`);
    }
    logger.info("mingle: sync complete");
  }

  #target(): ControlTarget {
    const host = this.#host;
    const { app, config } = host;
    return {
      hostname: host.hostname,
      config,
      confTable: (withDefaults) => app.conf.table({ withDefaults, censored: true }),
      tracker: this.tracker,
      events: this.events,
      clock: app.clock,
      logger: host.logger,
      startedAt: this.#startedAt,
      taskNames: () => app.tasks.names(),
      taskRateLimit: (name) => {
        const task = app.tasks.get(name);
        if (!task) return undefined;
        if (this.#rateLimits.has(name)) return this.#rateLimits.get(name)!;
        return task.options.rateLimit ?? config.task_default_rate_limit ?? null;
      },
      setRateLimit: (name, perSecond) => {
        this.#rateLimits.set(name, perSecond === null ? null : `${perSecond}/s`);
        host.setRateLimit(name, perSecond);
      },
      setTimeLimits: (name, soft, hard) => this.tracker.timeLimits.set(name, { soft, hard }),
      pool: () => ({
        kind: host.pool.kind,
        size: host.pool.size,
        maxTasksPerChild: config.worker_max_tasks_per_child,
      }),
      resizePool: (n) =>
        host.pool.resize ? host.pool.resize(n) : `the ${host.pool.kind} pool cannot be resized`,
      prefetchCount: () => host.prefetchCount(),
      brokerInfo: () => brokerInfo(host.broker.url, config),
      queues: () => host.queues(),
      addConsumer: (queue) => host.addConsumer(queue),
      cancelConsumer: (name) => host.cancelConsumer(name),
      shutdown: () => host.shutdown(),
      revoked: host.revoked
        ? (ids, terminate, signal) => host.revoked!(ids, terminate, signal)
        : undefined,
      activeElsewhere: host.activeElsewhere ? () => host.activeElsewhere!() : undefined,
      requestsElsewhere: host.requestsElsewhere
        ? (phase) => host.requestsElsewhere!(phase)
        : undefined,
      taskEventsChanged: (on) => host.taskEventsChanged?.(on),
    };
  }
}

/** The `broker` block of `stats`, from the URL (password never shown). */
function brokerInfo(url: string, config: ResolvedConfig): Record<string, unknown> {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const transport = (parsed?.protocol ?? "").replace(/:$/, "");
  return {
    hostname: parsed?.hostname ?? null,
    userid: parsed?.username || null,
    virtual_host: decodeURIComponent(parsed?.pathname.replace(/^\//, "") || "/"),
    port: parsed?.port ? Number(parsed.port) : null,
    insist: false,
    ssl: config.broker_use_ssl ? true : false,
    transport,
    connect_timeout: config.broker_connection_timeout,
    transport_options: config.broker_transport_options ?? {},
    login_method: "PLAIN",
    uri_prefix: null,
    heartbeat: config.broker_heartbeat ?? null,
    failover_strategy: "round-robin",
    alternates: [],
    url: maskUrl(url),
  };
}
