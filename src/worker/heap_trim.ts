/**
 * Keeps a small isolate's heap near its live size: every 250 ms, when the
 * heap holds more than twice what the last full collection left (and at
 * least 8 MiB more), and less than 128 MiB, it collects now instead of when
 * V8 would. Under a flood the worker's isolates otherwise let promoted
 * garbage pile up between V8's major collections (the main isolate's old
 * space grew from ~7 to ~35 MiB draining 50,000 tasks), which is most of
 * the peak above resting memory (issue 18). Above 128 MiB it leaves the heap
 * to V8: a task that holds much data is not collected more often (V8 flags
 * that bound every heap this way made such a task 5–11× slower).
 *
 * It needs V8's `gc()` (`--expose-gc`, which a worker started by `cli.ts`
 * has: see `src/cli/worker_v8_flags.ts`); without it, it does nothing.
 *
 * @module
 */

/** How often the heap is looked at. */
const CHECK_EVERY_MS = 250;
/** Above this, V8 alone decides. */
const SMALL_HEAP_BYTES = 128 * 1024 * 1024;
/** Collect when the heap has grown this much over its live size, at least. */
const MIN_GROWTH_BYTES = 8 * 1024 * 1024;

/**
 * Starts the check in this isolate (once; an unref'd timer, so it keeps
 * nothing alive). Returns whether it runs (false without `gc()`).
 */
export function startHeapTrim(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function" || started) return started;
  started = true;
  let live = Deno.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const used = Deno.memoryUsage().heapUsed;
    if (used >= SMALL_HEAP_BYTES || used < Math.max(2 * live, live + MIN_GROWTH_BYTES)) return;
    gc();
    live = Deno.memoryUsage().heapUsed;
  }, CHECK_EVERY_MS);
  Deno.unrefTimer(timer);
  return true;
}

let started = false;
