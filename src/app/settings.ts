/**
 * Celery's setting names, their types and their Celery defaults. This file is
 * the one list of settings celeriac knows; `config.ts` validates against it.
 * (Longer than most files: it is data, one documented field per setting.)
 *
 * @module
 */

import type { ExchangeType } from "../broker/types.ts";

/** A queue as configured in `task_queues` (a TypeScript analog of kombu's `Queue`). */
export interface QueueOptions {
  /** Queue name. */
  name: string;
  /** Exchange name (default: the queue name). */
  exchange?: string;
  /** Exchange type (default `direct`). */
  exchangeType?: ExchangeType;
  /** Binding key (default: the queue name). */
  routingKey?: string;
  /** Default true. */
  durable?: boolean;
  /** Default false. */
  autoDelete?: boolean;
  /** `x-max-priority`. */
  maxPriority?: number;
  /** `x-queue-type` such as `quorum`. */
  queueType?: "classic" | "quorum";
  /** Other declaration arguments. */
  arguments?: Record<string, unknown>;
}

/** Where `task_routes` sends a task. */
export interface RouteOptions {
  /** Target queue. */
  queue?: string;
  /** Exchange to publish to. */
  exchange?: string;
  /** Routing key. */
  routing_key?: string;
  /** Priority. */
  priority?: number;
}

/** One `beat_schedule` entry. The schedule is seconds or a schedule object from `src/beat/`. */
export interface BeatScheduleEntry {
  /** Task name. */
  task: string;
  /** Seconds, or a schedule object (`crontab(...)`, `interval(...)`). */
  schedule: number | {
    isDue(lastRunAt: Date, now: Date): { isDue: boolean; nextInSeconds: number };
  };
  /** Positional arguments. */
  args?: unknown[];
  /** Keyword arguments. */
  kwargs?: Record<string, unknown>;
  /** Call options (`queue`, `priority`, `expires`, …). */
  options?: Record<string, unknown>;
}

