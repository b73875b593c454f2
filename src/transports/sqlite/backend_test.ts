import assert from "node:assert/strict";
import { DEFAULT_SETTINGS } from "../../app/settings.ts";
import { createResultBackend } from "./backend.ts";

Deno.test("sqlite backend: result_expires hides and then deletes old results", async () => {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-sqlite-backend-" });
  try {
    const url = `sqlite://${dir}/results.sqlite3`;
    const config = { ...DEFAULT_SETTINGS, result_expires: 0.2 };
    await using backend = await createResultBackend(url, config);
    const meta = {
      task_id: crypto.randomUUID(),
      status: "SUCCESS",
      result: 1,
      traceback: null,
      children: [],
      date_done: "2026-01-01T00:00:00",
    };
    await backend.store(meta, {});
    assert.deepEqual(await backend.read(meta.task_id), meta);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await backend.read(meta.task_id), undefined);
    // An expired SUCCESS no longer blocks a new state for the same id.
    await backend.store({ ...meta, status: "STARTED", date_done: null }, {});
    assert.equal((await backend.read(meta.task_id))?.status, "STARTED");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
