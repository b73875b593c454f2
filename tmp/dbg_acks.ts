import {
  countRuns,
  FAULT_APP_LOCATION,
  openWorld,
} from "/work/wt/supervisor/tests/reliability/worlds.ts";
import { setupLogging } from "/work/wt/supervisor/src/log.ts";
await setupLogging({ level: "DEBUG" });
const kind = (Deno.args[0] ?? "sqlite") as "sqlite";
await using world = await openWorld(kind, { deadLetter: true });
const app = world!.app({ task_acks_on_failure_or_timeout: false });
const worker = await app.worker({
  pool: "threads",
  concurrency: 2,
  appLocation: FAULT_APP_LOCATION,
  banner: false,
  logLevel: "DEBUG",
});
const which = Deno.args[1] ?? "fault.exit_once_requeue";
const how = Deno.args[2] ?? "exit";
const r = await app.sendTask(
  which,
  how === "x" ? [world!.dir] : [world!.dir, how],
  which.startsWith("fault.busy") ? { timeLimit: 0.5 } : {},
);
try {
  console.log("RESULT", await r.get({ timeout: 8, propagate: false }));
} catch (e) {
  console.log("ERR", String(e));
}
console.log("runs", [...countRuns(world!.runs(), "start")]);
await worker.stop();
