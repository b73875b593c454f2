import assert from "node:assert/strict";
import { Charts, percentile } from "./charts.ts";

Deno.test("charts: per-second counts and runtime percentiles, per name", () => {
  assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
  const charts = new Charts(2);
  for (let i = 1; i <= 100; i++) charts.record("a", true, i / 100, 1000.5);
  charts.record("b", false, undefined, 1000.7);
  assert.deepEqual(charts.points(), [], "the open second is not a point yet");
  charts.record("a", true, 0.5, 1001.1);
  const closed = charts.points();
  assert.equal(closed.length, 1);
  assert.equal(closed[0].t, 1000);
  assert.equal(closed[0].succeeded, 100);
  assert.equal(closed[0].failed, 1);
  assert.equal(closed[0].names.a.p50, 0.5);
  assert.equal(closed[0].names.a.p99, 0.99);
  assert.equal(closed[0].names.b.failed, 1);
  charts.closeBefore(1002);
  charts.record("a", true, 1, 1003);
  charts.closeBefore(1004);
  assert.deepEqual(charts.points().map((p) => p.t), [1001, 1003], "bounded to 2 seconds");
  assert.deepEqual(
    charts.takeClosed().map((p) => p.t),
    [1001, 1003],
    "closed by record or closeBefore",
  );
  assert.deepEqual(charts.takeClosed(), []);
});
