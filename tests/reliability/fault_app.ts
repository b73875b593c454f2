/**
 * The tasks the reliability tests run. Every task that matters for counting
 * appends one line per run to `<dir>/runs.log` (appends of one short line are
 * atomic, so Web Workers and worker processes can share the file), so a
 * test counts executions, not just results.
 *
 * `registerFaultTasks(app)` registers them on any app: a test's own app (the
 * main thread looks tasks up by name) and the exported `app`, which Web
 * Workers import (`appLocation`) and worker subprocesses load (`-A`). A
 * subprocess reads its settings from `FAULT_APP_CONFIG` (JSON).
 *
 * @module
 */

import { Celery } from "../../mod.ts";
import type { BoundTask } from "../../src/task/task.ts";

/** Identifies the Web Worker (or process) that imported this module. */
export const EXECUTOR_ID: string = crypto.randomUUID();

const kept: unknown[] = [];

/** Appends `<id> <retries> <executor> <what>` to `<dir>/runs.log`. */
export function recordRun(dir: string, self: BoundTask, what = "run"): void {
  const line = `${self.request.id} ${self.request.retries} ${EXECUTOR_ID} ${what}\n`;
  Deno.writeTextFileSync(`${dir}/runs.log`, line, { append: true });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A test error for autoretry. */
export class FlakyError extends Error {
  /** Creates it. */
  constructor(message: string) {
    super(message);
    this.name = "FlakyError";
  }
}

/** Registers the fault tasks on `app` and returns it. */
export function registerFaultTasks(app: Celery): Celery {
  app.task(function add(x: number, y: number) {
    return x + y;
  }, { name: "fault.add" });

  app.task(async function record(self: BoundTask, dir: string, ms = 0) {
    recordRun(dir, self, "start");
    if (ms > 0) await sleep(ms);
    recordRun(dir, self);
    return self.request.id;
  }, { name: "fault.record", bind: true });

  app.task(async function recordLate(self: BoundTask, dir: string, ms = 0) {
    recordRun(dir, self, "start");
    if (ms > 0) await sleep(ms);
    recordRun(dir, self);
    return self.request.id;
  }, { name: "fault.record_late", bind: true, acksLate: true });

  app.task(function delivery(self: BoundTask, dir: string) {
    const { redelivered } = self.request.deliveryInfo;
    recordRun(dir, self, `delivery ${redelivered}`);
    return redelivered;
  }, { name: "fault.delivery", bind: true });

  app.task(function stamp(self: BoundTask, dir: string) {
    recordRun(dir, self, `at ${Date.now()}`);
    return Date.now();
  }, { name: "fault.stamp", bind: true });

  app.task(function busy(self: BoundTask, dir: string) {
    recordRun(dir, self, "start");
    while (true) { /* a CPU-bound loop only termination can stop */ }
  }, { name: "fault.busy", bind: true });

  app.task(async function soft(self: BoundTask, catchIt: boolean) {
    try {
      await sleep(60_000, self.signal);
    } catch (error) {
      if (catchIt) return `soft-caught: ${(error as Error).name}`;
      throw error;
    }
  }, { name: "fault.soft", bind: true });

  app.task(function oomOnce(self: BoundTask, dir: string) {
    recordRun(dir, self, "start");
    const marker = `${dir}/${self.request.id}.oom`;
    if (!exists(marker)) {
      Deno.writeTextFileSync(marker, "oom");
      const hog: number[][] = [];
      while (true) hog.push(new Array(1_000_000).fill(1.5)); // V8 out of memory ends the process
    }
    recordRun(dir, self);
    return "survived";
  }, { name: "fault.oom_once", bind: true, acksLate: true });

  const exitOnce = (self: BoundTask, dir: string, how: "exit" | "throw-later") => {
    recordRun(dir, self, "start");
    const marker = `${dir}/${self.request.id}.died`;
    if (!exists(marker)) {
      Deno.writeTextFileSync(marker, how);
      if (how === "exit") Deno.exit(3);
      setTimeout(() => {
        throw new Error("thrown later, outside the task");
      }, 0);
      return new Promise(() => {}); // never settles: the error above ends the thread
    }
    recordRun(dir, self);
    return "survived";
  };
  app.task(exitOnce, { name: "fault.exit_once", bind: true });
  app.task(exitOnce, { name: "fault.exit_once_late", bind: true, acksLate: true });
  app.task(exitOnce, {
    name: "fault.exit_once_requeue",
    bind: true,
    acksLate: true,
    rejectOnWorkerLost: true,
  });

  app.task(function retrying(self: BoundTask, dir: string, succeedAt: number, countdown = 0.2) {
    recordRun(dir, self);
    if (self.request.retries >= succeedAt) {
      return { retries: self.request.retries, parentId: self.request.parentId };
    }
    self.retry({ countdown, exc: new FlakyError(`attempt ${self.request.retries}`) });
  }, { name: "fault.retrying", bind: true, maxRetries: 5 });

  app.task(function alwaysRetry(self: BoundTask, dir: string, withExc: boolean) {
    recordRun(dir, self);
    self.retry({ countdown: 0.1, exc: withExc ? new FlakyError("always") : undefined });
  }, { name: "fault.always_retry", bind: true, maxRetries: 2 });

  app.task(function defaultsRetry(self: BoundTask, dir: string) {
    recordRun(dir, self);
    self.retry();
  }, { name: "fault.defaults_retry", bind: true });

  app.task(function autoretry(self: BoundTask, dir: string) {
    recordRun(dir, self);
    throw new FlakyError(`auto ${self.request.retries}`);
  }, {
    name: "fault.autoretry",
    bind: true,
    autoretryFor: [FlakyError],
    retryBackoff: true,
    retryBackoffMax: 1,
    retryJitter: false,
    maxRetries: 2,
  });

  app.task(function executor() {
    return EXECUTOR_ID;
  }, { name: "fault.executor" });

  app.task(function leak(kib: number) {
    kept.push(new Uint8Array(kib * 1024).fill(1));
    const usage = Deno.memoryUsage();
    return { executor: EXECUTOR_ID, kib: Math.round((usage.heapTotal + usage.external) / 1024) };
  }, { name: "fault.leak" });

  app.task(function ignored(self: BoundTask, dir: string) {
    recordRun(dir, self);
    return 1;
  }, { name: "fault.ignored", bind: true, ignoreResult: true });

  app.task(function ignoredFails(self: BoundTask, dir: string) {
    recordRun(dir, self);
    throw new FlakyError("ignored failure");
  }, { name: "fault.ignored_fails", bind: true, ignoreResult: true });

  app.task(function limited(self: BoundTask, dir: string) {
    recordRun(dir, self, `at ${Date.now()}`);
  }, { name: "fault.limited", bind: true, rateLimit: "10/m" });

  app.task(function fails(self: BoundTask, dir: string) {
    recordRun(dir, self);
    throw new FlakyError("fails");
  }, { name: "fault.fails_late", bind: true, acksLate: true });

  app.task(function busyLate(self: BoundTask, dir: string) {
    recordRun(dir, self, "start");
    while (true) { /* only the hard time limit ends it */ }
  }, { name: "fault.busy_late", bind: true, acksLate: true });

  return app;
}

const settings = JSON.parse(Deno.env.get("FAULT_APP_CONFIG") ?? "{}");

/** The app Web Workers and worker subprocesses load. */
export const app: Celery = registerFaultTasks(
  new Celery("fault", { config: settings, setAsCurrent: false }),
);
