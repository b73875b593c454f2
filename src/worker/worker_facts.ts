/**
 * Facts a worker reports about itself, in Celery's shapes: the software
 * fields of worker events, load averages, `stats` (spec §3.6) and kombu's
 * description of a queue (`active_queues`).
 *
 * @module
 */

import process from "node:process";
import type { QueueSpec } from "../broker/types.ts";
import { VERSION } from "../version.ts";
import type { ControlTarget } from "./control_commands.ts";

/** `sw_ident`, `sw_ver`, `sw_sys` of worker events. */
export function softwareInfo(): { sw_ident: string; sw_ver: string; sw_sys: string } {
  const system = Deno.build.os === "linux"
    ? "Linux"
    : Deno.build.os === "darwin"
    ? "Darwin"
    : Deno.build.os === "windows"
    ? "Windows"
    : Deno.build.os;
  return { sw_ident: "celeriac", sw_ver: VERSION, sw_sys: system };
}

/** 1/5/15-minute load averages, two decimals (zeros where the system has none). */
export function loadAverage(): number[] {
  try {
    return Deno.loadavg().map((value) => Math.round(value * 100) / 100);
  } catch {
    return [0, 0, 0];
  }
}

/** kombu's description of a queue, as `active_queues` replies. */
export function describeQueue(queue: QueueSpec): Record<string, unknown> {
  const priority = queue.arguments["x-max-priority"];
  return {
    name: queue.name,
    exchange: {
      name: queue.exchange,
      type: queue.exchangeType,
      arguments: null,
      durable: queue.exchangeDurable ?? true,
      passive: false,
      auto_delete: false,
      delivery_mode: null,
      no_declare: false,
    },
    routing_key: queue.routingKey,
    queue_arguments: Object.keys(queue.arguments).length ? queue.arguments : null,
    binding_arguments: null,
    consumer_arguments: null,
    durable: queue.durable,
    exclusive: false,
    auto_delete: queue.autoDelete,
    no_ack: false,
    alias: null,
    bindings: [],
    no_declare: null,
    expires: null,
    message_ttl: null,
    max_length: null,
    max_length_bytes: null,
    max_priority: typeof priority === "number" ? priority : null,
  };
}

function resourceUsage(): Record<string, number> | "N/A" {
  try {
    const cpu = process.cpuUsage();
    return {
      utime: cpu.user / 1e6,
      stime: cpu.system / 1e6,
      maxrss: Math.round(Deno.memoryUsage().rss / 1024),
      ixrss: 0,
      idrss: 0,
      isrss: 0,
      minflt: 0,
      majflt: 0,
      nswap: 0,
      inblock: 0,
      oublock: 0,
      msgsnd: 0,
      msgrcv: 0,
      nsignals: 0,
      nvcsw: 0,
      nivcsw: 0,
    };
  } catch {
    return "N/A";
  }
}

/** The `stats` reply: totals, pid, clock (a string, as Celery), uptime, pool, broker, prefetch, rusage. */
export function workerStats(target: ControlTarget): Record<string, unknown> {
  const pool = target.pool();
  const { task_soft_time_limit: soft, task_time_limit: hard } = target.config;
  return {
    total: Object.fromEntries(target.tracker.totals),
    pid: Deno.pid,
    clock: String(target.clock.value),
    uptime: Math.floor((Date.now() - target.startedAt) / 1000),
    pool: {
      "max-concurrency": pool.size,
      processes: [Deno.pid],
      "max-tasks-per-child": pool.maxTasksPerChild,
      "put-guarded-by-semaphore": false,
      timeouts: [soft ?? 0, hard ?? 0],
      implementation: pool.kind,
    },
    broker: target.brokerInfo(),
    prefetch_count: target.prefetchCount(),
    rusage: resourceUsage(),
  };
}
