import { app, sleep } from "../tests/worker/fixtures/worker_app.ts";
import { setupLogging } from "../src/log.ts";
await setupLogging({ level: "DEBUG" });
const q = "dbgcold-" + crypto.randomUUID().slice(0, 8);
app.conf.update({
  broker_url: "redis://127.0.0.1:6379/0",
  result_backend: "redis://127.0.0.1:6379/0",
  broker_transport_options: { global_keyprefix: q + ":" },
  result_backend_transport_options: { global_keyprefix: q + ":" },
  task_default_queue: q,
  task_acks_late: true,
  task_track_started: true,
});
const worker = await app.worker({
  pool: "threads",
  concurrency: 1,
  banner: false,
  logLevel: "DEBUG",
});
const long = await sleep.delay(60_000);
while (await long.state() !== "STARTED") await new Promise((r) => setTimeout(r, 20));
console.log("STARTED; stopping cold");
await worker.stop("cold");
const broker = await app.getBroker();
console.log("COUNT", await broker.messageCount(q));
await app.close();
