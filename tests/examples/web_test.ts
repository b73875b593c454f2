/**
 * examples/web: a `Deno.serve` handler enqueues a task and its page shows
 * the state. The server runs as its own process (`--worker` runs a worker in
 * it too) on any free port, on the embedded default.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ROOT, withHome } from "./example_runner.ts";

/** Starts the server; resolves with its base URL once it listens. */
async function startServer(home: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "examples/web/server.ts", "--worker"],
    cwd: ROOT,
    env: { NO_COLOR: "1", CELERIAC_HOME: home, PORT: "0" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let stdout = "";
  let found!: (url: string) => void;
  const listening = new Promise<string>((resolve) => (found = resolve));
  const stdoutDone = child.stdout.pipeTo(
    new WritableStream({
      write(chunk) {
        stdout += decoder.decode(chunk);
        const match = /Listening on http:\/\/[^:]+:(\d+)\//.exec(stdout);
        if (match) found(`http://127.0.0.1:${match[1]}`);
      },
    }),
  );
  const stderr = new Response(child.stderr).text();
  const status = child.status.then((s) => {
    found("");
    return s;
  });
  const base = await listening;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    const { code } = await status;
    await stdoutDone;
    return { code, stdout, stderr: await stderr };
  };
  if (!base) throw new Error(`the server exited: ${(await stop()).stderr}`);
  return { base, stop };
}

Deno.test("examples/web: POST enqueues a task, its page shows the state", async () => {
  await withHome(async (home) => {
    const server = await startServer(home);
    let stopped = false;
    try {
      const form = await fetch(`${server.base}/`);
      assert.equal(form.status, 200);
      assert.match(await form.text(), /<form method="post" action="\/tasks">/);

      const sent = await fetch(`${server.base}/tasks`, {
        method: "POST",
        body: new URLSearchParams({ text: "the quick brown fox" }),
        redirect: "manual",
      });
      await sent.body?.cancel();
      assert.equal(sent.status, 303);
      const location = sent.headers.get("location") ?? "";
      assert.match(location, /^\/tasks\/[0-9a-f-]{36}$/);

      let state = "PENDING";
      let body: { id: string; state: string; result: unknown } | undefined;
      for (let polls = 0; state !== "SUCCESS"; polls++) {
        assert.ok(polls < 600, `still ${state} after ${polls} polls`);
        const page = await fetch(`${server.base}${location}`, {
          headers: { accept: "application/json" },
        });
        body = await page.json();
        state = body!.state;
        assert.ok(["PENDING", "STARTED", "SUCCESS"].includes(state), state);
        if (state !== "SUCCESS") await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.deepEqual(body, { id: location.slice(7), state: "SUCCESS", result: 4 });

      const html = await (await fetch(`${server.base}${location}`)).text();
      assert.match(html, /State: <strong id="state">SUCCESS<\/strong>/);
      assert.match(html, /Result: <output id="result">4<\/output>/);

      const bad = await fetch(`${server.base}/tasks`, { method: "POST", body: "" });
      await bad.body?.cancel();
      assert.equal(bad.status, 400);
      const missing = await fetch(`${server.base}/nowhere`);
      await missing.body?.cancel();
      assert.equal(missing.status, 404);

      const run = await server.stop();
      stopped = true;
      assert.equal(run.code, 0, run.stderr);
    } finally {
      if (!stopped) await server.stop();
    }
  });
});
