/**
 * `deno run -A cli.ts worker …` restarts once, in the same process, with
 * `--max-semi-space-size=1,--expose-gc` (src/cli/worker_v8_flags.ts): every isolate of
 * the worker has the flagged heap limit, the pid is the one started, signals
 * still stop it warmly, and `DENO_V8_FLAGS` is back as it was; a semi-space
 * size the user gives is kept.
 */

import assert from "node:assert/strict";
import { WORKER_V8_FLAG } from "../../src/cli/worker_v8_flags.ts";
import { startWorker } from "./cli_tools.ts";

const APP = new URL("./fixtures/v8_flags_app.ts", import.meta.url).pathname;

interface IsolateReport {
  main: boolean;
  pid: number;
  heapSizeLimit: number;
  gcExposed: boolean;
  denoV8Flags: string | null;
}

/** V8's heap limit in a fresh `deno` process with `flags`. */
async function heapLimitWith(flags: string[]): Promise<number> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      ...flags,
      `import v8 from "node:v8"; console.log(v8.getHeapStatistics().heap_size_limit)`,
    ],
  }).output();
  return Number(new TextDecoder().decode(output.stdout).trim());
}

async function runWorker(env: Record<string, string>) {
  const home = await Deno.makeTempDir({ prefix: "celeriac-v8-flags-" });
  try {
    const worker = await startWorker([
      "-A",
      APP,
      "-c",
      "2",
      "--loglevel",
      "INFO",
      "--without-banner",
    ], {
      CELERIAC_HOME: home,
      ...env,
    });
    const run = await worker.stop("SIGTERM");
    const reports = run.stdout.split("\n").filter((line) => line.startsWith("@@v8 "))
      .map((line) => JSON.parse(line.slice(5)) as IsolateReport);
    return { pid: worker.child.pid, run, reports };
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("a worker started plainly restarts once with a bounded young generation", async () => {
  const plain = await heapLimitWith([]);
  const bounded = await heapLimitWith([`--v8-flags=${WORKER_V8_FLAG}`]);
  assert.notEqual(plain, bounded, "the flag shows in the heap limit");
  const { pid, run, reports } = await runWorker({});
  assert.equal(run.code, 0, `warm shutdown on SIGTERM:\n${run.stderr}`);
  assert.equal(reports.filter((report) => report.main).length, 1, run.stdout);
  assert.equal(reports.filter((report) => !report.main).length, 2, "two pool threads");
  for (const report of reports) {
    assert.equal(report.heapSizeLimit, bounded, JSON.stringify(report));
    assert.equal(report.gcExposed, true, "gc() for the heap trim");
    assert.equal(report.pid, pid, "the same process");
    assert.equal(report.denoV8Flags, null, "DENO_V8_FLAGS put back as it was");
  }
});

Deno.test("a semi-space size the user gives is kept (no restart)", async () => {
  const given = await heapLimitWith(["--v8-flags=--max-semi-space-size=4"]);
  const { run, reports } = await runWorker({ DENO_V8_FLAGS: "--max-semi-space-size=4" });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(reports.length, 3, run.stdout);
  for (const report of reports) {
    assert.equal(report.heapSizeLimit, given, JSON.stringify(report));
    assert.equal(report.gcExposed, false, "no flag added");
    assert.equal(report.denoV8Flags, "--max-semi-space-size=4");
  }
});
