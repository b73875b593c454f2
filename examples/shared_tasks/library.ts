/**
 * A reusable library of tasks that knows no app: Celery's `@shared_task`.
 * Every app has these tasks; calling one sends it through whichever app is
 * current at that moment (`currentApp()`).
 *
 * @module
 */

import { sharedTask } from "../../mod.ts";

/** Multiplies two numbers. Registered as `mul` in every app. */
export const mul = sharedTask(function mul(x: number, y: number) {
  return x * y;
});

/** Sums a list of numbers. Registered as `xsum` in every app. */
export const xsum = sharedTask(function xsum(numbers: number[]) {
  return numbers.reduce((total, n) => total + n, 0);
});
