import assert from "node:assert/strict";
import { RevokedSet, StateFile } from "./revoked_set.ts";
import { getLogger } from "../log.ts";

Deno.test("RevokedSet: bounded, oldest first out; Celery's mingle form with float stamps", () => {
  const set = new RevokedSet(3);
  set.add("a", "b", "c", "d");
  assert.deepEqual(set.ids(), ["b", "c", "d"]);
  const data = set.toData();
  assert.equal(data.b[1], "b");
  assert.ok(!Number.isInteger(data.b[0]), "a float, or Python's mingle rejects it");
  const other = new RevokedSet();
  assert.equal(other.merge({ x: [920.5, "x"], y: 12.25, bad: "nope", b: [1.5, "b"] }), 3);
  assert.deepEqual(other.ids(), ["x", "y", "b"]);
  assert.equal(other.merge(null), 0);
  assert.equal(other.merge([1, 2]), 0);
});

Deno.test("StateFile: saves and loads revoked ids and the clock; ignores an unreadable file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const set = new RevokedSet();
    set.add("t1", "t2");
    await new StateFile(path, set, getLogger("test")).save(17);
    const loaded = new RevokedSet();
    assert.equal(await new StateFile(path, loaded, getLogger("test")).load(), 17);
    assert.deepEqual(loaded.ids(), ["t1", "t2"]);
    await Deno.writeTextFile(path, "{not json");
    assert.equal(await new StateFile(path, new RevokedSet(), getLogger("test")).load(), 0);
  } finally {
    await Deno.remove(path);
  }
});
