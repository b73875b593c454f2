// Expected strings were produced by Python 3.11 / Celery 5.2.6 (repr and
// celery.utils.saferepr); tests/protocol_repr_test.ts checks many more against
// a live Python.
import assert from "node:assert/strict";
import { argsRepr, kwargsRepr, pythonRepr, safeRepr, truncateRepr } from "./python_repr.ts";

Deno.test("argsRepr is Celery's saferepr of the args tuple", () => {
  const cases: [unknown[], string][] = [
    [[2, 3], "(2, 3)"],
    [[1], "(1,)"],
    [[], "()"],
    [["a\nb", "it's"], "('a\nb', 'it\\'s')"],
    [[{ a: { b: { c: { d: 1 } } } }], "({'a': {'b': {...}}},)"],
    [[1, [2, [3, [4]]]], "(1, [2, [3, [...]]])"],
  ];
  for (const [args, expected] of cases) assert.equal(argsRepr(args), expected);
  assert.equal(kwargsRepr({ a: 1, b: [null, true] }), "{'a': 1, 'b': [None, True]}");
});

Deno.test("argsRepr truncates like Celery (1024 budget, dangling brackets)", () => {
  const long = argsRepr(["x".repeat(2000)]);
  assert.equal(long.length, 1034);
  assert.ok(long.endsWith("xxx...', ..."));
  const nested = safeRepr([["y".repeat(1019), 1]], 1024);
  assert.equal(nested.length, 1032);
  assert.ok(nested.endsWith("yyyy', , ...]]"));
  assert.equal(safeRepr("word ".repeat(10), 12), "'word word...'");
});

Deno.test("argsRepr of flat arguments (its quick path) equals the full saferepr", () => {
  // A list and a tuple differ only in their brackets (and a tuple of one's comma).
  const asTuple = (args: unknown[]) =>
    `(${safeRepr(args, 1024).slice(1, -1)}${args.length === 1 ? "," : ""})`;
  const flat: unknown[][] = [
    [1, -2.5, 1e21, 1e-7, NaN, Infinity, 2n ** 70n],
    [true, false, null, "", "it's", 'say "hi"', "tab\tnew\nline", "é ü 😀"],
    ["x".repeat(500)], // at the quick path's limit: same text
    ["x".repeat(600), 1], // beyond it
    Array.from({ length: 20 }, (_, i) => i), // more items than the quick path takes
    [0],
  ];
  for (const args of flat) assert.equal(argsRepr(args), asTuple(args));
  assert.equal(argsRepr([undefined, 1]), "(None, 1)");
  assert.equal(argsRepr([new Date(0)]), "('1970-01-01T00:00:00.000000+00:00',)");
  assert.equal(kwargsRepr({}), "{}");
  assert.equal(kwargsRepr(Object.create(null)), "{}");
});

Deno.test("pythonRepr is Python's repr()", () => {
  const cases: [unknown, string][] = [
    ["it's", `"it's"`],
    [`both ' and "`, `'both \\' and "'`],
    ["\x00\x7f\x85\xa0", "'\\x00\\x7f\\x85\\xa0'"],
    ["\u2028😀", "'\\u2028😀'"],
    [1e-5, "1e-05"],
    [1e21, "1e+21"],
    [0.0001, "0.0001"],
    [1.5e300, "1.5e+300"],
    [2n ** 70n, "1180591620717411303424"],
    [{ a: [1, "x", null, true, false] }, "{'a': [1, 'x', None, True, False]}"],
  ];
  for (const [value, expected] of cases) assert.equal(pythonRepr(value), expected);
  assert.equal(truncateRepr("abcdef", 5), "ab...");
});
