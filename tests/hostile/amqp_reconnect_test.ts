/**
 * RabbitMQ: a header table nested 2,000 deep (~14 KB; 3,000 in the original report) no longer overflows
 * amqplib's frame parser and drops the connection: the message is rejected
 * as malformed and dead-lettered on the same connection. And a connection
 * that is lost anyway (closed by the server) is re-established, the worker
 * says so ("Connected to …" again) and runs tasks again.
 */

import assert from "node:assert/strict";
import { encodeTaskMessage } from "../../src/protocol/task_message.ts";
import { rabbitmqctl } from "../integration/amqp_helpers.ts";
import { taskCall } from "../interop/redis_interop_tools.ts";
import { deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { openWorld, waitUntil } from "../reliability/worlds.ts";
import { startTlsProxy } from "./tls_servers.ts";
import { WorkerProcess } from "../reliability/worker_process.ts";

/** Closes, from the server side, the connections of process `pid` (as a network failure would). */
async function closeConnectionsOf(pid: number): Promise<number> {
  const listing = await rabbitmqctl(["list_connections", "pid", "client_properties"]);
  const ours = listing.split("\n").filter((line) => line.includes(`celeriac ${pid}"`));
  for (const line of ours) {
    await rabbitmqctl(["close_connection", line.split("\t")[0], "test: simulated loss"]);
  }
  return ours.length;
}

Deno.test("AMQP: a header nested 2,000 deep is rejected without losing the connection; a lost connection comes back and says so", async () => {
  await using world = await openWorld("amqp", { deadLetter: true });
  if (!world) return;
  const app = world.app();
  const broker = await app.getBroker();
  await using worker = await WorkerProcess.start(world, { concurrency: 1, pool: "async" });
  const target = { exchange: "", routingKey: world.queue };
  const connectedLines = () =>
    worker.output.match(/Connected to amqp:\/\/guest:\*\*@/g)?.length ?? 0;
  assert.equal(connectedLines(), 1);

  let deep: unknown = "x";
  for (let i = 0; i < 2000; i++) deep = { k: deep };
  const poison = encodeTaskMessage(taskCall("fault.add", [1, 1]));
  poison.headers.x_deep = deep;
  await broker.publish(poison, target);
  const call = taskCall("fault.add", [2, 3]);
  await broker.publish(encodeTaskMessage(call), target);
  assert.equal(await app.asyncResult(call.id).get({ timeout: 20 }), 5);
  await worker.waitFor(/Rejected a malformed message .*Too deeply nested message headers/);
  assert.doesNotMatch(worker.output, /lost/);
  await waitUntil(async () => await world.deadLetters() === 1, "the poison message dead-lettered");

  assert.ok(await closeConnectionsOf(worker.pid) >= 1, "the worker's connection was found");
  await waitUntil(() => connectedLines() === 2, '"Connected to" logged again', 30_000);
  await worker.waitFor(/Connection to broker amqp:\/\/guest:\*\*@\S+ lost/);
  const after = taskCall("fault.add", [20, 22]);
  await broker.publish(encodeTaskMessage(after), target);
  assert.equal(await app.asyncResult(after.id).get({ timeout: 20 }), 42);
  assert.equal((await worker.kill("SIGTERM")).code, 0);
});

Deno.test("AMQP: a broker that stays gone is retried with Celery's backoff and log lines, then the worker exits 1", async () => {
  const proxy = await startTlsProxy(undefined, { hostname: "127.0.0.1", port: 5672 });
  const brokerUrl = `amqp://guest:guest@127.0.0.1:${proxy.port}//`;
  let queue = "";
  try {
    await using world = await openWorld("amqp", { brokerUrl });
    if (!world) return;
    queue = world.queue;
    await using worker = await WorkerProcess.start(world, {
      pool: "async",
      settings: { broker_connection_max_retries: 2 },
    });
    await proxy[Symbol.asyncDispose](); // the broker is gone for good
    const status = await worker.exited(60_000);
    assert.equal(status.code, 1, worker.output);
    assert.match(
      worker.output,
      /Connection to broker amqp:\/\/guest:\*\*@127\.0\.0\.1:\d+\/\/ lost/,
    );
    assert.match(
      worker.output,
      /Cannot connect to amqp:\/\/guest:\*\*@.*\nTrying again in 2\.00 seconds\.\.\. \(1\/2\)/,
    );
    assert.match(worker.output, /Trying again in 4\.00 seconds\.\.\. \(2\/2\)/);
    assert.match(worker.output, /celeriac: error: the worker stopped: Cannot connect to amqp:/);
  } finally {
    await proxy[Symbol.asyncDispose]();
    if (queue) await deleteAmqpEntities([queue]);
  }
});
