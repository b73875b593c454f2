/**
 * The slot pool of a consumer thread, on its own: a run queued just as the
 * slot runs out of work still starts (the slot is marked free in the same
 * step as it sees its queue empty), and a run with a hard time limit starts
 * only once the handling of the runs before it is over (so that stopping
 * the thread for it cannot lose them).
 */

import assert from "node:assert/strict";
import { Celery } from "../../app/celery.ts";
import { eagerRequest } from "../../task/eager_request.ts";
import type { PoolJob, PoolResult } from "../pool/types.ts";
import { RunningTable } from "./running_table.ts";
import { SlotPool } from "./slot_pool.ts";

const app = new Celery("slot-pool-test", { setAsCurrent: false });
app.task((x: number) => x * 2, { name: "double" });

function slotPool(handlingOf?: (id: string) => Promise<void> | undefined): SlotPool {
  const config = app.finalize().conf.resolve();
  return new SlotPool({
    slots: 1,
    table: RunningTable.create(1),
    firstSlot: 0,
    lookup: (name) => app.tasks.get(name),
    config,
    retryDefaults: { defaultRetryDelay: 0, maxRetries: 3 },
    logger: { warning: () => {} } as never,
    handlingOf,
  });
}

function job(x: number, hardTimeLimit: number | null = null): PoolJob {
  return {
    request: eagerRequest("double", [x], {}),
    softTimeLimit: null,
    hardTimeLimit,
  };
}

function resultOf(result: PoolResult): unknown {
  assert.equal(result.kind, "outcome");
  return result.kind === "outcome" && result.outcome.state === "SUCCESS"
    ? result.outcome.result
    : result;
}

Deno.test("slot pool: a run queued as the slot finishes its last one still starts", async () => {
  const pool = slotPool();
  for (let i = 0; i < 50; i++) {
    // Queued from the first run's own completion: the slot has just seen its queue empty.
    const second = await pool.run(job(i), () => {}).then(() => pool.run(job(i + 1), () => {}));
    assert.equal(resultOf(second), 2 * (i + 1));
  }
  await pool.close();
});

Deno.test("slot pool: a run with a hard time limit waits for the handling of the runs before it", async () => {
  const handlings = new Map<string, PromiseWithResolvers<void>>();
  const pool = slotPool((id) => handlings.get(id)?.promise);
  const first = job(1);
  handlings.set(first.request.id, Promise.withResolvers());
  assert.equal(resultOf(await pool.run(first, () => {})), 2);

  let limitedStarted = false;
  const limited = pool.run(job(2, 5), () => limitedStarted = true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(limitedStarted, false, "started while the run before it was still being reported");
  handlings.get(first.request.id)!.resolve();
  assert.equal(resultOf(await limited), 4);
  assert.equal(limitedStarted, true);
  await pool.close();
});
