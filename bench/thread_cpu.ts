/**
 * Where a `-P threads` worker spends its CPU (issue 15): the supervisor
 * (the main thread), the consumer threads (`worker-N`), V8's helper threads
 * (garbage collection, compilation) and the runtime's I/O threads, in µs per
 * drained task, read from `/proc/<pid>/task/<tid>/stat` at ready and after a
 * drain of N queued tasks. With the broker's CPU per task, this estimates
 * the drain on N cores: N ÷ (thread + helpers + broker µs per task).
 *
 * ```sh
 * deno run -A bench/thread_cpu.ts [--count 20000] [--only rabbitmq,redis] [--threads 2]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CeleriacClient } from "./celeriac_client.ts";
import { WatchedProcess } from "./process_watch.ts";
import { cleanPlace, newPlace, placeEnv, SETUPS } from "./setups.ts";
import { celeriacWorkerArgs, ROOT } from "./systems.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "20000" },
    only: { type: "string", default: "rabbitmq,redis" },
    threads: { type: "string", default: "2" },
  },
});
const count = Number(values.count);
const TICK_US = 1_000_000 / 100; // USER_HZ: clock ticks of /proc stat are 1/100 s on Linux

/** CPU ticks by thread group of process `pid`. */
function threadTicks(pid: number): Map<string, number> {
  const groups = new Map<string, number>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const dir = `/proc/${pid}/task/${entry.name}`;
      const name = Deno.readTextFileSync(`${dir}/comm`).trim();
      const stat = Deno.readTextFileSync(`${dir}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
      const group = Number(entry.name) === pid
        ? "supervisor (main thread)"
        : /^worker-\d+$/.test(name)
        ? "consumer threads"
        : name.startsWith("V8 ")
        ? "V8 helpers (GC, compiler)"
        : "runtime I/O and others";
      groups.set(group, (groups.get(group) ?? 0) + ticks);
    } catch {
      // the thread ended meanwhile
    }
  }
  return groups;
}

console.log(
  `| broker | drained/s | supervisor µs/task | consumer threads µs/task | V8 helpers µs/task | ` +
    `runtime I/O µs/task |`,
);
console.log("|---|--:|--:|--:|--:|--:|");
for (const setup of SETUPS.filter((s) => values.only!.split(",").includes(s.id))) {
  const place = newPlace(setup);
  let worker: WatchedProcess | undefined;
  try {
    await CeleriacClient.fillPlace(place, count);
    worker = new WatchedProcess({
      command: Deno.execPath(),
      args: celeriacWorkerArgs(["-c", values.threads!, "-P", "threads"]),
      cwd: ROOT,
      env: { ...placeEnv(place), CELERIAC_BENCH_EXPECT: String(count), NO_COLOR: "1" },
    });
    const ready = await worker.report<{ ready: number }>("ready");
    void ready;
    const before = threadTicks(worker.pid);
    const stamps = await worker.report<{ first: number; last: number }>("last", 600_000);
    const after = threadTicks(worker.pid);
    const perTask = (group: string) =>
      (((after.get(group) ?? 0) - (before.get(group) ?? 0)) * TICK_US / count).toFixed(0);
    console.log(
      `| ${setup.label} | ${(count / ((stamps.last - stamps.first) / 1000)).toFixed(0)} | ` +
        `${perTask("supervisor (main thread)")} | ${perTask("consumer threads")} | ` +
        `${perTask("V8 helpers (GC, compiler)")} | ${perTask("runtime I/O and others")} |`,
    );
  } finally {
    await worker?.stop();
    await cleanPlace(place);
  }
}
