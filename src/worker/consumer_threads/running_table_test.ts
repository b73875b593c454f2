/**
 * The running table's reads that decide the `-O fair` give-back: only the
 * slots of the pool's threads count as places another thread could run a
 * task, not the spare slots the table keeps for `pool_grow`.
 */

import assert from "node:assert/strict";
import { RunningTable } from "./running_table.ts";

const entry = (id: string) => ({
  id,
  retries: 0,
  task: "t",
  hardTimeLimit: null,
  acksLate: false,
  rejectOnWorkerLost: false,
});

Deno.test("running table: a spare slot beyond the pool's threads is not a free thread", () => {
  const table = RunningTable.create(8); // room for 8 threads of one slot; the pool has 2
  table.write(0, entry("a"));
  table.write(1, entry("b"));
  assert.equal(table.anyFreeOutside(0, 1, 2), false, "thread 2 is busy");
  assert.equal(table.anyFreeOutside(0, 1), true, "counting every slot, spares look free");
  table.clear(1);
  assert.equal(table.anyFreeOutside(0, 1, 2), true, "thread 2 is free");
  assert.deepEqual(table.read(0)?.id, "a");
  assert.equal(table.read(1), undefined);
});
