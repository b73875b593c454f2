/**
 * pythonRepr against Python's repr(), and argsRepr/kwargsRepr/safeRepr against
 * Celery 5.2.6's saferepr (what Python clients put in argsrepr/kwargsrepr),
 * each on the value Python decodes from celeriac's JSON. A hand-picked table
 * plus a seeded pseudo-random set; one Python run.
 */

import assert from "node:assert/strict";
import { argsRepr, kwargsRepr, pythonRepr, safeRepr } from "../src/protocol/python_repr.ts";
import { stringifyJson } from "../src/protocol/json_content.ts";
import { okValue, runPython } from "./protocol_python/harness.ts";

const TABLE: unknown[] = [
  0,
  -7,
  2 ** 53 - 1,
  2n ** 64n,
  -(10n ** 30n),
  0.1,
  -0.25,
  1e-7,
  1e-5,
  0.0001,
  123456.789,
  1e16,
  1e21,
  1.5e300,
  -2.5e-300,
  5e-324,
  true,
  false,
  null,
  "",
  "plain",
  "it's",
  'say "hi"',
  `both ' and "`,
  "back\\slash",
  "new\nline\r\ttab",
  "\x00\x01\x1b\x7f",
  "\x85\xa0\xad",
  "\u2028\u2029\ufeff\u200b",
  "ü€😀日本語",
  "e\u0301",
  "\ud800 lone",
  [],
  {},
  [1, [2, [3, [4, [5]]]]],
  { a: { b: { c: { d: { e: 1 } } } } },
  { "key with 'quote'": [null, true], "ключ": "значение" },
  "x".repeat(1100),
  "word ".repeat(300),
  "😀".repeat(1100),
  Array.from({ length: 600 }, (_, i) => i),
  [{ ["k".repeat(1030)]: 1 }],
  ["y".repeat(1019), 1],
];

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ["a", "b", " ", "'", '"', "\\", "\n", "é", "€", "😀", "\x00", "\u200b", "Z"];

function randomValue(rand: () => number, depth: number): unknown {
  const kind = Math.floor(rand() * (depth > 4 ? 5 : 8));
  switch (kind) {
    case 0:
      return Math.floor(rand() * 2000) - 1000;
    case 1:
      return (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
    case 2:
      return [null, true, false][Math.floor(rand() * 3)];
    case 3:
    case 4: {
      const length = rand() < 0.1 ? 200 + Math.floor(rand() * 1200) : Math.floor(rand() * 12);
      return Array.from({ length }, () => ALPHABET[Math.floor(rand() * ALPHABET.length)]).join("");
    }
    case 5:
    case 6:
      return Array.from({ length: Math.floor(rand() * 6) }, () => randomValue(rand, depth + 1));
    default: {
      const entries = Array.from({ length: Math.floor(rand() * 5) }, (_, i) => [
        `k${i}${ALPHABET[Math.floor(rand() * ALPHABET.length)]}`,
        randomValue(rand, depth + 1),
      ]);
      return Object.fromEntries(entries);
    }
  }
}

const rand = prng(20261122);
const RANDOM = Array.from({ length: 300 }, () => randomValue(rand, 0));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

Deno.test("repr and saferepr match Python for a table and 300 random values", async (t) => {
  const values = [...TABLE, ...RANDOM];
  const requests = values.flatMap((value) => {
    const json = stringifyJson(value);
    const list: Record<string, unknown>[] = [
      { op: "repr", json },
      { op: "saferepr", json: stringifyJson([value]), tuple: true, maxlen: 1024 },
      { op: "saferepr", json, maxlen: 60 },
    ];
    if (isPlainObject(value)) list.push({ op: "saferepr", json, maxlen: 1024 });
    return list;
  });
  const answers = await runPython<string>(requests);
  let next = 0;
  for (const [i, value] of values.entries()) {
    const label = `${i < TABLE.length ? "table" : "random"} #${i}: ${safeRepr(value, 60)}`;
    await t.step(label, () => {
      assert.equal(pythonRepr(value), okValue(answers[next++], "repr"), "repr()");
      assert.equal(argsRepr([value]), okValue(answers[next++], "argsrepr"), "argsrepr");
      assert.equal(safeRepr(value, 60), okValue(answers[next++], "saferepr 60"), "saferepr(60)");
      if (isPlainObject(value)) {
        assert.equal(kwargsRepr(value), okValue(answers[next++], "kwargsrepr"), "kwargsrepr");
      }
    });
  }
});
