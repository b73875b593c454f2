import assert from "node:assert/strict";
import { parsePythonLiteral } from "./python_literal.ts";

Deno.test("python literals: what task events carry as args and kwargs read back", () => {
  assert.deepEqual(parsePythonLiteral("(1, 'a', {'k': None})"), [1, "a", { k: null }]);
  assert.deepEqual(parsePythonLiteral("('<script>',)"), ["<script>"]);
  assert.deepEqual(parsePythonLiteral(`{'q': "it's", 'n': -2.5e3, 'ok': True}`), {
    q: "it's",
    n: -2500,
    ok: true,
  });
  assert.deepEqual(parsePythonLiteral("[[], (), {}]"), [[], [], {}]);
  assert.equal(parsePythonLiteral("'a\\nb\\x41\\u00e9'"), "a\nbAé");
  assert.deepEqual(parsePythonLiteral("()"), []);
});

Deno.test("python literals: anything else is an error naming where it stopped", () => {
  assert.throws(
    () => parsePythonLiteral("(<object at 0x1>,)"),
    /cannot read a Python literal at 1/,
  );
  assert.throws(() => parsePythonLiteral("('abc"), /the end of a string/);
  assert.throws(() => parsePythonLiteral("(1, 2) x"), /the end/);
});
