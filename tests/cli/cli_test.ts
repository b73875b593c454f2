/**
 * The command line, run as a user would: `--help` for the tool and each
 * command, `call` and `result` against a real worker process on the embedded
 * default, warm shutdown on SIGTERM, and user mistakes reported as one line
 * with a non-zero exit code and no stack trace.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FIXTURE_APP, runCli, startWorker } from "./cli_tools.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Runs `body` with a fresh CELERIAC_HOME, removed afterwards. */
async function withHome(body: (env: Record<string, string>) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "celeriac-cli-" });
  try {
    await body({ CELERIAC_HOME: home });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("--help for the tool and for each command", async () => {
  const runs = await Promise.all([
    runCli(["--help"]),
    runCli(["worker", "--help"]),
    runCli(["call", "--help"]),
    runCli(["result", "--help"]),
    runCli(["beat", "--help"]),
    runCli(["help", "call"]),
  ]);
  const [main, worker, call, result, beat, helpCall] = runs;
  for (const run of runs) {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
  }
  assert.match(main.stdout, /^Usage: celeriac <command>/);
  for (const command of ["worker", "beat", "call", "result"]) {
    assert.match(main.stdout, new RegExp(`^  ${command} `, "m"));
  }
  assert.match(worker.stdout, /^Usage: celeriac worker --app/);
  for (const flag of ["--concurrency", "--pool", "--queues", "--hostname", "--loglevel"]) {
    assert.ok(worker.stdout.includes(flag), flag);
  }
  assert.match(call.stdout, /^Usage: celeriac call <task name>/);
  assert.ok(call.stdout.includes("--args") && call.stdout.includes("--kwargs"));
  assert.match(result.stdout, /^Usage: celeriac result <task id>/);
  assert.match(beat.stdout, /^Usage: celeriac beat/);
  assert.equal(helpCall.stdout, call.stdout);
});

Deno.test("call prints an id; a worker runs it; result prints state and result", async () => {
  await withHome(async (env) => {
    const call = await runCli(
      ["call", "clitest.add", "-A", FIXTURE_APP, "--args", "[2]", "--kwargs", '{"y": 3}'],
      env,
    );
    assert.equal(call.code, 0, call.stderr);
    const id = call.stdout.trim();
    assert.match(id, UUID);
    const pending = await runCli(["result", id, "-A", FIXTURE_APP], env);
    assert.equal(pending.code, 0, pending.stderr);
    assert.equal(pending.stdout, "PENDING\n");

    const worker = await startWorker(
      ["-A", FIXTURE_APP, "-c", "1", "--loglevel", "INFO", "-n", "cli@%h"],
      env,
    );
    let stopped = false;
    try {
      const done = await runCli(["result", id, "-A", FIXTURE_APP, "--wait", "20"], env);
      assert.equal(done.code, 0, done.stderr);
      assert.equal(done.stdout, "SUCCESS\n5\n");

      const failing = await runCli(
        ["call", "clitest.fail", "-A", FIXTURE_APP, "--args", '["no good"]'],
        env,
      );
      const failedId = failing.stdout.trim();
      assert.match(failedId, UUID);
      const failed = await runCli(
        ["result", failedId, "-A", FIXTURE_APP, "--wait", "20", "--traceback"],
        env,
      );
      assert.equal(failed.code, 1);
      const [state, error] = failed.stdout.split("\n");
      assert.equal(state, "FAILURE");
      assert.equal(error, "ValueError: no good");
      assert.match(failed.stdout, /ValueError: no good\n\s+at /);

      const run = await worker.stop("SIGTERM");
      stopped = true;
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /Warm shutdown/);
      assert.match(run.stderr, new RegExp(`Task clitest\\.add\\[${id}\\] received`));
      assert.match(
        run.stderr,
        new RegExp(`Task clitest\\.add\\[${id}\\] succeeded in [\\d.e-]+s: 5`),
      );
      assert.match(run.stdout, /\[tasks\]\n {2}\. clitest\.add\n {2}\. clitest\.fail/);
      assert.match(run.stdout, /\.> transport: {3}sqlite:\/\//);
    } finally {
      if (!stopped) await worker.stop("SIGKILL");
    }
  });
});

Deno.test("user mistakes: one line on stderr, non-zero exit, no stack trace", async () => {
  await withHome(async (env) => {
    const cases: [string[], RegExp][] = [
      [["frobnicate"], /unknown command "frobnicate"/],
      [["call", "clitest.add"], /missing --app \(or -A\)/],
      [["call", "-A", FIXTURE_APP], /missing the task name/],
      [["call", "clitest.add", "-A", FIXTURE_APP, "--args", "[1,"], /invalid JSON for --args/],
      [
        ["call", "clitest.add", "-A", FIXTURE_APP, "--args", '{"x": 1}'],
        /--args must be a JSON array/,
      ],
      [
        ["call", "clitest.add", "-A", FIXTURE_APP, "--kwargs", "[1]"],
        /--kwargs must be a JSON object/,
      ],
      [
        ["call", "clitest.add", "-A", FIXTURE_APP, "--countdown", "soon"],
        /invalid value for --countdown/,
      ],
      [
        ["call", "clitest.add", "-A", "./no/such/module.ts"],
        /cannot import \.\/no\/such\/module\.ts/,
      ],
      [
        ["call", "clitest.add", "-A", `${FIXTURE_APP}:nothing`],
        /no Celery app exported as "nothing"/,
      ],
      [["worker", "-A", FIXTURE_APP, "-P", "prefork"], /invalid value for -P\/--pool: "prefork"/],
      [["worker", "-A", FIXTURE_APP, "-c", "0"], /invalid value for -c\/--concurrency: "0"/],
      [["worker", "-A", FIXTURE_APP, "--loglevel", "LOUD"], /Invalid log level "LOUD"/],
      [
        ["worker", "-A", FIXTURE_APP, "--eta-hold-limit", "0"],
        /invalid value for --eta-hold-limit: "0"/,
      ],
      [["worker", "-A", FIXTURE_APP, "--bogus"], /unknown option '--bogus'/i],
      [["result", "-A", FIXTURE_APP], /missing the task id/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args, env)));
    runs.forEach((run, index) => {
      const [args, expected] = cases[index];
      const label = args.join(" ");
      assert.notEqual(run.code, 0, label);
      assert.equal(run.stdout, "", label);
      const lines = run.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `${label}: ${run.stderr}`);
      assert.match(lines[0], /^celeriac: error: /, label);
      assert.match(lines[0], expected, label);
      assert.doesNotMatch(run.stderr, /^\s+at /m, label);
    });
  });
});
