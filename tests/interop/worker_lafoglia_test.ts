/**
 * The seeds' RabbitMQ configuration works as written: virtual host
 * `lafoglia`, one queue, exchange and routing key all named `lafoglia`
 * (`task_queues`, `task_default_*`, `task_routes`, `worker -Q lafoglia`).
 * examples/rabbitmq runs as its JSDoc says, and interoperates with a Python
 * Celery 5.2.6 app configured exactly as the seeds are (python/seed_app.py).
 *
 * The virtual host is created (and guest granted) when missing, and deleted
 * afterwards only when this test created it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AMQP_URL, rabbitmqctl } from "../integration/amqp_helpers.ts";
import { serviceAvailable } from "../services.ts";
import { REPO_ROOT, startCeleriacWorker } from "./celeriac_worker.ts";
import { runPythonClient, startPythonWorker } from "./python/harness.ts";
// Type-only: `deno test` type-checks the example without running it here.
import type * as _example from "../../examples/rabbitmq/client.ts";

const available = await serviceAvailable("rabbitmq");
const VHOST = "lafoglia";

/** The test broker's URL with the `lafoglia` virtual host. */
function lafogliaUrl(): string {
  const url = new URL(AMQP_URL.replace(/^[a-z]+:/, "http:"));
  const auth = url.username ? `${url.username}:${url.password}@` : "";
  return `amqp://${auth}${url.host}/${VHOST}`;
}

/** Creates the virtual host and grants guest when missing; true when this call created it. */
async function ensureVhost(): Promise<boolean> {
  const vhosts = (await rabbitmqctl(["list_vhosts", "name"])).split("\n").map((l) => l.trim());
  if (vhosts.includes(VHOST)) return false;
  await rabbitmqctl(["add_vhost", VHOST]);
  await rabbitmqctl(["set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"]);
  return true;
}

async function runExampleClient(env: Record<string, string>): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "examples/rabbitmq/client.ts"],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(output.code, 0, decoder.decode(output.stderr));
  return decoder.decode(output.stdout);
}

const EXPECTED_CLIENT_OUTPUT = [
  "lafoglia.add(2, 3) = 5",
  'lafoglia.greet("Ada", greeting="ciao") = ciao, Ada',
  "send_task lafoglia.add(20, 22) = 42",
  "",
].join("\n");

Deno.test({
  name: "seed config on vhost lafoglia: examples/rabbitmq with celeriac and Python seed_app.py",
  ignore: !available,
  fn: async () => {
    const created = await ensureVhost();
    const broker = lafogliaUrl();
    const env = { CELERY_BROKER_URL: broker };
    const python = { app: "seed_app", broker };
    try {
      {
        await using _worker = await startCeleriacWorker({
          module: "./examples/rabbitmq/app.ts",
          env,
          queues: ["lafoglia"],
        });
        assert.equal(await runExampleClient(env), EXPECTED_CLIENT_OUTPUT);
        // Declared by the celeriac worker: exchange lafoglia → queue lafoglia, key lafoglia.
        const bindings = await rabbitmqctl([
          "list_bindings",
          "-p",
          VHOST,
          "source_name",
          "destination_name",
          "routing_key",
        ]);
        assert.match(bindings, /^lafoglia\tlafoglia\tlafoglia$/m);
        // The seeds' Python client declares Queue("lafoglia", Exchange("lafoglia"), …) itself:
        // RabbitMQ would refuse it if celeriac had declared anything different.
        const out = await runPythonClient({
          calls: [
            { method: "delay", task: "lafoglia.add", args: [2, 3] },
            { task: "lafoglia.greet", args: ["Ada"], kwargs: { greeting: "ciao" } },
            { method: "send_task", task: "lafoglia.add", args: [20, 22] },
          ],
          joinNative: true,
        }, python);
        assert.deepEqual(out.calls.map((call) => call.value), [5, "ciao, Ada", 42]);
      }
      // No celeriac worker now: a Python worker with the seeds' config serves the example client.
      await using _python = await startPythonWorker({ env: python, queues: ["lafoglia"] });
      assert.equal(await runExampleClient(env), EXPECTED_CLIENT_OUTPUT);
    } finally {
      if (created) await rabbitmqctl(["delete_vhost", VHOST]);
    }
  },
});
