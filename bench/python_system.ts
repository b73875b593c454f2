/**
 * The Python Celery 5.2.6 side of the benchmark: reading the drain stamps its
 * prefork children write (bench/python/bench_app.py), and its client
 * workloads (bench/python/bench_client.py) run as a Python process each.
 *
 * @module
 */

import type { WatchedProcess } from "./process_watch.ts";
import type { BenchClient, DrainStamps } from "./session.ts";
import { placeEnv, type RunPlace } from "./setups.ts";
import { sleep } from "./stats.ts";

/** The directory of the Python app and client. */
export const PYTHON_DIR: string = new URL("./python/", import.meta.url).pathname;
const PYTHON = Deno.env.get("CELERIAC_BENCH_PYTHON") ?? "/usr/bin/python3";

function readStats(dir: string): { count: number; first: number; last: number } {
  let count = 0;
  let first = Infinity;
  let last = 0;
  for (const entry of Deno.readDirSync(dir)) {
    const bytes = Deno.readFileSync(`${dir}/${entry.name}`);
    if (bytes.length < 24) continue;
    const view = new DataView(bytes.buffer, bytes.byteOffset, 24);
    count += Number(view.getBigInt64(0, true));
    first = Math.min(first, view.getFloat64(8, true) * 1000);
    last = Math.max(last, view.getFloat64(16, true) * 1000);
  }
  return { count, first, last };
}

/** Waits until the children's stamps add up to `count` task starts. */
export async function pythonDrained(
  dir: string,
  count: number,
  proc: WatchedProcess,
): Promise<DrainStamps> {
  const deadline = performance.now() + 300_000;
  while (true) {
    const stats = readStats(dir);
    if (stats.count >= count) return { first: stats.first, last: stats.last };
    if (performance.now() > deadline) {
      throw new Error(`Python drain stalled at ${stats.count}/${count}:\n${proc.stderr}`);
    }
    await sleep(20);
  }
}

async function runClient(place: RunPlace, command: string, count: number): Promise<unknown> {
  const out = await new Deno.Command(PYTHON, {
    args: ["bench_client.py", command, String(count)],
    cwd: PYTHON_DIR,
    env: { ...placeEnv(place), PYTHONDONTWRITEBYTECODE: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (out.code !== 0 || !text.startsWith("{")) {
    throw new Error(`bench_client.py ${command} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text)[command];
}

/** The Python client's workloads on `place`. */
export function pythonClient(place: RunPlace): BenchClient {
  return {
    enqueue: async (count) => await runClient(place, "enqueue", count) as number,
    roundTrip: async (count) => await runClient(place, "roundtrip", count) as number,
    latency: async (count) => await runClient(place, "latency", count) as number[],
    close: () => Promise.resolve(),
  };
}
