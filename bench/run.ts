/**
 * `deno task bench`: celeriac's worker measured beside the raw broker-client
 * loop, BullMQ (Redis) and Python Celery 5.2.6, in one invocation, on every setup (embedded
 * SQLite, RabbitMQ with rpc results, Redis with Redis results, RabbitMQ with
 * Redis results), four workloads each (drain, round trip, latency, enqueue),
 * median of 3 runs, with peak and resting worker RSS; then the cost-growth
 * table. Rules: /work/shared/BENCHMARKS.md, summarised in docs/benchmarks.md.
 *
 * ```sh
 * deno task bench                 # full: 10,000 tasks, 1,000 latency samples, 3 runs; writes docs
 * deno task bench --quick         # 2,000 tasks, 200 samples, 1 run; prints only
 * deno task bench --only redis --systems celeriac --runs 1
 * ```
 *
 * Flags: `--quick`, `--runs N`, `--count N`, `--latency N`, `--only a,b`
 * (setup ids: embedded, rabbitmq, redis, rabbitmq-redis), `--systems a,b`
 * (celeriac, celeriac-workers, celeriac-events, raw, bullmq, python), `--no-growth`, `--growth-only`, `--write` /
 * `--no-write` (docs/benchmarks.md; default: write in full mode only), `--no-canvas`,
 * `--canvas-only` (the canvas lines: a group and a chord of 1,000 `add`, issue 14).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { canvasTable } from "./canvas_bench.ts";
import { growthTables } from "./growth.ts";
import { describeMachine, loadAverage } from "./machine.ts";
import { type Row, setupTable, summarise, targetLines } from "./report.ts";
import { restingKb, type RunFigures, runOnce } from "./session.ts";
import { SETUPS } from "./setups.ts";
import { PYTHON, SYSTEMS } from "./systems.ts";
import { writeResults } from "./write_docs.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    count: { type: "string" },
    latency: { type: "string" },
    only: { type: "string" },
    systems: { type: "string" },
    "no-growth": { type: "boolean", default: false },
    "growth-only": { type: "boolean", default: false },
    "no-canvas": { type: "boolean", default: false },
    "canvas-only": { type: "boolean", default: false },
    write: { type: "boolean" },
    "no-write": { type: "boolean", default: false },
  },
});
const quick = values.quick!;
const runs = Number(values.runs ?? (quick ? 1 : 3));
const count = Number(values.count ?? (quick ? 2_000 : 10_000));
const latencyCount = Number(values.latency ?? (quick ? 200 : 1_000));
const setups = SETUPS.filter((s) => !values.only || values.only.split(",").includes(s.id));
const systems = SYSTEMS.filter((s) => !values.systems || values.systems.split(",").includes(s.id));
const write = values["no-write"] ? false : values.write ?? !quick;

const log = (text: string) => console.error(`[bench] ${text}`);
const loadBefore = loadAverage();
const machine = await describeMachine(PYTHON);
console.log(`celeriac benchmark: ${machine}`);
console.log(
  `${count.toLocaleString("en-US")} tasks, ${latencyCount.toLocaleString("en-US")} latency ` +
    `samples, median of ${runs} run(s); load average at start ${loadBefore.toFixed(2)}\n`,
);

const sections: string[] = [];
const canvasOnly = values["canvas-only"]!;
if (!values["growth-only"] && !canvasOnly) {
  for (const setup of setups) {
    const rows: Row[] = [];
    for (const system of systems.filter((s) => s.supports(setup))) {
      const figures: RunFigures[] = [];
      for (let run = 1; run <= runs; run++) {
        log(`${setup.id} / ${system.id}: run ${run} of ${runs}`);
        try {
          figures.push(await runOnce(system, setup, { count, latencyCount }));
        } catch (error) {
          log(`${setup.id} / ${system.id} run ${run} failed: ${(error as Error).message}`);
        }
      }
      if (figures.length === 0) continue;
      const rest = await restingKb(system, setup).catch(() => NaN);
      rows.push(summarise(system.id, system.label(setup), figures, count, rest));
      log(
        `${setup.id} / ${system.id}: drain runs ${
          rows.at(-1)!.drainRuns.map((r) => r.toFixed(0)).join(", ")
        } tasks/s`,
      );
    }
    const celeriac = rows.find((row) => row.system === "celeriac");
    const raw = rows.find((row) => row.system === "raw");
    const targets = targetLines(setup.id, celeriac, raw);
    const withEvents = rows.find((row) => row.system === "celeriac-events");
    if (celeriac && withEvents) {
      const cost = 1 - withEvents.drain / celeriac.drain;
      targets.push(
        `- ${cost <= 0.15 ? "met" : "NOT met"}: events cost ≤ 15 % of drain (-E ${
          withEvents.drain.toFixed(0)
        }/s vs ${celeriac.drain.toFixed(0)}/s without: ${(cost * 100).toFixed(1)} % slower)`,
      );
    }
    const section = `### ${setup.label}\n\n${setupTable(rows)}\n` +
      (targets.length ? `\nTargets (issue 7):\n${targets.join("\n")}\n` : "");
    console.log(section);
    sections.push(section);
  }
}
if (!values["no-canvas"] && !values["growth-only"]) {
  const canvas = await canvasTable(setups, 1_000, runs, log);
  console.log(canvas);
  sections.push(canvas);
}
if (!values["no-growth"] && !canvasOnly) {
  const growth = await growthTables(setups, quick, log);
  console.log(growth);
  sections.push(growth);
}

const loadAfter = loadAverage();
const header =
  `Measured ${machine}. ${count.toLocaleString("en-US")} tasks, ${
    latencyCount.toLocaleString("en-US")
  } latency samples, median of ${runs} run(s)${quick ? " (`--quick`)" : ""}. ` +
  `Load average ${loadBefore.toFixed(2)} at start, ${loadAfter.toFixed(2)} at the end.`;
if (write) {
  await writeResults(new URL("../docs/benchmarks.md", import.meta.url), header, sections);
  log("results written to docs/benchmarks.md");
}
