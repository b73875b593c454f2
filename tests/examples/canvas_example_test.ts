/**
 * examples/canvas/app.ts, run as its header says, on the embedded default
 * (where chords are joined by `celery.chord_unlock`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { runExample } from "./example_runner.ts";

Deno.test("examples/canvas: chain, group, chord, starmap, chunks, link, a failing chain", async () => {
  const run = await runExample("canvas/app.ts");
  assert.equal(run.code, 0, run.stderr);
  const expected = [
    "chain(add(2, 2), add(4), mul(8)) = 64",
    "  its parent (add(4)) = 8",
    "group(add(i, i) for i < 10) = [0,2,4,6,8,10,12,14,16,18]",
    "chord(add(i, i) for i < 10)(xsum) = 90",
    "add.starmap([[1, 2], [3, 4]]) = [3,7]",
    "add.chunks(10 pairs, 4) = [[0,2,4,6],[8,10,12,14],[16,18]]",
    "add(2, 2) with a callback = 4",
    "chain with a failing step: Exception: step 2 failed",
  ];
  const lines = run.stdout.split("\n");
  for (const line of expected) assert.ok(lines.includes(line), `${line}\n---\n${run.stdout}`);
});
