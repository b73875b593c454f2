/**
 * `celeriac call`: a name the loaded app does not define is sent with a
 * warning (and a suggestion); a known task's arguments are checked as Python
 * checks a call, before anything is sent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FIXTURE_APP, runCli } from "./cli_tools.ts";

async function withHome(body: (env: Record<string, string>) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "celeriac-call-" });
  try {
    await body({ CELERIAC_HOME: home });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("call of a name the app does not know warns, suggests, and still sends", async () => {
  await withHome(async (env) => {
    const run = await runCli(["call", "add", "--app", FIXTURE_APP, "--args", "[1, 2]"], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^[0-9a-f-]{36}\n$/);
    assert.match(
      run.stderr,
      /celeriac: warning: the app clitest has no task named "add" \(did you mean "clitest\.add"\?\)/,
    );
    const known = await runCli(
      ["call", "clitest.add", "--app", FIXTURE_APP, "--args", "[1, 2]"],
      env,
    );
    assert.equal(known.code, 0, known.stderr);
    assert.doesNotMatch(known.stderr, /warning/);
  });
});

Deno.test("call of a known task with arguments that do not fit fails before sending", async () => {
  await withHome(async (env) => {
    const run = await runCli(["call", "clitest.add", "--app", FIXTURE_APP, "--args", "[1]"], env);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.match(
      run.stderr,
      /^celeriac: error: TypeError: clitest\.add\(\) missing 1 required positional argument: 'y'$/m,
    );
  });
});

Deno.test("--app works in every place: before the command, after it, and as --app=", async () => {
  await withHome(async (env) => {
    for (
      const args of [
        ["--app", FIXTURE_APP, "call", "clitest.add", "--args", "[1, 2]"],
        [`--app=${FIXTURE_APP}`, "call", "clitest.add", "--args", "[1, 2]"],
        ["call", "clitest.add", `--app=${FIXTURE_APP}`, "--args", "[1, 2]"],
        ["result", crypto.randomUUID(), "--app", FIXTURE_APP],
      ]
    ) {
      const run = await runCli(args, env);
      assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
    }
  });
});
