/**
 * CPU per round trip on each side (issue 15): a celeriac worker (`-c 2`, or
 * `--pool "-P solo"`) and the bench's client (`app.sendTask` + `get()`, up to
 * 1,000 in flight, as `deno task bench`'s round-trip phase), in µs per task,
 * for each of `--rounds` rounds of `--count` round trips after a warm-up of
 * 2,000. With `--syscalls`, also the worker's write, poll and read system
 * calls per task (`perf stat`, which must be installed and permitted). On a
 * two-core host the client, the broker and the worker share the cores, so
 * the client's cost bounds the round trips per second as much as the
 * worker's.
 *
 * ```sh
 * deno run -A bench/round_trip_cpu.ts [--only rabbitmq,redis] [--count 10000] [--rounds 3] [--syscalls]
 * ```
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { CeleriacClient } from "./celeriac_client.ts";
import { brokerServerPid, treeCpuMs } from "./process_watch.ts";
import { cleanPlace, newPlace, SETUPS } from "./setups.ts";
import { probeWorker } from "./systems.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string", default: "rabbitmq,redis" },
    count: { type: "string", default: "10000" },
    rounds: { type: "string", default: "3" },
    pool: { type: "string", default: "-c 2" },
    syscalls: { type: "boolean", default: false },
  },
});
const count = Number(values.count);
const rounds = Number(values.rounds);
const TICK_US = 1_000_000 / 100; // USER_HZ: /proc stat counts 1/100 s
const SYSCALLS = ["writev", "sendto", "write", "epoll_wait", "recvfrom", "read"];

/** User and system CPU of process `pid` so far, in µs. */
function processCpuUs(pid: number): { user: number; system: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) * TICK_US, system: Number(fields[12]) * TICK_US };
}

/** `perf stat` counting the worker's system calls, until `stop()`; per-call totals. */
function countSyscalls(pid: number): { stop(): Promise<Map<string, number>> } {
  const events = SYSCALLS.map((name) => `syscalls:sys_enter_${name}`).join(",");
  const child = new Deno.Command("perf", {
    args: ["stat", "-x", ",", "-e", events, "-p", String(pid)],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  return {
    async stop() {
      child.kill("SIGINT");
      const text = new TextDecoder().decode((await child.output()).stderr);
      const counts = new Map<string, number>();
      for (const line of text.trim().split("\n")) {
        const [value, , event] = line.split(",");
        if (event?.startsWith("syscalls:sys_enter_")) {
          counts.set(event.slice("syscalls:sys_enter_".length), Number(value));
        }
      }
      return counts;
    },
  };
}

const perTask = (us: number) => (us / count).toFixed(0);
console.log(
  "| broker | round | round trips/s | client user + sys µs/task | worker user + sys µs/task | " +
    "broker server µs/task |",
);
console.log("|---|--:|--:|--:|--:|--:|");
for (const setup of SETUPS.filter((s) => values.only!.split(",").includes(s.id))) {
  const place = newPlace(setup);
  const worker = probeWorker(place, values.pool!.split(" "));
  const client = new CeleriacClient(place);
  const server = brokerServerPid(place.brokerUrl);
  try {
    await worker.report("ready");
    await client.roundTrip(2000);
    const syscalls = values.syscalls ? countSyscalls(worker.pid) : undefined;
    for (let round = 1; round <= rounds; round++) {
      const clientBefore = process.cpuUsage();
      const workerBefore = processCpuUs(worker.pid);
      const serverBefore = treeCpuMs(server);
      const ms = await client.roundTrip(count);
      const clientUsed = process.cpuUsage(clientBefore);
      const workerAfter = processCpuUs(worker.pid);
      const serverUsed = (treeCpuMs(server) - serverBefore) * 1000;
      const workerUser = workerAfter.user - workerBefore.user;
      const workerSystem = workerAfter.system - workerBefore.system;
      console.log(
        `| ${setup.label} | ${round} | ${Math.round(count / ms * 1000)} | ` +
          `${perTask(clientUsed.user)} + ${perTask(clientUsed.system)} | ` +
          `${perTask(workerUser)} + ${perTask(workerSystem)} | ${perTask(serverUsed)} |`,
      );
    }
    if (syscalls) {
      const counts = await syscalls.stop();
      const shown = SYSCALLS.map((name) =>
        `${name} ${((counts.get(name) ?? 0) / (rounds * count)).toFixed(2)}`
      );
      console.log(`\n${setup.label}, worker system calls per task: ${shown.join(", ")}\n`);
    }
  } finally {
    await client.close();
    await worker.stop();
    await cleanPlace(place);
  }
}
