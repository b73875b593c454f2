/**
 * The operator's commands run as a user would, against a celeriac worker
 * process on RabbitMQ: `status`, `inspect`, `control`, `revoke`, `purge`
 * (asks first; `-f`), `events --dump` and the live `events` view, with
 * `--help`, `--destination`, `--timeout` and `--json`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { startCeleriacWorker } from "../interop/celeriac_worker.ts";
import { eventually, isolatedSettings } from "../interop/events_control_scenarios.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import { runCli } from "./cli_tools.ts";

const available = await serviceAvailable("rabbitmq");
const APP = "tests/interop/worker_app.ts";
const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("--help for inspect, control, status, purge, events and revoke", async () => {
  const commands = ["inspect", "control", "status", "purge", "events", "revoke"];
  const runs = await Promise.all(commands.map((command) => runCli([command, "--help"])));
  runs.forEach((run, index) => {
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^Usage: celeriac ${commands[index]}`));
  });
  for (
    const run of runs.filter((_, index) =>
      commands[index] !== "purge" && commands[index] !== "events"
    )
  ) {
    for (const flag of ["--destination", "--timeout", "--json"]) {
      assert.ok(run.stdout.includes(flag));
    }
  }
  assert.ok(runs[0].stdout.includes("active_queues"));
  assert.ok(runs[1].stdout.includes("rate_limit"));
  assert.ok(runs[3].stdout.includes("--force"));
  assert.ok(runs[4].stdout.includes("--dump"));
  const main = await runCli(["--help"]);
  for (const command of commands) assert.match(main.stdout, new RegExp(`^  ${command} `, "m"));
});

/** Spawns a long-running CLI command and collects its stdout. */
function spawnCli(args: string[], env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const out = { text: "" };
  const done = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) out.text += decoder.decode(chunk, { stream: true });
  })();
  return {
    out,
    stop: async () => {
      child.kill("SIGINT");
      await child.status;
      await done;
    },
  };
}

Deno.test({
  name: "status, inspect, control, revoke, purge and events against a worker process",
  ignore: !available,
  fn: async () => {
    const config = isolatedSettings();
    const env = {
      CELERY_BROKER_URL: AMQP_URL,
      CELERY_RESULT_BACKEND: "rpc://",
      CELERIAC_IT_CONFIG: JSON.stringify(config),
    };
    const node = `${uniqueName("cli-ops")}@test`;
    const other = uniqueName("cli-ops-other");
    const run = (...args: string[]) =>
      runCli([args[0], "-A", `${ROOT}${APP}`, ...args.slice(1)], env);
    const dump = spawnCli(["events", "-A", APP, "--dump"], env);
    try {
      await using _worker = await startCeleriacWorker({
        module: APP,
        env,
        hostname: node,
        concurrency: 1,
        args: ["-E", "--without-mingle"],
      });

      const status = await run("status", "-d", node);
      assert.equal(status.code, 0, status.stderr);
      assert.equal(status.stdout, `->  ${node}: OK\n\n1 node online.\n`);

      const ping = await run("inspect", "ping", "--json", "-d", node);
      assert.deepEqual(JSON.parse(ping.stdout), { [node]: { ok: "pong" } });
      const registered = await run("inspect", "registered", "-d", node);
      assert.ok(
        registered.stdout.includes(`->  ${node}: OK\n    * interop.add\n`),
        registered.stdout,
      );

      const limit = await run("control", "rate_limit", "interop.add", "10/m", "-d", node);
      assert.equal(
        limit.stdout,
        `->  ${node}: OK\n        new rate limit set successfully\n\n1 node online.\n`,
      );

      const sent = await run("call", "interop.add", "--args", "[1, 2]", "--countdown", "60");
      const id = sent.stdout.trim();
      const scheduled = await eventually("the countdown task in inspect scheduled", async () => {
        const replies = await run("inspect", "scheduled", "--json", "-d", node);
        return replies.stdout.includes(id) ? replies : undefined;
      });
      assert.equal(scheduled.code, 0);
      const revoke = await run("revoke", id, "-d", node);
      assert.equal(
        revoke.stdout,
        `->  ${node}: OK\n        tasks ${id} flagged as revoked\n\n1 node online.\n`,
      );
      const revoked = await run("inspect", "revoked", "--json", "-d", node);
      assert.deepEqual(JSON.parse(revoked.stdout), { [node]: [id] });

      const nobody = await run("inspect", "ping", "-d", "nobody@nowhere", "-t", "0.3");
      assert.equal(nobody.code, 69);
      assert.match(nobody.stderr, /No nodes replied within time constraint/);

      for (let i = 0; i < 3; i++) {
        await run("call", "interop.add", "--args", "[1, 1]", "--queue", other);
      }
      const refused = await run("purge", "-Q", other);
      assert.equal(refused.code, 1);
      assert.match(refused.stdout, /Are you sure you want to delete all tasks\?/);
      const purged = await run("purge", "-f", "-Q", other);
      assert.equal(purged.stdout, "Purged 3 messages from 1 known task queue.\n");
      const again = await run("purge", "-f", "-Q", other);
      assert.equal(again.stdout, "No messages purged from 1 queue.\n");

      const live = spawnCli(["events", "-A", APP], env);
      try {
        await eventually(
          "the live view to show the worker online",
          () => live.out.text.includes(node) && live.out.text.includes("ONLINE") || undefined,
        );
        assert.ok(live.out.text.includes("\x1b[H\x1b[2J"), "redrawn in place");
      } finally {
        await live.stop();
      }
      await eventually(
        "--dump to show a heartbeat",
        () =>
          dump.out.text.split("\n").find((line) =>
            line.startsWith(`${node} [`) && line.includes("] heartbeat: active=")
          ),
      );
      await eventually(
        "--dump to show the revoked task",
        () =>
          dump.out.text.split("\n").find((line) =>
            line.includes(`] task received: interop.add(${id}) args=(1, 2) kwargs={}`)
          ),
      );
      assert.match(dump.out.text, /^-> evdump: starting capture\.\.\./);
    } finally {
      await dump.stop();
      const control = config.control_exchange as string;
      await deleteAmqpEntities([
        config.task_default_queue as string,
        other,
        config.event_exchange as string,
        `${control}.pidbox`,
        `reply.${control}.pidbox`,
      ]);
    }
  },
});
