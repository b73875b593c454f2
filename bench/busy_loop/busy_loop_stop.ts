/**
 * Measures whether `terminate()` stops a thread spinning in `while (true) {}`,
 * for the four combinations a pool of threads could use: a `node:worker_threads`
 * thread or a Web Worker, with the loop inside a Web Lock or not. Prints the
 * process's CPU use in the second after `terminate()` (0 % = stopped, ~100 % =
 * still spinning). Each case runs in its own process:
 *
 *     deno run -A bench/busy_loop/busy_loop_stop.ts
 *
 * @module
 */

import { Worker as NodeWorker } from "node:worker_threads";

const SELF = new URL(import.meta.url).pathname;

/** CPU ticks (1/100 s) of this process so far. */
function processTicks(): number {
  const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

async function measure(kind: "node" | "web"): Promise<number> {
  const url = new URL("./spin.ts", import.meta.url);
  const thread: { terminate(): unknown } = kind === "node"
    ? new NodeWorker(url)
    : new Worker(url, { type: "module" });
  await new Promise((resolve) => setTimeout(resolve, 500));
  await thread.terminate();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = processTicks();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return processTicks() - before;
}

if (Deno.args[0] === "measure") {
  console.log(await measure(Deno.args[1] as "node" | "web"));
  Deno.exit(0); // a thread still spinning would keep the process alive
} else {
  for (const kind of ["node", "web"] as const) {
    for (const lock of ["1", "0"]) {
      const { stdout } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", SELF, "measure", kind],
        env: { LOCK: lock },
      }).output();
      const percent = new TextDecoder().decode(stdout).trim();
      const thread = kind === "node" ? "node:worker_threads" : "Web Worker";
      console.log(
        `${thread}, loop ${lock === "1" ? "inside" : "outside"} a Web Lock: ` +
          `${percent}% of a core in the second after terminate()`,
      );
    }
  }
}
