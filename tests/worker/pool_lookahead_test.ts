/**
 * The `workers` pool hands threads their next runs ahead of time (so a
 * thread starts each as soon as it reported the last): every run still
 * starts once, in order, and is reported once; runs waiting behind a long
 * task go to an idle thread instead (Celery's -Ofair); a stop gives back
 * what no thread started.
 */

import assert from "node:assert/strict";
import { getLogger } from "../../src/log.ts";
import { eagerRequest } from "../../src/task/eager_request.ts";
import type { PoolResult } from "../../src/worker/pool/types.ts";
import { ThreadPool } from "../../src/worker/pool/thread_pool.ts";

function newPool(): ThreadPool {
  return new ThreadPool({
    size: 2,
    app: { moduleUrl: new URL("./fixtures/worker_app.ts", import.meta.url).href, main: "wtest" },
    logLevel: "WARNING",
    retryDefaults: { defaultRetryDelay: 180, maxRetries: 3 },
    maxTasksPerChild: null,
    logger: getLogger("test"),
  });
}

function job(task: string, args: unknown[]) {
  return { request: eagerRequest(task, args, {}), softTimeLimit: null, hardTimeLimit: null };
}

function resultOf(result: PoolResult): unknown {
  assert.equal(result.kind, "outcome");
  const { outcome } = result as Extract<PoolResult, { kind: "outcome" }>;
  assert.equal(outcome.state, "SUCCESS");
  return (outcome as { result: unknown }).result;
}

Deno.test("workers pool: many quick runs each start once and report their own result", async () => {
  const pool = newPool();
  await pool.start();
  try {
    let starts = 0;
    const runs = Array.from(
      { length: 300 },
      (_, i) => pool.run(job("wtest.add", [i, i]), () => starts++),
    );
    const results = await Promise.all(runs);
    assert.deepEqual(results.map(resultOf), Array.from({ length: 300 }, (_, i) => 2 * i));
    assert.equal(starts, 300);
  } finally {
    await pool.close();
  }
});

Deno.test("workers pool: runs queued behind a long task move to the idle thread", async () => {
  const pool = newPool();
  await pool.start();
  try {
    const finished: string[] = [];
    const track = (name: string, run: Promise<PoolResult>) =>
      run.then((r) => finished.push(name) && r);
    const long = track("long", pool.run(job("wtest.sleep", [800]), () => {}));
    const short = track("short", pool.run(job("wtest.sleep", [30]), () => {}));
    const quick = Array.from(
      { length: 6 },
      (_, i) => track(`add${i}`, pool.run(job("wtest.add", [i, 1]), () => {})),
    );
    await Promise.all([long, short, ...quick]);
    assert.equal(finished.at(-1), "long", `order: ${finished.join(", ")}`);
  } finally {
    await pool.close();
  }
});

Deno.test("workers pool: cancelPending gives back what no thread started", async () => {
  const pool = newPool();
  await pool.start();
  try {
    let starts = 0;
    const sleeps = [
      pool.run(job("wtest.sleep", [300]), () => starts++),
      pool.run(job("wtest.sleep", [300]), () => starts++),
    ];
    const waiting = Array.from(
      { length: 5 },
      (_, i) => pool.run(job("wtest.add", [i, i]), () => starts++),
    );
    pool.cancelPending();
    const kinds = (await Promise.all(waiting)).map((r) => r.kind);
    assert.deepEqual(kinds, Array(5).fill("not-started"));
    assert.deepEqual((await Promise.all(sleeps)).map(resultOf), ["slept", "slept"]);
    assert.equal(starts, 2);
  } finally {
    await pool.close();
  }
});
