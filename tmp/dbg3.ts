import { countRuns, FAULT_APP_LOCATION, openWorld } from "../tests/reliability/worlds.ts";
import { setupLogging } from "../src/log.ts";
await setupLogging({ level: "INFO" });
await using world = await openWorld("sqlite", { deadLetter: true });
const app = world!.app({ task_acks_on_failure_or_timeout: false });
const worker = await app.worker({
  pool: "threads",
  concurrency: 1,
  appLocation: FAULT_APP_LOCATION,
  banner: false,
  logLevel: "INFO",
});
const a = await app.sendTask("fault.exit_once_late", [world!.dir, "exit"]);
const b = await app.sendTask("fault.busy_late", [world!.dir], { timeLimit: 0.5 });
for (const r of [a, b]) {
  try {
    console.log("RESULT", String(await r.get({ timeout: 6, propagate: false })).slice(0, 80));
  } catch (e) {
    console.log("ERR", String(e).slice(0, 80));
  }
}
await worker.stop();
