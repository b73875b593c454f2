/**
 * Every runnable example, run as the README says, on the embedded default.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runDeno, runExample, withHome } from "./example_runner.ts";
import { startWorker } from "../cli/cli_tools.ts";
// Type-only imports: `deno test` type-checks every example without running it here.
import type * as _demo from "../../examples/demo.ts";
import type * as _firstSteps from "../../examples/first_steps/client.ts";
import type * as _severalApps from "../../examples/several_apps/apps.ts";
import type * as _configuration from "../../examples/configuration/app.ts";
import type * as _production from "../../examples/configuration/production.ts";
import type * as _debugTask from "../../examples/debug_task/app.ts";
import type * as _sharedTasks from "../../examples/shared_tasks/app.ts";
import type * as _web from "../../examples/web/server.ts";
import type * as _periodic from "../../examples/periodic/app.ts";

Deno.test("examples/demo.ts (deno task demo)", async () => {
  const run = await withHome((home) => runDeno(["task", "demo"], { CELERIAC_HOME: home }));
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split("\n");
  assert.ok(lines.includes("add(4, 4) = 8"), run.stdout);
  assert.ok(lines.includes("fail(...) raised ValueError: this task always fails"), run.stdout);
  assert.ok(lines.some((line) => /^whoami\(\) = demo\.whoami\[[\w-]+\] ran on /.test(line)));
  assert.ok(lines.includes("mul(6, 7) (a shared task) = 42"), run.stdout);
  assert.match(run.stdout, /\.> concurrency: 2 \(workers\)/);
  assert.match(run.stdout, /\.> data: +\/.*embedded\.sqlite3 \(embedded default\)/);
  assert.match(run.stderr, /Task demo\.add\[[\w-]+\] succeeded in [\d.e-]+s: 8/);
});

Deno.test("examples/first_steps: a worker process and a client", async () => {
  await withHome(async (home) => {
    const env = { CELERIAC_HOME: home };
    const worker = await startWorker(
      ["-A", "./examples/first_steps/tasks.ts", "--loglevel", "INFO", "-c", "1"],
      env,
    );
    try {
      const client = await runDeno(["run", "-A", "examples/first_steps/client.ts"], env);
      assert.equal(client.code, 0, client.stderr);
      assert.match(client.stdout, /^sent tasks\.add\[[\w-]+\]\nresult: 8\n$/);
    } finally {
      const run = await worker.stop("SIGTERM");
      assert.equal(run.code, 0, run.stderr);
    }
  });
});

Deno.test("examples/several_apps: two apps, task naming", async () => {
  const run = await runExample("several_apps/apps.ts");
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^<Celery billing at 0x[0-9a-f]+>: tasks billing\.charge, queue/m);
  assert.match(run.stdout, /^<Celery mail at 0x[0-9a-f]+>: tasks send-welcome-mail, queue/m);
  assert.match(run.stdout, /=== charge: true$/m);
  assert.match(run.stdout, /^billing\.charge: charged ada 12\.50 EUR$/m);
  assert.match(run.stdout, /^send-welcome-mail: welcome mail sent to ada@example\.com$/m);
});

Deno.test("examples/configuration: a config module, an env variable, censoring", async () => {
  const plain = await runExample("configuration/app.ts");
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^broker: sqlite:\/\//m);
  assert.match(plain.stdout, /^ {2}timezone: "Europe\/Oslo"$/m);
  assert.match(plain.stdout, /^ {2}result_expires: 3600$/m);
  assert.match(plain.stdout, /^ {2}api_token: "\*{8}"$/m);
  assert.doesNotMatch(plain.stdout, /not-a-real-token|task_acks_late/);
  assert.match(plain.stdout, /^add\(2, 3\) = 5$/m);

  const production = await runExample("configuration/app.ts", {
    CELERY_CONFIG_MODULE: "./examples/configuration/production.ts",
  });
  assert.equal(production.code, 0, production.stderr);
  assert.match(production.stdout, /^ {2}task_acks_late: true$/m);
  assert.match(production.stdout, /^ {2}task_track_started: true$/m);
  assert.match(production.stdout, /^add\(2, 3\) = 5$/m);
});

Deno.test("examples/debug_task: the bound debug_task prints its request", async () => {
  const run = await runExample("debug_task/app.ts");
  assert.equal(run.code, 0, run.stderr);
  const match = /^Request: <Context: \{'id': '([\w-]+)', 'task': 'proj\.debug_task', .*\}>$/m
    .exec(run.stdout);
  assert.ok(match, run.stdout);
  assert.match(
    run.stdout,
    /'delivery_info': \{'exchange': '', 'routing_key': 'examples\.debug_task'/,
  );
  assert.match(run.stdout, /'is_eager': False/);
  assert.ok(run.stdout.includes(`debug_task[${match[1]}] done`));
});

Deno.test("examples/shared_tasks: a library of shared tasks used by an app", async () => {
  const run = await runExample("shared_tasks/app.ts");
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^current app: <Celery shared_example at 0x[0-9a-f]+>$/m);
  assert.match(run.stdout, /^tasks: mul, xsum$/m);
  assert.match(run.stdout, /^mul\(6, 7\) = 42$/m);
  assert.match(run.stdout, /^xsum\(\[1, 2, 3\]\) = 6$/m);
});
