/**
 * Memory under a flood, with the plain start-up the Quick start shows
 * (`deno run -A cli.ts worker -A app.ts`, no V8 flags): the resting RSS of a
 * fresh worker, then its peak RSS (VmHWM over its process tree) while it
 * drains 50,000 queued tasks, on each broker. Issue 18 asks for the peak to
 * stay within ~1.5x the resting RSS.
 *
 * ```sh
 * deno run -A bench/flood_memory.ts [--count 50000] [--only embedded,redis,rabbitmq] \
 *   [--v8-flags=--max-semi-space-size=1]
 * ```
 *
 * `--v8-flags` is passed to the worker's `deno run` (to compare with the
 * README's deployment command).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CeleriacClient } from "./celeriac_client.ts";
import { WatchedProcess } from "./process_watch.ts";
import { drainOnce, restingKb, type System } from "./session.ts";
import { placeEnv, SETUPS } from "./setups.ts";
import { ROOT } from "./systems.ts";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "50000" },
    only: { type: "string", default: "embedded,rabbitmq,redis" },
    "v8-flags": { type: "string" },
  },
});
const v8Flags = values["v8-flags"];

/** celeriac started the plain way (no `--v8-flags` unless given). */
const PLAIN: System = {
  id: "celeriac-plain",
  label: () => "celeriac, plain start-up",
  supports: () => true,
  start: (place, expect) => {
    const proc = new WatchedProcess({
      command: Deno.execPath(),
      args: [
        "run",
        ...(v8Flags ? [`--v8-flags=${v8Flags}`] : []),
        "-A",
        "cli.ts",
        "worker",
        "-A",
        "./bench/bench_app.ts",
        "-c",
        "2",
        "--loglevel",
        "WARNING",
      ],
      cwd: ROOT,
      env: { ...placeEnv(place), CELERIAC_BENCH_EXPECT: String(expect), NO_COLOR: "1" },
    });
    return {
      proc,
      drained: (n) =>
        n === 0 ? Promise.resolve({ first: 0, last: 0 }) : proc.report("last", 600_000),
      ready: async () => void await proc.report("ready"),
    };
  },
  client: (place) => Promise.resolve(new CeleriacClient(place)),
};

const count = Number(values.count);
const only = values.only!.split(",");
const mb = (kb: number) => (kb / 1024).toFixed(0);

console.log(`| broker | resting RSS (MiB) | peak RSS draining ${count} (MiB) | peak / resting |`);
console.log("|---|--:|--:|--:|");
for (const setup of SETUPS.filter((s) => only.includes(s.id))) {
  const resting = await restingKb(PLAIN, setup);
  const { peakKb, drainMs } = await drainOnce(PLAIN, setup, count);
  console.log(
    `| ${setup.label} | ${mb(resting)} | ${mb(peakKb)} | ${(peakKb / resting).toFixed(2)}x ` +
      `(drain ${(count / (drainMs / 1000)).toFixed(0)} tasks/s) |`,
  );
}
