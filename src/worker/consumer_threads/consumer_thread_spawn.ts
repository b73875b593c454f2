/**
 * Where the `threads` pool's consumer threads are created. The entry file is
 * named in `deno.json`'s `compile` task (`--include`), so a compiled binary
 * carries it. They are `node:worker_threads` threads for the reason given in
 * `../pool/thread_entry.ts`: only they stop in a busy loop (inside a Web Lock).
 *
 * @module
 */

import { Worker } from "node:worker_threads";

/** The module each consumer thread runs. */
export const CONSUMER_THREAD_URL: URL = new URL("./consumer_thread.ts", import.meta.url);

/** Starts one consumer thread; it waits for its `init` message. */
export function spawnConsumerThread(): Worker {
  return new Worker(CONSUMER_THREAD_URL);
}
