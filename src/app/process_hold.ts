/**
 * Keeping the process alive while a client waits, and only then. A client's
 * broker and backend sockets are unreferenced (`keepProcessAlive: false`), so
 * a script that sent a task and read its result exits by itself; while an
 * operation waits for I/O on such a socket, `holdProcess` keeps one timer
 * referenced so the process does not end in the middle of it. A worker and
 * beat hold the process for as long as they run.
 *
 * @module
 */

let holders = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/**
 * Keeps the process alive until the returned function is called (call it
 * once). Holds nest: the process may end when the last one is released.
 *
 * @example
 * ```ts
 * import { holdProcess } from "./process_hold.ts";
 * const release = holdProcess();
 * await new Promise((resolve) => setTimeout(resolve, 1));
 * release();
 * ```
 */
export function holdProcess(): () => void {
  holders++;
  timer ??= setInterval(() => {}, 1_000_000_000);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holders--;
    if (holders === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/**
 * Runs `work` while holding the process (see `holdProcess`); resolves or
 * rejects as `work` does.
 *
 * @example
 * ```ts
 * import { whileHoldingProcess } from "./process_hold.ts";
 * console.assert(await whileHoldingProcess(() => Promise.resolve(8)) === 8);
 * ```
 */
export async function whileHoldingProcess<T>(work: () => Promise<T>): Promise<T> {
  const release = holdProcess();
  try {
    return await work();
  } finally {
    release();
  }
}