/** Every setting celeriac reads, under Celery's names, with Celery's defaults. */
export interface CelerySettings {
  /** Broker URL; unset means the embedded default. */
  broker_url: string | null;
  /** Extra options for the broker transport (`visibility_timeout`, `global_keyprefix`, …). */
  broker_transport_options: Record<string, unknown>;
  /** Retry connecting when the connection is lost. */
  broker_connection_retry: boolean;
  /** Retry connecting at start-up; null follows `broker_connection_retry`. */
  broker_connection_retry_on_startup: boolean | null;
  /** Attempts before giving up; null retries forever. */
  broker_connection_max_retries: number | null;
  /** Seconds to wait for a connection. */
  broker_connection_timeout: number;
  /** AMQP heartbeat seconds. */
  broker_heartbeat: number;
  /** TLS options for `amqps://` / `rediss://`. */
  broker_use_ssl: Record<string, unknown> | boolean | null;
  /** Result backend URL; unset means none, or the embedded default when nothing is configured. */
  result_backend: string | null;
  /** Options for the result backend transport. */
  result_backend_transport_options: Record<string, unknown>;
  /** Serializer for task messages (only `json`). */
  task_serializer: string;
  /** Serializer for results (only `json`). */
  result_serializer: string;
  /** Content types workers accept. */
  accept_content: string[];
  /** Content types clients accept for results. */
  result_accept_content: string[] | null;
  /** Seconds results are kept; null keeps them forever. Default one day. */
  result_expires: number | null;
  /** Store name, args, kwargs, worker, retries and queue with results. */
  result_extended: boolean;
  /** rpc replies are persistent messages. */
  result_persistent: boolean;
  /** Chord results are ordered by group index. */
  result_chord_ordered: boolean;
  /** Seconds between `celery.chord_unlock` checks (backends without a native chord join). */
  result_chord_retry_interval: number;
  /** Default queue name. */
  task_default_queue: string;
  /** Default exchange (default: the default queue's name). */
  task_default_exchange: string | null;
  /** Default exchange type. */
  task_default_exchange_type: ExchangeType;
  /** Default routing key (default: the default queue's name). */
  task_default_routing_key: string | null;
  /** Default message priority. */
  task_default_priority: number | null;
  /** `persistent` (2) or `transient` (1). */
  task_default_delivery_mode: "persistent" | "transient" | 1 | 2;
  /** `classic` or `quorum` for the default queue (Celery 5.5). */
  task_default_queue_type: "classic" | "quorum";
  /** Declared queues. */
  task_queues: QueueOptions[] | null;
  /** Routes by task name or glob. */
  task_routes: Record<string, RouteOptions | string> | null;
  /** `x-max-priority` for every declared queue. */
  task_queue_max_priority: number | null;
  /** Create queues named at call time that are not in `task_queues`. */
  task_create_missing_queues: boolean;
  /** Ack after the task ran rather than before. */
  task_acks_late: boolean;
  /** With acks_late, ack failures and time-outs too. */
  task_acks_on_failure_or_timeout: boolean;
  /** Requeue a task whose worker thread died. */
  task_reject_on_worker_lost: boolean;
  /** Store STARTED when a task starts. */
  task_track_started: boolean;
  /** Store no results by default. */
  task_ignore_result: boolean;
  /** Store errors of ignore_result tasks. */
  task_store_errors_even_if_ignored: boolean;
  /** Hard time limit in seconds. */
  task_time_limit: number | null;
  /** Soft time limit in seconds. */
  task_soft_time_limit: number | null;
  /** Run tasks in-process when called. */
  task_always_eager: boolean;
  /** Eager tasks rethrow errors. */
  task_eager_propagates: boolean;
  /** Retry publishing on connection errors. */
  task_publish_retry: boolean;
  /** Publish retry policy. */
  task_publish_retry_policy: {
    max_retries: number;
    interval_start: number;
    interval_step: number;
    interval_max: number;
  };
  /** Default rate limit (`"10/m"`), null for none. */
  task_default_rate_limit: string | null;
  /** Default retry delay in seconds (Celery's per-task default). */
  task_default_retry_delay: number;
  /** Default maximum retries (Celery's per-task default). */
  task_max_retries: number | null;
  /** Send `task-sent` events. */
  task_send_sent_event: boolean;
  /** Worker threads (or concurrent slots) in the pool; null = number of CPUs. */
  worker_concurrency: number | null;
  /** Prefetch = concurrency × this. */
  worker_prefetch_multiplier: number;
  /** Recycle a worker thread after this many tasks. */
  worker_max_tasks_per_child: number | null;
  /** Recycle a worker thread above this resident memory (KiB). */
  worker_max_memory_per_child: number | null;
  /**
   * celeriac's own: the longest time, in seconds, a message waiting for its
   * ETA is held unacked before it is sent again (RabbitMQ) or parked in the
   * broker (embedded SQLite, memory); null = the broker's default (900 on
   * RabbitMQ, half its default `consumer_timeout`; 60 on SQLite and memory;
   * unbounded on Redis). Set it below your RabbitMQ `consumer_timeout`.
   */
  worker_eta_hold_limit: number | null;
  /**
   * celeriac's own: the largest message body, in bytes, a worker accepts, as
   * received and after decompression (inflation stops at the limit). A
   * message over it is rejected as malformed. Default 64 MiB.
   */
  worker_max_message_size: number;
  /**
   * celeriac's own: the deepest nesting of arrays and objects a worker
   * accepts in a message's body or headers; a deeper message is rejected as
   * malformed before it is parsed. Default 256.
   */
  worker_max_message_depth: number;
  /**
   * Pool: `threads` (default: threads that each consume, run and ack their
   * own tasks; `workers` on `memory://` and the embedded SQLite broker),
   * `workers` (the main thread consumes
   * and hands each task to a thread), `async`, `solo`.
   */
  worker_pool: "workers" | "threads" | "async" | "solo";
  /** Send task events. */
  worker_send_task_events: boolean;
  /** Answer remote control (`celery inspect`, `celery control`); off = no pidbox queue. */
  worker_enable_remote_control: boolean;
  /**
   * celeriac's own: the remote control commands this worker answers; null =
   * all. Inspect commands are harmless; leave out `shutdown`, `pool_grow`,
   * `rate_limit`, `revoke`, … to refuse them (the reply is an error).
   */
  worker_control_allow: string[] | null;
  /** File the revoked task ids are kept in across restarts (`--statedb`); null = memory only. */
  worker_state_db: string | null;
  /** Namespace of the remote control exchanges (`<name>.pidbox`, `reply.<name>.pidbox`). */
  control_exchange: string;
  /** Seconds a control message waits in a worker's pidbox queue (`x-message-ttl`). */
  control_queue_ttl: number;
  /** Seconds an unused pidbox queue lives (`x-expires`). */
  control_queue_expires: number;
  /** Name of the events exchange. */
  event_exchange: string;
  /** Prefix of an event receiver's queue name. */
  event_queue_prefix: string;
  /** Seconds an event waits in a receiver's queue (`x-message-ttl`). */
  event_queue_ttl: number;
  /** Seconds an unused receiver queue lives (`x-expires`). */
  event_queue_expires: number;
  /** Ignore rate limits. */
  worker_disable_rate_limits: boolean;
  /** Time zone name. */
  timezone: string | null;
  /** Use UTC internally. */
  enable_utc: boolean;
  /** Periodic tasks. */
  beat_schedule: Record<string, BeatScheduleEntry>;
  /** File beat keeps last-run times in. */
  beat_schedule_filename: string;
  /** Longest sleep of beat's loop, in seconds. */
  beat_max_loop_interval: number;
  /** celeriac: seconds beat's leader lease lasts unrenewed; take-over within 4/3 of it. */
  beat_lease_ttl: number;
  /** Modules to import when a worker starts. */
  imports: string[];
  /** More modules to import when a worker starts. */
  include: string[];
}

