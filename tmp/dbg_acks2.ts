import { countRuns, FAULT_APP_LOCATION, openWorld } from "../tests/reliability/worlds.ts";
import { setupLogging } from "../src/log.ts";
await setupLogging({ level: "INFO" });
const kind = (Deno.args[0] ?? "sqlite") as "sqlite";
await using world = await openWorld(kind, { deadLetter: true });
const app = world!.app({ task_acks_on_failure_or_timeout: false });
const worker = await app.worker({
  pool: "threads",
  concurrency: 2,
  appLocation: FAULT_APP_LOCATION,
  banner: false,
  logLevel: "INFO",
});
const all: [string, any][] = [];
for (const how of ["exit", "throw-later"]) {
  all.push(["requeue-" + how, await app.sendTask("fault.exit_once_requeue", [world!.dir, how])]);
}
all.push(["lostLate", await app.sendTask("fault.exit_once_late", [world!.dir, "exit"])]);
all.push(["lostEarly", await app.sendTask("fault.exit_once", [world!.dir, "throw-later"])]);
all.push(["failed", await app.sendTask("fault.fails_late", [world!.dir])]);
all.push(["timedOut", await app.sendTask("fault.busy_late", [world!.dir], { timeLimit: 0.5 })]);
for (let i = 0; i < 10; i++) all.push(["add" + i, await app.sendTask("fault.add", [i, i])]);
for (const [name, r] of all) {
  try {
    const v = await r.get({ timeout: 6, propagate: false });
    console.log("RESULT", name, r.id, String(v).slice(0, 80));
  } catch (e) {
    console.log("ERR", name, r.id, String(e).slice(0, 80));
  }
}
const starts = countRuns(world!.runs(), "start");
for (const [name, r] of all) {
  if ((starts.get(r.id) ?? 0) > 2 || (name.startsWith("requeue") && starts.get(r.id) !== 2)) {
    console.log("BAD", name, r.id, starts.get(r.id));
  }
}
await worker.stop();
