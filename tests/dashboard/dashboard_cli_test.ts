/**
 * `celeriac dashboard` as users start it: with `--broker` and no app, the
 * banner prints the URL, the token guards it, SIGTERM stops it; without an
 * app or a broker it is a usage error.
 *
 * @module
 */

import assert from "node:assert/strict";
import { REDIS_URL } from "../integration/redis_test_tools.ts";
import { REPO_ROOT } from "../interop/celeriac_worker.ts";
import { serviceAvailable } from "../services.ts";

const available = await serviceAvailable("redis");

Deno.test({
  name: "dashboard CLI: --broker without an app, banner with the URL, token, SIGTERM",
  ignore: !available,
  fn: async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "cli.ts",
        "dashboard",
        "--broker",
        REDIS_URL,
        "--port",
        "0",
        "--auth-token",
        "t0k",
      ],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let banner = "";
    while (!/http:\/\/127\.0\.0\.1:\d+\//.test(banner)) {
      const { value, done } = await reader.read();
      if (done) break;
      banner += value;
    }
    try {
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(banner)?.[0];
      assert.ok(url, `no URL in the banner: ${banner}`);
      assert.match(banner, /celeriac dashboard for redis:/);
      const refused = await fetch(url);
      assert.equal(refused.status, 401);
      await refused.body?.cancel();
      const page = await fetch(url, { headers: { authorization: "Bearer t0k" } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script type="module" src="\/ui\/app.js">/);
      const module = await fetch(new URL("/ui/vendor/preact.js", url), {
        headers: { authorization: "Bearer t0k" },
      });
      assert.equal(module.headers.get("content-type"), "text/javascript; charset=utf-8");
      assert.match(await module.text(), /export\s*\{/);
    } finally {
      child.kill("SIGTERM");
      const status = await child.status;
      await reader.cancel();
      const stderr = await new Response(child.stderr).text();
      assert.equal(status.code, 0, stderr);
    }
  },
});

Deno.test("dashboard CLI: neither an app nor a broker is a usage error", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", "dashboard", "--port", "0"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 2);
  assert.match(
    new TextDecoder().decode(output.stderr),
    /-A \.\/app\.ts, or the broker with --broker/,
  );
});