/**
 * The constructor's `config`: Celery's settings by name, so that a typo is a
 * type error (`task_serialiser` — did you mean `task_serializer`?), plus
 * UPPERCASE keys: Celery's old names (`BROKER_URL`) and the user's own.
 */
export type CeleryConfig = Partial<CelerySettings> & { [key: Uppercase<string>]: unknown };

/** The validated, frozen settings every component reads. */
export type ResolvedConfig = Readonly<CelerySettings>;

/** Celery's defaults. */
export const DEFAULT_SETTINGS: ResolvedConfig = Object.freeze({
  broker_url: null,
  broker_transport_options: {},
  broker_connection_retry: true,
  broker_connection_retry_on_startup: true,
  broker_connection_max_retries: 100,
  broker_connection_timeout: 4,
  broker_heartbeat: 120,
  broker_use_ssl: null,
  result_backend: null,
  result_backend_transport_options: {},
  task_serializer: "json",
  result_serializer: "json",
  accept_content: ["json"],
  result_accept_content: null,
  result_expires: 86400,
  result_extended: false,
  result_persistent: false,
  result_chord_ordered: true,
  result_chord_retry_interval: 1,
  task_default_queue: "celery",
  task_default_exchange: null,
  task_default_exchange_type: "direct",
  task_default_routing_key: null,
  task_default_priority: null,
  task_default_delivery_mode: "persistent",
  task_default_queue_type: "classic",
  task_queues: null,
  task_routes: null,
  task_queue_max_priority: null,
  task_create_missing_queues: true,
  task_acks_late: false,
  task_acks_on_failure_or_timeout: true,
  task_reject_on_worker_lost: false,
  task_track_started: false,
  task_ignore_result: false,
  task_store_errors_even_if_ignored: false,
  task_time_limit: null,
  task_soft_time_limit: null,
  task_always_eager: false,
  task_eager_propagates: false,
  task_publish_retry: true,
  task_publish_retry_policy: {
    max_retries: 3,
    interval_start: 0,
    interval_step: 0.2,
    interval_max: 1,
  },
  task_default_rate_limit: null,
  task_default_retry_delay: 180,
  task_max_retries: 3,
  task_send_sent_event: false,
  worker_concurrency: null,
  worker_prefetch_multiplier: 4,
  worker_max_tasks_per_child: null,
  worker_max_memory_per_child: null,
  worker_eta_hold_limit: null,
  worker_max_message_size: 64 * 1024 * 1024,
  worker_max_message_depth: 256,
  worker_pool: "threads",
  worker_send_task_events: false,
  worker_enable_remote_control: true,
  worker_control_allow: null,
  worker_state_db: null,
  control_exchange: "celery",
  control_queue_ttl: 300,
  control_queue_expires: 10,
  event_exchange: "celeryev",
  event_queue_prefix: "celeryev",
  event_queue_ttl: 5,
  event_queue_expires: 60,
  worker_disable_rate_limits: false,
  timezone: null,
  enable_utc: true,
  beat_schedule: {},
  beat_schedule_filename: "celerybeat-schedule.json",
  beat_max_loop_interval: 300,
  beat_lease_ttl: 30,
  imports: [],
  include: [],
});

