import { add, app, spinCounted } from "../tests/worker/fixtures/worker_app.ts";
import { setupLogging } from "../src/log.ts";
await setupLogging({ level: "INFO" });
const q = "dbghl-" + crypto.randomUUID().slice(0, 8);
app.conf.update({
  broker_url: "redis://127.0.0.1:6379/0",
  result_backend: "redis://127.0.0.1:6379/0",
  broker_transport_options: { global_keyprefix: q + ":" },
  result_backend_transport_options: { global_keyprefix: q + ":" },
  task_default_queue: q,
});
const dir = await Deno.makeTempDir();
const worker = await app.worker({
  pool: "threads",
  concurrency: 2,
  banner: false,
  logLevel: "INFO",
});
const loops = [await spinCounted.delay(`${dir}/a`), await spinCounted.delay(`${dir}/b`)];
const shorts = [];
for (let i = 0; i < 20; i++) shorts.push(await add.delay(i, 1));
for (const l of loops) console.log("LOOP", String(await l.get({ timeout: 10, propagate: false })));
for (const s of shorts) {
  try {
    await s.get({ timeout: 5 });
  } catch (e) {
    console.log("SHORT TIMEOUT", s.id);
  }
}
console.log("DONE");
await worker.stop();
await app.close();
