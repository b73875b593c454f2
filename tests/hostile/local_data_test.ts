/**
 * What stays on the machine: the embedded SQLite file and its directories
 * are created owner-only (the queued tasks and results of one user are not
 * readable by the others), and a task id with a newline cannot forge a log
 * line.
 */

import assert from "node:assert/strict";
import { Celery } from "../../mod.ts";
import { encodeTaskMessage } from "../../src/protocol/task_message.ts";
import { setupLogging, stopLogging } from "../../src/log.ts";
import { taskCall } from "../interop/redis_interop_tools.ts";

Deno.test({
  name: "the embedded SQLite file is 0600 and its new directories 0700, under the usual umask",
  ignore: Deno.build.os === "windows",
  async fn() {
    const root = await Deno.makeTempDir();
    await Deno.chmod(root, 0o755);
    const dir = `${root}/a/b`;
    const app = new Celery("perm", {
      config: {
        broker_url: `sqlite://${dir}/embedded.sqlite3`,
        result_backend: `sqlite://${dir}/embedded.sqlite3`,
      },
      setAsCurrent: false,
    });
    try {
      const add = app.task(function add(x: number, y: number) {
        return x + y;
      });
      await add.delay(1, 2); // creates the file (broker and backend, WAL and shared memory)
      for (const path of [`${root}/a`, dir]) {
        assert.equal((await Deno.stat(path)).mode! & 0o777, 0o700, path);
      }
      for (const name of ["embedded.sqlite3", "embedded.sqlite3-wal", "embedded.sqlite3-shm"]) {
        const stat = await Deno.stat(`${dir}/${name}`).catch(() => undefined);
        if (stat) assert.equal(stat.mode! & 0o777, 0o600, name);
      }
      assert.ok(await Deno.stat(`${dir}/embedded.sqlite3-wal`), "WAL file checked too");
    } finally {
      await app.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("a newline in a task id or name cannot start a forged log line", async () => {
  const dir = await Deno.makeTempDir();
  const app = new Celery("forge", {
    config: {
      broker_url: `sqlite://${dir}/q.sqlite3`,
      result_backend: `sqlite://${dir}/q.sqlite3`,
    },
    setAsCurrent: false,
  });
  app.task(function add(x: number, y: number) {
    return x + y;
  }, { name: "forge.add" });
  const logged: string[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => logged.push(args.map(String).join(" "));
  await setupLogging({ level: "INFO" });
  const worker = await app.worker({ pool: "async", concurrency: 1, banner: false });
  try {
    const forged = "\n[2099-01-01 00:00:00,000: CRITICAL/MainProcess] FORGED";
    const call = taskCall("forge.add", [1, 2]);
    call.id = `${crypto.randomUUID()}${forged}`;
    const unknown = taskCall(`forge.nope${forged}`, []);
    unknown.id = `${crypto.randomUUID()}\r\x1b[2J${forged}`;
    const broker = await app.getBroker();
    const target = { exchange: "", routingKey: "celery", queue: worker.queues[0] };
    await broker.publish(encodeTaskMessage(call), target);
    await broker.publish(encodeTaskMessage(unknown), target);
    assert.equal(await app.asyncResult(call.id).get({ timeout: 10 }), 3);
    await app.asyncResult(unknown.id).get({ timeout: 10, propagate: false });
  } finally {
    await worker.stop();
    console.error = consoleError;
    await stopLogging();
    await app.close();
    await Deno.remove(dir, { recursive: true });
  }
  const lines = logged.join("\n").split("\n");
  assert.ok(lines.some((line) => line.includes("succeeded")), logged.join("\n"));
  assert.ok(lines.some((line) => /unregistered task/.test(line)), logged.join("\n"));
  const forgedLines = lines.filter((line) => line.startsWith("[2099-"));
  assert.deepEqual(forgedLines, [], logged.join("\n"));
  assert.ok(!logged.join("").includes("\x1b"), "no raw escape sequence");
  assert.ok(logged.some((line) => line.includes("\\n[2099-01-01")), "the newline is shown escaped");
});
