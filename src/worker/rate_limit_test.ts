import assert from "node:assert/strict";
import { ConfigurationError } from "../errors.ts";
import { parseRateLimit, RateLimiter, TokenBucket } from "./rate_limit.ts";

Deno.test("parseRateLimit reads Celery's forms", () => {
  assert.equal(parseRateLimit("10/m"), 10 / 60);
  assert.equal(parseRateLimit("0.5/s"), 0.5);
  assert.equal(parseRateLimit("100/h"), 100 / 3600);
  assert.equal(parseRateLimit("7"), 7);
  assert.equal(parseRateLimit("7/"), 7);
  assert.equal(parseRateLimit(3), 3);
  for (const none of [null, undefined, "", 0, "0/m"]) assert.equal(parseRateLimit(none), null);
});

Deno.test("parseRateLimit names the bad value and what is accepted", () => {
  for (const bad of ["10/x", "ten/m", "/m", "-1/s", Number.NaN, -2, "10/min"]) {
    assert.throws(() => parseRateLimit(bad), (error: Error) => {
      assert.ok(error instanceof ConfigurationError);
      assert.match(error.message, /Invalid rate limit/);
      assert.match(error.message, /unit s, m or h/);
      return true;
    });
  }
});

Deno.test("TokenBucket: 10/m after an idle period runs at +0 s, +0 s, +6 s (Celery's quirk)", () => {
  let now = 0;
  const bucket = new TokenBucket(10 / 60, () => now);
  now = 30_000; // the worker was idle for 30 s before three messages came
  const startedAt: number[] = [];
  for (let run = 0; run < 3; run++) {
    if (!bucket.tryTake()) {
      now += bucket.msUntilToken();
      assert.ok(bucket.tryTake());
    }
    startedAt.push(now - 30_000);
  }
  assert.deepEqual(startedAt.map((ms) => Math.round(ms)), [0, 0, 6000]);
  // Steady state: one token per 6 s.
  assert.equal(bucket.tryTake(), false);
  assert.equal(Math.round(bucket.msUntilToken()), 6000);
});

Deno.test("RateLimiter: FIFO per task name, other names are not limited", async () => {
  const limiter = new RateLimiter();
  limiter.prepare("limited", 200); // one token per 5 ms
  const signal = new AbortController().signal;
  const order: number[] = [];
  const runs = [0, 1, 2, 3].map((n) =>
    limiter.acquire("limited", signal).then(() => order.push(n))
  );
  assert.equal(await limiter.acquire("free", signal), true);
  await Promise.all(runs);
  assert.deepEqual(order, [0, 1, 2, 3]);
  limiter.close();
});

Deno.test("RateLimiter: an aborted wait resolves false and leaves the line", async () => {
  const limiter = new RateLimiter();
  limiter.prepare("slow", 1 / 3600);
  const stop = new AbortController();
  assert.equal(await limiter.acquire("slow", stop.signal), true); // the one token
  const waiting = limiter.acquire("slow", stop.signal);
  assert.equal(limiter.waiting, 1);
  stop.abort();
  assert.equal(await waiting, false);
  assert.equal(limiter.waiting, 0);
  assert.equal(await limiter.acquire("slow", stop.signal), false);
  limiter.close();
});
