/**
 * The README's code, read from README.md and run unchanged as a user's
 * files: the Quick start on the embedded default, RabbitMQ and Redis (the
 * client must print 8 and exit by itself, without `app.close()`), the
 * "without any server" commands, the shared-task library, the configuration
 * lines and the periodic-task app.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ROOT } from "./example_runner.ts";
import { type BrokerChoice, runTimed, startBackground } from "./readme_places.ts";
import { commandLine, readmeBlock, scratchProject, shellWords } from "./readme_snippets.ts";
import { runBesideQuickStartWorker } from "./quick_start_run.ts";

const CHOICES: BrokerChoice[] = ["embedded", "rabbitmq", "rabbitmq-rpc", "redis"];

for (const choice of CHOICES) {
  Deno.test(`README Quick start on ${choice}: the client prints 8 and exits by itself`, async () => {
    const client = readmeBlock('import { add } from "./tasks.ts";');
    const run = await runBesideQuickStartWorker(choice, client.text);
    if (!run) return;
    assert.equal(run.code, 0, `the client did not exit by itself:\n${run.stderr}`);
    assert.equal(run.stdout, "8\n");
    assert.ok(run.exitLagMs < 1000, `exited ${run.exitLagMs} ms after its last line`);
  });
}

Deno.test("README 'without any server': worker task, client, call and result", async () => {
  const block = readmeBlock("deno task worker                                   # terminal 1");
  const home = await Deno.makeTempDir({ prefix: "celeriac-readme-home-" });
  const env = { CELERIAC_HOME: home };
  // `deno task worker` is deno.json's command; run it directly so SIGTERM reaches the worker.
  const task = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks.worker as string;
  assert.equal(commandLine(block, "deno task worker"), "deno task worker");
  const worker = startBackground(shellWords(task), ROOT, env);
  try {
    await worker.waitFor(/ ready\.$/m);
    const client = await runTimed(shellWords(commandLine(block, "client.ts")), ROOT, env, 30_000);
    assert.equal(client.code, 0, client.stderr);
    assert.match(client.stdout, /^sent tasks\.add\[[\w-]+\]\nresult: 8\n$/);
    const call = await runTimed(shellWords(commandLine(block, " call ")), ROOT, env, 30_000);
    assert.equal(call.code, 0, call.stderr);
    const id = call.stdout.trim();
    assert.match(id, /^[0-9a-f-]{36}$/);
    const resultWords = shellWords(commandLine(block, " result ")).map((word) =>
      word === "<id>" ? id : word
    );
    const deadline = Date.now() + 30_000;
    let result = await runTimed(resultWords, ROOT, env, 30_000);
    while (result.stdout.startsWith("PENDING") && Date.now() < deadline) {
      result = await runTimed(resultWords, ROOT, env, 30_000);
    }
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "SUCCESS\n4\n");
  } finally {
    const stopped = await worker.stop();
    await Deno.remove(home, { recursive: true });
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});

Deno.test("README shared task library: every app has mul, and it runs", async () => {
  const library = readmeBlock("// library.ts");
  const main = `import { Celery } from "jsr:@celeriac/celeriac";
import { mul } from "./library.ts";
const app = new Celery("proj", { broker: "memory://", backend: "memory://" });
console.log(app.tasks.get("mul") === mul, await mul(6, 7));
`;
  const dir = await scratchProject({ "library.ts": library.text, "main.ts": main });
  try {
    const run = await runTimed(["deno", "run", "-A", "main.ts"], dir, {}, 30_000);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "true 42\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README Configuration lines run against an app and a config module", async () => {
  const lines = readmeBlock("app.conf.enable_utc = true;");
  const main = `import { Celery } from "jsr:@celeriac/celeriac";
const app = new Celery("proj", { broker: "memory://", backend: "memory://" });
${lines.text}`;
  const config = `export const broker_url = "redis://:s3cret@cache:6379/0";\n`;
  const dir = await scratchProject({ "main.ts": main, "celeryconfig.ts": config });
  try {
    const env = { CELERY_CONFIG_MODULE: "./celeryconfig.ts" };
    const run = await runTimed(["deno", "run", "-A", "main.ts"], dir, env, 30_000);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^broker_url: "redis:\/\/:[^"]*@cache:6379\/0"$/m);
    assert.match(run.stdout, /^timezone: "Europe\/Rome"$/m);
    assert.doesNotMatch(run.stdout, /s3cret/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README periodic tasks: the app defines both schedules", async () => {
  const app = readmeBlock('"heartbeat-every-30-seconds"');
  const main = `import { app } from "./periodic.ts";
console.log(Object.keys(app.conf.beat_schedule).join(","));
`;
  const dir = await scratchProject({ "periodic.ts": app.text, "main.ts": main });
  try {
    const run = await runTimed(["deno", "run", "-A", "main.ts"], dir, {}, 30_000);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "heartbeat-every-30-seconds,monthly-report\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mod.ts imported by URL from a project without an import map works", async () => {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-no-map-" });
  const main = `import { Celery } from "${new URL("mod.ts", `file://${ROOT}`).href}";
const app = new Celery("proj", { broker: "memory://", backend: "memory://" });
const add = app.task(function add(x: number, y: number) { return x + y; });
console.log(await add(2, 3));
`;
  await Deno.writeTextFile(`${dir}/main.ts`, main);
  try {
    const run = await runTimed(["deno", "run", "--no-config", "-A", "main.ts"], dir, {}, 60_000);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "5\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
