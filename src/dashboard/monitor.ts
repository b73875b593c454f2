/**
 * The dashboard's live picture: reads `app.events()` into a bounded
 * `State`, counts per worker, feeds the charts, asks new workers for their
 * pool and queues (one `stats` + `active_queues` broadcast for all of them),
 * and pushes batches of changes to subscribers (the SSE streams) at most
 * twice a second, so a flood of events never becomes a flood of messages.
 *
 * @module
 */

import type { Celery } from "../app/celery.ts";
import type { CeleryEvent } from "../events/event_types.ts";
import { isTaskEvent } from "../events/event_types.ts";
import { State, type TaskInfo } from "../events/state.ts";
import { getLogger } from "../log.ts";
import { type ChartPoint, Charts } from "./charts.ts";
import { type TaskView, taskView } from "./task_view.ts";
import { type WorkerView, workerView } from "./worker_view.ts";

const log = getLogger("dashboard");

/** What a stream receives: the workers, the tasks changed since the last batch, the new chart seconds. */
export interface Batch {
  /** Every known worker. */
  workers: WorkerView[];
  /** Tasks changed since the last batch, most recent last (at most `MAX_TASKS_PER_BATCH`). */
  tasks: TaskView[];
  /** Chart seconds closed since the last batch. */
  points: ChartPoint[];
  /** Events seen so far. */
  events: number;
}

/** Tasks sent in one batch at most; a busy cluster's table only shows the newest anyway. */
export const MAX_TASKS_PER_BATCH = 200;

/** What the dashboard knows of a worker from `stats` and `active_queues`. */
export interface WorkerDetails {
  /** Pool implementation. */
  pool?: string;
  /** Pool size. */
  concurrency?: number;
  /** Queue names consumed. */
  queues?: string[];
}

/** Counts per worker that events give (Flower's). */
export interface WorkerCounts {
  /** Tasks that succeeded. */
  succeeded: number;
  /** Tasks that failed. */
  failed: number;
}

/** The live state and its subscribers. */
export class Monitor {
  /** The cluster as events describe it. */
  readonly state: State;
  /** Figures over time. */
  readonly charts: Charts = new Charts();
  /** Pool and queues per worker, from `stats`/`active_queues`. */
  readonly details: Map<string, WorkerDetails> = new Map();
  /** Succeeded/failed per worker. */
  readonly counts: Map<string, WorkerCounts> = new Map();
  readonly #app: Celery;
  readonly #subscribers = new Set<(batch: Batch) => void>();
  readonly #changed = new Map<string, TaskInfo>();
  readonly #toDescribe = new Set<string>();
  readonly #asked = new Map<string, number>();
  #points: ChartPoint[] = [];
  #timer?: ReturnType<typeof setInterval>;
  #describing = false;
  readonly #stop = new AbortController();
  #done?: Promise<void>;

  /** A monitor of `app`'s cluster keeping at most `maxTasks` tasks. */
  constructor(app: Celery, maxTasks = 10_000) {
    this.#app = app;
    this.state = new State({ maxTasks });
  }