/** Pre-4.0 uppercase names and the new names they map to (Celery's table). */
export const OLD_SETTING_NAMES: Readonly<Record<string, keyof CelerySettings>> = Object.freeze({
  BROKER_URL: "broker_url",
  BROKER_TRANSPORT_OPTIONS: "broker_transport_options",
  BROKER_CONNECTION_RETRY: "broker_connection_retry",
  BROKER_CONNECTION_MAX_RETRIES: "broker_connection_max_retries",
  BROKER_CONNECTION_TIMEOUT: "broker_connection_timeout",
  BROKER_HEARTBEAT: "broker_heartbeat",
  BROKER_USE_SSL: "broker_use_ssl",
  CELERY_RESULT_BACKEND: "result_backend",
  CELERY_RESULT_SERIALIZER: "result_serializer",
  CELERY_TASK_SERIALIZER: "task_serializer",
  CELERY_ACCEPT_CONTENT: "accept_content",
  CELERY_RESULT_ACCEPT_CONTENT: "result_accept_content",
  CELERY_TASK_RESULT_EXPIRES: "result_expires",
  CELERY_RESULT_PERSISTENT: "result_persistent",
  CELERY_DEFAULT_QUEUE: "task_default_queue",
  CELERY_DEFAULT_EXCHANGE: "task_default_exchange",
  CELERY_DEFAULT_EXCHANGE_TYPE: "task_default_exchange_type",
  CELERY_DEFAULT_ROUTING_KEY: "task_default_routing_key",
  CELERY_DEFAULT_DELIVERY_MODE: "task_default_delivery_mode",
  CELERY_QUEUES: "task_queues",
  CELERY_ROUTES: "task_routes",
  CELERY_QUEUE_MAX_PRIORITY: "task_queue_max_priority",
  CELERY_CREATE_MISSING_QUEUES: "task_create_missing_queues",
  CELERY_ACKS_LATE: "task_acks_late",
  CELERY_REJECT_ON_WORKER_LOST: "task_reject_on_worker_lost",
  CELERY_TRACK_STARTED: "task_track_started",
  CELERY_IGNORE_RESULT: "task_ignore_result",
  CELERY_STORE_ERRORS_EVEN_IF_IGNORED: "task_store_errors_even_if_ignored",
  CELERYD_TASK_TIME_LIMIT: "task_time_limit",
  CELERYD_TASK_SOFT_TIME_LIMIT: "task_soft_time_limit",
  CELERY_ALWAYS_EAGER: "task_always_eager",
  CELERY_EAGER_PROPAGATES_EXCEPTIONS: "task_eager_propagates",
  CELERY_TASK_PUBLISH_RETRY: "task_publish_retry",
  CELERY_TASK_PUBLISH_RETRY_POLICY: "task_publish_retry_policy",
  CELERY_DEFAULT_RATE_LIMIT: "task_default_rate_limit",
  CELERY_SEND_TASK_SENT_EVENT: "task_send_sent_event",
  CELERYD_CONCURRENCY: "worker_concurrency",
  CELERYD_PREFETCH_MULTIPLIER: "worker_prefetch_multiplier",
  CELERYD_MAX_TASKS_PER_CHILD: "worker_max_tasks_per_child",
  CELERYD_MAX_MEMORY_PER_CHILD: "worker_max_memory_per_child",
  CELERYD_POOL: "worker_pool",
  CELERY_SEND_EVENTS: "worker_send_task_events",
  CELERY_DISABLE_RATE_LIMITS: "worker_disable_rate_limits",
  CELERY_TIMEZONE: "timezone",
  CELERY_ENABLE_UTC: "enable_utc",
  CELERYBEAT_SCHEDULE: "beat_schedule",
  CELERYBEAT_SCHEDULE_FILENAME: "beat_schedule_filename",
  CELERYBEAT_MAX_LOOP_INTERVAL: "beat_max_loop_interval",
  CELERY_IMPORTS: "imports",
  CELERY_INCLUDE: "include",
});
