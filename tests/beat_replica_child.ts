/**
 * One beat replica for tests/beat_replicas_test.ts: runs `runBeat` with a
 * leader lease on the broker URL given, and prints one line per send:
 * `sent <entry> <epoch ms>`. Usage: `beat_replica_child.ts <url> <lease name> <ttl s>`.
 */

import { runBeat } from "../src/beat/service.ts";
import { DEFAULT_SETTINGS } from "../src/app/settings.ts";

const [url, name, ttl] = Deno.args;
const config = {
  ...DEFAULT_SETTINGS,
  broker_url: url,
  beat_schedule: {
    tick: { task: "proj.tick", schedule: 0.5 },
    slow: { task: "proj.slow", schedule: 3 },
  },
};
const stop = new AbortController();
Deno.addSignalListener("SIGTERM", () => stop.abort());
console.log("started");
await runBeat({
  main: name,
  conf: { resolve: () => config },
  sendTask: () => Promise.reject(new Error("unused")),
}, {
  scheduleFile: null,
  leaseTtl: Number(ttl),
  signal: stop.signal,
  send: (entry) => {
    console.log(`sent ${entry.name} ${Date.now()}`);
    return Promise.resolve(undefined);
  },
});