  /** Starts reading events; resolves once listening has begun. */
  start(): void {
    const stream = this.#app.events({ signal: this.#stop.signal });
    this.#done = (async () => {
      try {
        for await (const event of stream) this.apply(event);
      } catch (error) {
        if (!this.#stop.signal.aborted) {
          log.error(`event stream ended: ${(error as Error).message}`);
        }
      }
    })();
    this.#timer = setInterval(() => this.#flush(), 500);
  }

  /** Applies one event (exposed for the scale bench). */
  apply(event: CeleryEvent): void {
    const known = this.state.workers.has(event.hostname);
    const changed = this.state.event(event);
    if (isTaskEvent(event)) {
      const task = changed as TaskInfo;
      this.#changed.delete(task.uuid);
      this.#changed.set(task.uuid, task);
      if (this.#changed.size > MAX_TASKS_PER_BATCH) {
        this.#changed.delete(this.#changed.keys().next().value!);
      }
      if (event.type === "task-succeeded" || event.type === "task-failed") {
        const ok = event.type === "task-succeeded";
        this.charts.record(task.name, ok, event.runtime);
        let counts = this.counts.get(event.hostname);
        if (!counts) this.counts.set(event.hostname, counts = { succeeded: 0, failed: 0 });
        if (ok) counts.succeeded++;
        else counts.failed++;
      }
    } else if (event.type.startsWith("worker-") && event.type !== "worker-offline") {
      // Asked when first heard of, and again (every 5 s at most) until it answers.
      const asked = this.#asked.get(event.hostname) ?? 0;
      const described = this.details.get(event.hostname)?.concurrency !== undefined;
      const now = Date.now();
      if (event.type === "worker-online" || !known || (!described && now - asked > 5_000)) {
        this.#asked.set(event.hostname, now);
        this.#toDescribe.add(event.hostname);
        void this.#describe();
      }
    }
  }

  /** Children of a task (tasks whose parent it is), from the kept tasks. */
  children(id: string): TaskInfo[] {
    return [...this.state.tasks.values()].filter((task) => task.parent_id === id);
  }

  /** A worker as the pages show it. */
  worker(hostname: string): WorkerView | undefined {
    const info = this.state.workers.get(hostname);
    if (!info) return undefined;
    return workerView(info, this.state, this.details.get(hostname), this.counts.get(hostname));
  }

  /** Every worker as the pages show it. */
  workers(): WorkerView[] {
    return [...this.state.workers.keys()].map((name) => this.worker(name)!);
  }

  /** Calls `listener` with every batch until the returned function is called. */
  subscribe(listener: (batch: Batch) => void): () => void {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  }

  /** Asks for the details of every worker again (after pool grow/shrink). */
  refreshDetails(hostname?: string): Promise<void> {
    for (const name of hostname ? [hostname] : this.state.workers.keys()) {
      this.#toDescribe.add(name);
    }
    return this.#describe();
  }

  /** Stops reading events. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stop.abort();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A stream still connecting may not end at once: do not hang a shutdown on it.
    await Promise.race([this.#done, new Promise((resolve) => timer = setTimeout(resolve, 3_000))]);
    clearTimeout(timer);
  }

  #flush(): void {
    this.charts.closeBefore();
    this.#points.push(...this.charts.takeClosed());
    if (this.#subscribers.size === 0) {
      this.#changed.clear();
      this.#points = [];
      return;
    }
    const batch: Batch = {
      workers: this.workers(),
      tasks: [...this.#changed.values()].map((task) => taskView(task)),
      points: this.#points,
      events: this.state.eventCount,
    };
    this.#changed.clear();
    this.#points = [];
    for (const listener of this.#subscribers) listener(batch);
  }

  async #describe(): Promise<void> {
    if (this.#describing || this.#toDescribe.size === 0) return;
    this.#describing = true;
    const names = [...this.#toDescribe];
    this.#toDescribe.clear();
    try {
      const inspect = this.#app.control.inspect({ destination: names, timeout: 2 });
      const [stats, queues] = await Promise.all([inspect.stats(), inspect.activeQueues()]);
      for (const name of names) {
        const pool = (stats?.[name]?.pool ?? {}) as Record<string, unknown>;
        const consumed = queues?.[name];
        const details: WorkerDetails = this.details.get(name) ?? {};
        if (stats?.[name]) {
          details.pool = typeof pool.implementation === "string"
            ? pool.implementation.replace(/^.*[.:]/, "")
            : undefined;
          const size = pool["max-concurrency"];
          details.concurrency = typeof size === "number" ? size : undefined;
        }
        if (Array.isArray(consumed)) details.queues = consumed.map((q) => String(q.name));
        this.details.set(name, details);
      }
    } catch (error) {
      log.warning(`cannot ask workers for their stats: ${(error as Error).message}`);
    } finally {
      this.#describing = false;
    }
    if (this.#toDescribe.size) await this.#describe();
  }
}
