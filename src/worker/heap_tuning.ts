/**
 * V8 heap limits of the pool's threads. A worker drains messages as fast as
 * it can, and each run leaves short-lived garbage in the thread that ran it;
 * with V8's defaults each thread's young generation grows to tens of MiB
 * during a flood. 1 MiB semi-spaces (what `--v8-flags=--max-semi-space-size=1`
 * gives every isolate) keep a thread near its resting size. The main
 * thread's heap is sized when the process starts: only that command-line
 * flag (or `DENO_V8_FLAGS`) can bound it (`node:v8`'s `setFlagsFromString`
 * has no effect once the isolate exists).
 *
 * @module
 */

/**
 * `resourceLimits` of each pool thread: a young generation of 3 MiB (three
 * 1 MiB semi-spaces); the old generation is left unbounded, as before.
 */
export const THREAD_HEAP_LIMITS: { readonly maxYoungGenerationSizeMb: number } = Object.freeze({
  maxYoungGenerationSizeMb: 3,
});
