/**
 * Workflows (Celery's canvas) on the embedded default: a chain, a group, a
 * chord, map/starmap/chunks, a callback and an error callback, and a chain
 * whose failing step stops it. The same calls in Python:
 *
 * ```python
 * chain(add.s(2, 2), add.s(4), mul.s(8))()            # ((2 + 2) + 4) * 8
 * group(add.s(i, i) for i in range(10))()
 * chord(add.s(i, i) for i in range(10))(xsum.s())
 * add.starmap([(1, 2), (3, 4)]).delay()
 * add.chunks(zip(range(10), range(10)), 4)()
 * add.apply_async((2, 2), link=log_result.s(), link_error=on_error.s())
 * ```
 *
 * Run it with a worker in this process: `deno run -A examples/canvas/app.ts`.
 * On the embedded default (SQLite) a chord is joined by `celery.chord_unlock`,
 * which checks the header about once a second, as in Celery; on Redis the
 * worker that finishes the last header task sends the body at once.
 *
 * @module
 */

import { Celery, chain, chord, group } from "../../mod.ts";

/** The app, on its own queue so no other example's worker takes its tasks. */
export const app = new Celery("canvas", {
  config: { task_default_queue: "examples.canvas" },
});

/** `x + y`. */
export const add = app.task(function add(x: number, y: number) {
  return x + y;
});

/** `x * y`. */
export const mul = app.task(function mul(x: number, y: number) {
  return x * y;
});

/** The sum of a list (a chord body). */
export const xsum = app.task(function xsum(numbers: number[]) {
  return numbers.reduce((sum, n) => sum + n, 0);
});

/** Always fails. */
export const fail = app.task(function fail(reason: string) {
  throw new Error(reason);
});

/** A callback: gets the parent's result first. */
export const logResult = app.task(function log_result(value: unknown, label: string) {
  console.log(`${label}: callback got ${JSON.stringify(value)}`);
  return value;
});

/** An error callback (Celery's old style: the failed task's id). */
export const onError = app.task(function on_error(taskId: string) {
  console.log(`errback: task ${taskId} failed`);
});

if (import.meta.main) {
  const worker = await app.worker({ concurrency: 2, banner: false });
  const timeout = 30;
  try {
    const steps = await chain(add.s(2, 2), add.s(4), mul.s(8)).applyAsync();
    console.log(`chain(add(2, 2), add(4), mul(8)) = ${await steps.get({ timeout })}`);
    console.log(`  its parent (add(4)) = ${await steps.parent?.get({ timeout })}`);

    const numbers = Array.from({ length: 10 }, (_, i) => i);
    const parallel = await group(numbers.map((i) => add.s(i, i))).applyAsync();
    console.log(`group(add(i, i) for i < 10) = ${JSON.stringify(await parallel.get({ timeout }))}`);

    const total = await chord(numbers.map((i) => add.s(i, i)), xsum.s()).applyAsync();
    console.log(`chord(add(i, i) for i < 10)(xsum) = ${await total.get({ timeout })}`);

    const pairs = await add.starmap([[1, 2], [3, 4]]).applyAsync();
    console.log(`add.starmap([[1, 2], [3, 4]]) = ${JSON.stringify(await pairs.get({ timeout }))}`);
    const chunked = await add.chunks(numbers.map((i) => [i, i] as [number, number]), 4)
      .applyAsync();
    console.log(`add.chunks(10 pairs, 4) = ${JSON.stringify(await chunked.get({ timeout }))}`);

    const linked = await add.applyAsync([2, 2], { link: logResult.s("link") });
    console.log(`add(2, 2) with a callback = ${await linked.get({ timeout })}`);

    const stopped = await chain(add.s(1, 1), fail.si("step 2 failed"), add.s(3))
      .onError(onError.s())
      .applyAsync();
    const error = await stopped.get({ timeout, propagate: false }) as Error;
    console.log(`chain with a failing step: ${error.name}: ${error.message}`);
  } finally {
    await worker.stop();
    await app.close();
  }
}
