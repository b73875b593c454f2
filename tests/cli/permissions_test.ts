/**
 * Missing Deno permissions are named up front, every missing flag in one
 * message (not `getaddrinfo EPERM localhost` later, not a hint to --help),
 * and the embedded default never moves its file when it cannot read the
 * environment.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FIXTURE_APP } from "./cli_tools.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** Runs `deno run <permissions> <args>` and returns the exit code and stderr. */
async function runWith(permissions: string[], args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("a worker without flags names --allow-env, --allow-read and --allow-sys at once", async () => {
  const run = await runWith([], [CLI, "worker", "--app", FIXTURE_APP]);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /^celeriac: error: celeriac worker needs Deno permissions/);
  for (const flag of ["--allow-env", "--allow-read", "--allow-sys=hostname"]) {
    assert.ok(run.stderr.includes(`${flag} (`), `${flag} not named: ${run.stderr}`);
  }
  assert.match(run.stderr, /--allow-net for a RabbitMQ or Redis broker/);
  assert.doesNotMatch(run.stderr, /--help|EPERM|\n\s+at /);
  assert.equal(run.stderr.trim().split("\n").length, 1);
});

Deno.test("the broker's and the result backend's hosts are named as --allow-net flags", async () => {
  const run = await runWith(
    ["--allow-read", "--allow-env", "--allow-sys"],
    [CLI, "worker", "--app", FIXTURE_APP],
    {
      CELERY_BROKER_URL: "amqp://guest:s3cret@rabbit.internal:5673//",
      CELERY_RESULT_BACKEND: "redis://127.0.0.1/3",
    },
  );
  assert.equal(run.code, 1, run.stderr);
  assert.match(
    run.stderr,
    /--allow-net=rabbit\.internal:5673 \(broker amqp:\/\/guest:[^@]*@rabbit/,
  );
  assert.match(run.stderr, /--allow-net=127\.0\.0\.1:6379 \(result backend redis:/);
  assert.ok(!run.stderr.includes("s3cret"));
  assert.doesNotMatch(run.stderr, /EPERM/);
});

Deno.test("call and result name --allow-write for the embedded default's directory", async () => {
  const home = await Deno.makeTempDir({ prefix: "celeriac-perm-" });
  try {
    for (const args of [["call", "clitest.add"], ["result", crypto.randomUUID()]]) {
      const run = await runWith(["--allow-read", "--allow-env"], [
        CLI,
        ...args,
        "--app",
        FIXTURE_APP,
      ], { CELERIAC_HOME: home });
      assert.equal(run.code, 1, run.stderr);
      assert.ok(run.stderr.includes(`--allow-write=${home} (broker data in ${home}/`), run.stderr);
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("without --allow-env the embedded default refuses to guess where its file is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-perm-" });
  const mod = new URL("../../mod.ts", import.meta.url).href;
  await Deno.writeTextFile(
    `${dir}/main.ts`,
    `import { Celery } from "${mod}";
const app = new Celery("proj");
try {
  console.log(app.brokerUrl());
} catch (error) {
  console.error(String(error));
}
`,
  );
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "main.ts"],
      cwd: dir,
      stdin: "null",
      env: { NO_COLOR: "1" },
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(stdout, "", "no path was made up");
    assert.match(
      stderr,
      /ConfigurationError: Cannot tell where the embedded default keeps its data/,
    );
    assert.match(stderr, /needs --allow-env/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("beat names --allow-write for the directory of its schedule file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-perm-" });
  const app = new URL("../beat/cli_app.ts", import.meta.url).pathname;
  try {
    const run = await runWith(
      ["--allow-read", "--allow-env", "--allow-net", "--allow-sys"],
      [CLI, "beat", "--app", app, "-s", `${dir}/schedule.json`],
      { CELERY_BROKER_URL: "redis://127.0.0.1:6379/0" },
    );
    assert.equal(run.code, 1, run.stderr);
    assert.ok(
      run.stderr.includes(`--allow-write=${dir} (beat's schedule file ${dir}/schedule.json)`),
      run.stderr,
    );
    assert.doesNotMatch(run.stderr, /--allow-net|--allow-read=/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
