import assert from "node:assert/strict";
import { MAX_TIMER_MS, setLongTimeout } from "./long_timeout.ts";

Deno.test("setLongTimeout: a short delay fires once", async () => {
  let fired = 0;
  await new Promise<void>((resolve) =>
    setLongTimeout(() => {
      fired++;
      resolve();
    }, 5)
  );
  assert.equal(fired, 1);
});

Deno.test("setLongTimeout: delays beyond 2^31-1 ms and Infinity are not due at once; clear() stops them", async () => {
  let fired = 0;
  const timers = [MAX_TIMER_MS + 1, 2_200_000_000, 1e308 * 1000, NaN].map((ms) =>
    setLongTimeout(() => fired++, ms)
  );
  // A plain setTimeout of these delays would run before this 20 ms one.
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (const timer of timers) timer.clear();
  assert.equal(fired, 0);
});
