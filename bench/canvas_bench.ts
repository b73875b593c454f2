/**
 * The canvas lines of `deno task bench` (issue 14): a group of 1,000
 * `bench.add` and a chord of 1,000 `bench.add` into `bench.xsum`, each timed
 * from `applyAsync` to the final result by the system's own client, with the
 * system's own worker (`-c 2`), on RabbitMQ with Redis results and on Redis.
 * celeriac and Python Celery 5.2.6 are measured in the same invocation;
 * median of the runs.
 *
 * @module
 */

import { chord, group } from "../mod.ts";
import { CELERIAC, PYTHON, PYTHON_CELERY } from "./systems.ts";
import { PYTHON_DIR } from "./python_system.ts";
import { cleanPlace, newPlace, placeEnv, type RunPlace, type Setup } from "./setups.ts";
import { CeleriacClient } from "./celeriac_client.ts";
import { median } from "./stats.ts";
import type { System } from "./session.ts";

/** One system's canvas timings on one setup (ms per run). */
interface CanvasTimes {
  group: number[];
  chord: number[];
}

async function celeriacTimes(place: RunPlace, count: number, runs: number): Promise<CanvasTimes> {
  await using client = new CeleriacClient(place);
  const app = client.app;
  const add = app.task(function add(x: number, y: number) {
    return x + y;
  }, { name: "bench.add" });
  const xsum = app.task(function xsum(numbers: number[]) {
    return numbers.reduce((a, b) => a + b, 0);
  }, { name: "bench.xsum" });
  const warm = await chord(Array.from({ length: 10 }, (_, i) => add.s(i, i)), xsum.s())
    .applyAsync();
  await warm.get({ timeout: 60 });
  const values = Array.from({ length: count }, (_, i) => 2 * i);
  const total = values.reduce((a, b) => a + b, 0);
  const times: CanvasTimes = { group: [], chord: [] };
  for (let run = 0; run < runs; run++) {
    let started = performance.now();
    const parallel = await group(values.map((_, i) => add.s(i, i))).applyAsync();
    const got = await parallel.get({ timeout: 600 });
    times.group.push(performance.now() - started);
    if (JSON.stringify(got) !== JSON.stringify(values)) throw new Error("wrong group result");
    started = performance.now();
    const joined = await chord(values.map((_, i) => add.s(i, i)), xsum.s()).applyAsync();
    const sum = await joined.get({ timeout: 600 });
    times.chord.push(performance.now() - started);
    if (sum !== total) throw new Error(`wrong chord result ${sum}`);
  }
  return times;
}

async function pythonTimes(place: RunPlace, count: number, runs: number): Promise<CanvasTimes> {
  const out = await new Deno.Command(PYTHON, {
    args: ["bench_canvas.py", String(count), String(runs)],
    cwd: PYTHON_DIR,
    env: { ...placeEnv(place), PYTHONDONTWRITEBYTECODE: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (out.code !== 0 || !text.startsWith("{")) {
    throw new Error(`bench_canvas.py failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text);
}

async function measure(
  system: System,
  setup: Setup,
  count: number,
  runs: number,
): Promise<CanvasTimes> {
  const place = newPlace(setup);
  const worker = system.start(place, 0);
  try {
    await worker.ready();
    return system === PYTHON_CELERY
      ? await pythonTimes(place, count, runs)
      : await celeriacTimes(place, count, runs);
  } finally {
    await worker.proc.stop();
    await cleanPlace(place);
  }
}

const ms = (value: number) => `${value.toFixed(0)} ms`;

/**
 * Measures the canvas workloads on `setups` (those with Redis results) and
 * returns the markdown table: one line per setup and workload, both systems
 * and the ratio.
 */
export async function canvasTable(
  setups: readonly Setup[],
  count: number,
  runs: number,
  log: (text: string) => void,
): Promise<string> {
  const rows: string[] = [];
  for (const setup of setups.filter((s) => s.results === "redis")) {
    const figures = new Map<string, CanvasTimes>();
    for (const system of [CELERIAC, PYTHON_CELERY]) {
      log(`canvas / ${setup.id} / ${system.id}: ${runs} run(s)`);
      try {
        figures.set(system.id, await measure(system, setup, count, runs));
      } catch (error) {
        log(`canvas / ${setup.id} / ${system.id} failed: ${(error as Error).message}`);
      }
    }
    for (const workload of ["group", "chord"] as const) {
      const ours = figures.get("celeriac")?.[workload];
      const theirs = figures.get("python")?.[workload];
      const a = ours?.length ? median(ours) : NaN;
      const b = theirs?.length ? median(theirs) : NaN;
      const label = workload === "group"
        ? `group of ${count.toLocaleString("en-US")} add`
        : `chord of ${count.toLocaleString("en-US")} add into xsum`;
      rows.push(
        `| ${setup.label} | ${label} | ${ms(a)} | ${ms(b)} | ${(b / a).toFixed(1)}× |`,
      );
    }
  }
  return "### Canvas (issue 14): applyAsync → final result, median\n\n" +
    "| setup | workload | celeriac, default pool -c 2 | Python Celery 5.2.6, prefork -c 2 | speed-up |\n" +
    "| --- | --- | --- | --- | --- |\n" + rows.join("\n") + "\n";
}
