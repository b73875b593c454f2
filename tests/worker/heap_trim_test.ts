/**
 * The heap trim (src/worker/heap_trim.ts) in a real isolate: with V8's
 * `gc()` exposed (as a worker started by `cli.ts` has it) garbage piled up
 * in the old space is collected within a second or so; without it the trim
 * does not start.
 */

import assert from "node:assert/strict";

const CHILD = new URL("./fixtures/heap_trim_child.ts", import.meta.url).pathname;

async function child(
  v8Flags: string[],
): Promise<{ started: boolean; before: number; after: number }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...v8Flags.map((flag) => `--v8-flags=${flag}`), "-A", CHILD],
    clearEnv: true,
    env: Object.fromEntries(
      Object.entries(Deno.env.toObject()).filter(([name]) => name !== "DENO_V8_FLAGS"),
    ),
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

Deno.test("heap trim: with gc() exposed, old-space garbage is collected soon", async () => {
  const { started, before, after } = await child(["--expose-gc"]);
  assert.equal(started, true);
  assert.ok(before > 30 * 1024 * 1024, `the child filled ${before} bytes`);
  assert.ok(after < before / 2, `heap used ${before} → ${after}`);
});

Deno.test("heap trim: without gc() it does not start", async () => {
  const { started } = await child([]);
  assert.equal(started, false);
});
