import assert from "node:assert/strict";
import { ResultKeys } from "./result_keys.ts";

Deno.test("result keys: Celery's names, global_keyprefix as Celery 5.5+ applies it", () => {
  assert.equal(new ResultKeys("").task("abc"), "celery-task-meta-abc");
  assert.equal(new ResultKeys("proj").task("abc"), "proj_celery-task-meta-abc");
  for (const end of [":", "_", "-", "."]) {
    assert.equal(new ResultKeys(`proj${end}`).task("abc"), `proj${end}celery-task-meta-abc`);
  }
  assert.equal(new ResultKeys("proj").groupPrefix, "proj_celery-taskset-meta-");
  assert.equal(new ResultKeys("p:").taskIdOf("p:celery-task-meta-abc"), "abc");
});
