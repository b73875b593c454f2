/**
 * Canvas interop scenarios with real Python Celery 5.2.6 (spec §1): a
 * Python client's chain / group / chord / link / link_error / map / starmap /
 * chunks run by a celeriac worker process with the results Celery gives,
 * and (see canvas_celeriac_client.ts) the other way round. Each broker/backend
 * pairing runs them (canvas_*_test.ts). Callbacks and errbacks are observed
 * through `interop.remember`, which writes to a Redis list per scenario.
 *
 * These are also the regression cases of issue 14: before, a celeriac
 * worker stored the first step of a chain and sent nothing further, left the
 * rest of a failed chain PENDING, never sent link/link_error, and never
 * counted chord parts, so chords hung.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PYTHON } from "../services.ts";
import { rawRedis, REDIS_URL } from "../integration/redis_test_tools.ts";
import { startCeleriacWorker } from "./celeriac_worker.ts";
import { envVars, PYTHON_APP_DIR, type PythonEnv, startPythonWorker } from "./python/harness.ts";
import type { InteropSetup } from "./worker_scenarios.ts";

/** The Redis URL `interop.remember` writes to (both sides read `CELERIAC_IT_REMEMBER_URL`). */
export const REMEMBER_URL = "redis://127.0.0.1:6379/0";

/** One scenario's outcome as canvas_client.py reports it. */
export interface CanvasOutcome {
  /** The canvas result's id. */
  id?: string;
  /** Its value. */
  value?: unknown;
  /** The value of its parent (a chain's previous step, a chord's header). */
  parent?: unknown;
  /** The classes of the result's children, as Python reads them (link scenarios). */
  children?: string[];
  /** The ids of its parent group's members (a chord's header tasks). */
  parent_ids?: string[];
  /** The error Python rebuilt, or the refusal at send time (`at: "send"`). */
  error?: { type: string; module: string; args: unknown[] };
  /** `send` when sending was refused. */
  at?: string;
}

/** Every scenario of canvas_client.py but the mixed-fleet one. */
export const SCENARIOS = [
  "chain",
  "chain_fail",
  "link",
  "link_two",
  "link_error",
  "link_error_new",
  "group",
  "chord",
  "chord_fail",
  "map",
  "starmap",
  "chunks",
  "chain_group_chord",
  "chain_ends_in_group",
  "group_of_chains",
  "chord_of_chains",
  "nested_group",
  "chord_nested_header",
] as const;

/** Runs canvas_client.py with `scenarios`; `token` names the remember lists. */
export async function runPythonCanvas(
  scenarios: readonly string[],
  token: string,
  env: PythonEnv,
  timeout = 30,
): Promise<Record<string, CanvasOutcome>> {
  const child = new Deno.Command(PYTHON, {
    args: ["canvas_client.py"],
    cwd: PYTHON_APP_DIR,
    env: { ...envVars({ ...env, app: "canvas_app" }), CELERIAC_IT_REMEMBER_URL: REMEMBER_URL },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({ token, scenarios, timeout })));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  if (code !== 0) {
    throw new Error(`canvas_client.py exited with ${code}:\n${decoder.decode(stderr)}`);
  }
  return JSON.parse(decoder.decode(stdout));
}

