/**
 * Idle client connections let a script exit, but a worker started from code
 * (`app.worker()`) keeps its process alive until it is stopped, on Redis and
 * RabbitMQ, whose sockets are unreferenced while idle.
 *
 * @module
 */

import assert from "node:assert/strict";
import { serviceAvailable, SERVICES, uniqueName } from "../services.ts";
import { deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { deleteKeysWithPrefix } from "../integration/redis_test_tools.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

/** A script that starts a worker from code, then stops it when told on stdin. */
function workerScript(broker: string, queue: string, prefix: string): string {
  return `import { Celery } from "${MOD}";
const app = new Celery("keep", {
  broker: "${broker}",
  config: {
    task_default_queue: "${queue}",
    broker_transport_options: { global_keyprefix: "${prefix}" },
  },
});
await app.worker({ pool: "async", banner: false });
console.log("started");
for await (const _ of Deno.stdin.readable) break;
console.log("stopping");
`;
}

for (const service of ["redis", "rabbitmq"] as const) {
  Deno.test(`a worker started from code keeps the process alive on ${service}`, async () => {
    if (!await serviceAvailable(service)) return;
    const queue = uniqueName("keep-alive");
    const prefix = `${queue}:`;
    const dir = await Deno.makeTempDir({ prefix: "celeriac-keep-" });
    await Deno.writeTextFile(`${dir}/main.ts`, workerScript(SERVICES[service], queue, prefix));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts"],
      cwd: dir,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const decoder = new TextDecoder();
    let stdout = "";
    let stderr = "";
    const started = Promise.withResolvers<void>();
    const outDone = child.stdout.pipeTo(
      new WritableStream({
        write: (chunk) => {
          stdout += decoder.decode(chunk);
          if (stdout.includes("started\n")) started.resolve();
        },
      }),
    );
    const errDone = child.stderr.pipeTo(
      new WritableStream({ write: (chunk) => void (stderr += decoder.decode(chunk)) }),
    );
    const exited = child.status.then(() => "exited");
    try {
      assert.equal(await Promise.race([started.promise.then(() => "started"), exited]), "started");
      // Then alive for two seconds with nothing to do but wait for tasks.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        exited,
        new Promise((resolve) => timer = setTimeout(() => resolve("alive"), 2000)),
      ]);
      clearTimeout(timer);
      assert.equal(outcome, "alive", stderr);
    } finally {
      await child.stdin.close().catch(() => {});
      try {
        child.kill("SIGKILL");
      } catch {
        // exited
      }
      await Promise.all([child.status, outDone, errDone]);
      await Deno.remove(dir, { recursive: true });
      if (service === "rabbitmq") await deleteAmqpEntities([queue]);
      else await deleteKeysWithPrefix(prefix);
    }
  });
}
