/**
 * A workflow script exits by itself, like the Quick start's client: a chain
 * and a group sent with the README's tasks, their results read, and no
 * `app.close()`. The canvas opens the app's connections without holding the
 * process; only the waits hold it.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { BrokerChoice } from "./readme_places.ts";
import { runBesideQuickStartWorker } from "./quick_start_run.ts";

const CLIENT = `import { chain, group } from "jsr:@celeriac/celeriac";
import { add } from "./tasks.ts";

const steps = await chain(add.s(2, 2), add.s(4)).applyAsync();
const fan = await group([add.s(1, 1), add.s(2, 2)]).applyAsync();
console.log(await steps.get({ timeout: 20 }), JSON.stringify(await fan.get({ timeout: 20 })));
`;

const CHOICES: BrokerChoice[] = ["embedded", "rabbitmq", "redis"];

for (const choice of CHOICES) {
  Deno.test(`a canvas client on ${choice} prints its results and exits by itself`, async () => {
    const run = await runBesideQuickStartWorker(choice, CLIENT);
    if (!run) return;
    assert.equal(run.code, 0, `the client did not exit by itself:\n${run.stderr}`);
    assert.equal(run.stdout, "8 [2,4]\n");
    assert.ok(run.exitLagMs < 1000, `exited ${run.exitLagMs} ms after its last line`);
  });
}
