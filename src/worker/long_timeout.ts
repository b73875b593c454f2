/**
 * A timeout of any length. `setTimeout` fires at once for a delay beyond
 * 2^31−1 ms (~24.8 days), so a time limit of 2,200,000 s would expire
 * immediately; here a long delay is a chain of shorter ones, and a delay of
 * `Infinity` (a limit of 1e308 s) never fires.
 *
 * @module
 */

/** The longest delay one `setTimeout` keeps (2^31−1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending long timeout. */
export interface LongTimeout {
  /** Cancels it (no effect once fired). */
  clear(): void;
}

/**
 * Calls `callback` after `ms` milliseconds, however long that is.
 *
 * @example
 * ```ts
 * import { setLongTimeout } from "./long_timeout.ts";
 * const timer = setLongTimeout(() => console.log("in 30 days"), 30 * 86_400_000);
 * timer.clear();
 * ```
 */
export function setLongTimeout(callback: () => void, ms: number): LongTimeout {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cleared = false;
  const due = performance.now() + ms;
  const arm = (remaining: number) => {
    if (cleared || !(remaining < Infinity)) return;
    timer = setTimeout(() => {
      const left = due - performance.now();
      if (left > 0 && remaining > MAX_TIMER_MS) arm(left);
      else callback();
    }, Math.max(0, Math.min(remaining, MAX_TIMER_MS)));
  };
  arm(Number.isNaN(ms) ? Infinity : ms);
  return {
    clear() {
      cleared = true;
      clearTimeout(timer);
    },
  };
}
