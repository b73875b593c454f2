/**
 * Where the `workers` pool's threads are created, and the one place their spawn
 * options live (the entry module today; per-thread resource limits belong
 * here too). The entry file is named in `deno.json`'s `compile` task
 * (`--include`), so a compiled binary carries it.
 *
 * @module
 */

import { Worker } from "node:worker_threads";

/** The module each pool thread runs (see it for why these are `node:worker_threads` threads). */
export const THREAD_ENTRY_URL: URL = new URL("./thread_entry.ts", import.meta.url);

/** Starts one pool thread running `thread_entry.ts`; it waits for its `init` message. */
export function spawnPoolThread(): Worker {
  return new Worker(THREAD_ENTRY_URL);
}
