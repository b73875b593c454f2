/**
 * Measures the time from a hard time limit firing on a busy loop to the
 * replacement worker thread being ready, and to the next task finishing on
 * it. Not a test (timings go in reports, not assertions):
 *
 * ```sh
 * deno run -A tests/reliability/measure_replacement.ts [rounds]
 * ```
 *
 * @module
 */

import type { Logger } from "../../src/log.ts";
import { ThreadPool } from "../../src/worker/pool/thread_pool.ts";
import type { PoolJob } from "../../src/worker/pool/types.ts";
import type { TaskRequest } from "../../src/task/request.ts";
import { FAULT_APP_LOCATION } from "./worlds.ts";

const rounds = Number(Deno.args[0] ?? 20);
const LIMIT_S = 0.05;
const readyAfter: number[] = [];
const quiet = () => {};
const logger: Logger = {
  debug(message) {
    const match = /ready after ([\d.]+) ms/.exec(message);
    if (match) readyAfter.push(Number(match[1]));
  },
  info: quiet,
  warning: quiet,
  error: quiet,
  critical: (message) => console.error(message),
  isEnabledFor: () => true,
};

function job(task: string, args: unknown[], hardTimeLimit: number | null): PoolJob {
  const id = crypto.randomUUID();
  const request: TaskRequest = {
    id,
    task,
    args,
    kwargs: {},
    retries: 0,
    hostname: "measure@local",
    deliveryInfo: { exchange: "", routingKey: "q", priority: 0, redelivered: false },
    rootId: id,
    parentId: null,
    group: null,
    eta: null,
    expires: null,
    correlationId: id,
    replyTo: "",
    origin: "",
    timeLimit: [hardTimeLimit, null],
    headers: {},
    isEager: false,
    embed: { callbacks: null, errbacks: null, chain: null, chord: null },
  };
  return { request, hardTimeLimit, softTimeLimit: null };
}

const dir = await Deno.makeTempDir();
const pool = new ThreadPool({
  size: 1,
  app: FAULT_APP_LOCATION,
  logLevel: "WARNING",
  retryDefaults: { defaultRetryDelay: 180, maxRetries: 3 },
  maxTasksPerChild: null,
  logger,
});
await pool.start();
const nextDone: number[] = [];
for (let round = 0; round < rounds; round++) {
  let limitAt = 0;
  const busy = pool.run(job("fault.busy", [dir], LIMIT_S), () => {
    limitAt = performance.now() + LIMIT_S * 1000; // when the hard limit is due
  });
  const next = pool.run(job("fault.add", [1, 2], null), () => {});
  const ended = await busy;
  if (ended.kind !== "time-limit") throw new Error(`expected a time limit, got ${ended.kind}`);
  await next;
  nextDone.push(performance.now() - limitAt);
}
await pool.close();
await Deno.remove(dir, { recursive: true });

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `median ${at(0.5).toFixed(1)} ms, p90 ${at(0.9).toFixed(1)} ms, max ${
    sorted.at(-1)!.toFixed(1)
  } ms`;
}
console.log(`${rounds} hard time limits on a busy loop (1 thread, Deno ${Deno.version.deno}):`);
console.log(`  limit -> replacement thread ready: ${summary(readyAfter)}`);
console.log(`  limit -> next task done on it:     ${summary(nextDone)}`);