/** Waits until the remember list of `token` has `count` entries (or the deadline passes); returns them. */
export async function remembered(token: string, count: number, timeoutMs = 20_000) {
  const redis = rawRedis(REMEMBER_URL);
  try {
    const key = `celeriac-it-remember:${token}`;
    const deadline = Date.now() + timeoutMs;
    let items: string[] = [];
    while (Date.now() < deadline) {
      items = await redis.lrange(key, 0, -1);
      if (items.length >= count) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await redis.del(key);
    return items.map((item) => JSON.parse(item) as unknown[]);
  } finally {
    await redis.quit();
  }
}

/** A stored Redis result document, read directly. */
export async function storedResult(id: string, url: string = REDIS_URL) {
  const redis = rawRedis(url);
  try {
    const text = await redis.get(`celery-task-meta-${id}`);
    return text === null ? undefined : JSON.parse(text);
  } finally {
    await redis.quit();
  }
}

/** The environment of a celeriac worker process for `setup`. */
export function canvasWorkerEnv(setup: InteropSetup): Record<string, string> {
  return {
    CELERY_BROKER_URL: setup.broker,
    CELERY_RESULT_BACKEND: setup.backend,
    CELERIAC_IT_REMEMBER_URL: REMEMBER_URL,
    CELERIAC_IT_CONFIG: JSON.stringify({ task_default_queue: setup.queue, ...setup.config }),
  };
}

const CHORD_SCENARIOS = new Set([
  "chord",
  "chord_fail",
  "chain_group_chord",
  "chord_of_chains",
  "chord_nested_header",
]);

function notSupported(outcome: CanvasOutcome): void {
  assert.equal(outcome.at, "send");
  assert.equal(outcome.error?.type, "NotImplementedError");
  assert.match(String(outcome.error?.args[0]), /does not support chords/);
}

/**
 * A Python client's canvases against a celeriac worker process. With
 * `chords: false` (rpc://), Python refuses chords itself, as Celery 5.2.6 does.
 */
export async function pythonCanvasToCeleriacWorker(
  setup: InteropSetup,
  options: { chords: boolean; reference?: boolean },
): Promise<void> {
  // `reference`: the same checks against a Python worker, proving they are what Celery gives.
  await using _worker = options.reference
    ? await startPythonWorker({
      env: { ...setup.python, app: "canvas_app" },
      queues: [setup.queue],
      concurrency: 4,
      extraEnv: { CELERIAC_IT_REMEMBER_URL: REMEMBER_URL },
    })
    : await startCeleriacWorker({
      module: "tests/interop/canvas_app.ts",
      env: canvasWorkerEnv(setup),
      queues: [setup.queue],
      concurrency: 4,
    });
  const token = crypto.randomUUID();
  const out = await runPythonCanvas(SCENARIOS, token, setup.python);
  for (const name of SCENARIOS) {
    if (out[name]?.id) setup.resultIds.push(out[name].id!);
  }
  assert.deepEqual(out.chain, { id: out.chain.id, value: 25, parent: 20 });
  assert.deepEqual(out.chain_fail.error, {
    type: "ValueError",
    module: "builtins",
    args: ["chain boom"],
  }, "the failure reaches the chain's last step, which would otherwise stay PENDING");
  assert.equal(out.link.value, 4);
  assert.deepEqual(out.link.children, ["AsyncResult"], "the callback is the result's child");
  assert.deepEqual(out.link_two.children, ["GroupResult"], "two callbacks: one group child");
  assert.deepEqual(await remembered(`${token}:link`, 1), [[4]]);
  assert.equal(out.link_two.value, 6);
  assert.deepEqual(await remembered(`${token}:link_two`, 2), [[6], [6]]);
  assert.equal(out.link_error.error?.type, "ValueError");
  assert.deepEqual(await remembered(`${token}:link_error`, 1), [[out.link_error.id]]);
  assert.equal(out.link_error_new.error?.type, "ValueError");
  assert.deepEqual(await remembered(`${token}:link_error_new`, 1), [[
    out.link_error_new.id,
    "new boom",
  ]]);
  assert.deepEqual(out.group.value, Array.from({ length: 10 }, (_, i) => 2 * i));
  assert.deepEqual(out.map.value, [3, 12]);
  assert.deepEqual(out.starmap.value, [3, 7]);
  assert.deepEqual(out.chunks.value, [[0, 2, 4], [6, 8, 10], [12, 14, 16], [18]]);
  assert.deepEqual(out.chain_ends_in_group.value, [3, 4]);
  assert.deepEqual(out.group_of_chains.value, [4, 10]);
  assert.deepEqual(out.nested_group.value, [2, 4, 6], "nested groups are flattened");
  if (!options.chords) {
    for (const name of CHORD_SCENARIOS) notSupported(out[name]);
    return;
  }
  assert.equal(out.chord.value, 90);
  assert.deepEqual(out.chord.parent, Array.from({ length: 10 }, (_, i) => 2 * i));
  // Python's get() raises the failed header task's error (it checks the parent group first)…
  assert.deepEqual(out.chord_fail.error?.args, ["part boom"]);
  // …while the body itself is stored as Celery's ChordError.
  const body = await storedResult(out.chord_fail.id!);
  assert.equal(body?.status, "FAILURE");
  assert.equal(body?.result.exc_type, "ChordError");
  assert.equal(body?.result.exc_module, "celery.exceptions");
  assert.match(
    String(body?.result.exc_message[0]),
    /^Dependency [0-9a-f-]{36} raised ValueError\('part boom'\)$/,
  );
  assert.equal(out.chain_group_chord.value, 7);
  assert.equal(out.chord_of_chains.value, 14, "each chain counts once in the chord");
  // A Python worker's chord counter (Celery 5.2.6) may never send this shape's body: see
  // canvas_celeriac_client.ts. The reference run checks the rest against Python.
  if (options.reference) return;
  assert.deepEqual(
    out.chord_nested_header.value,
    [[[3, 4], 10]],
    "a header with a group member is saved and joined with its structure",
  );
}
