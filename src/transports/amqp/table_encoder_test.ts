import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { amqplibEncodeTable } from "./amqplib_codec.ts";
import { encodeFieldTable } from "./field_table.ts";
import { encodeTable } from "./table_encoder.ts";

function both(table: Record<string, unknown>, size = 65536): [Buffer, Buffer] {
  const ours = Buffer.alloc(size);
  const theirs = Buffer.alloc(size);
  const length = encodeTable(ours, table, 3);
  assert.equal(length, amqplibEncodeTable(theirs, table, 3));
  return [ours.subarray(0, length + 3), theirs.subarray(0, length + 3)];
}

Deno.test("table encoder: the same bytes as amqplib's for every type", () => {
  const tables: Record<string, unknown>[] = [
    {
      string: "x",
      unicode: "ü€𝄞",
      long: "x".repeat(300),
      "ké": "key with a non-ASCII letter",
      byte: 1,
      negative: -1,
      short: 200,
      int: -40_000,
      int32: 70_000,
      big: 2 ** 40,
      huge: 2 ** 64,
      double: 1.5,
      yes: true,
      no: false,
      none: null,
      skipped: undefined,
      array: [1, "é", null, [2]],
      nested: { timestamp: { "!": "timestamp", value: 5 } },
      bytes: Buffer.from([1, 2]),
      decimal: { "!": "decimal", value: { places: 2, digits: 12345 } },
      float: { "!": "float", value: 1.5 },
      uint16: { "!": "uint16", value: 7 },
    },
    encodeFieldTable({
      lang: "py",
      task: "proj.add",
      id: crypto.randomUUID(),
      eta: null,
      retries: 0,
      timelimit: [null, null],
      argsrepr: "(1, 1)",
      ignore_result: false,
      big: 2 ** 40,
      ratio: 0.25,
      nested: { a: [1, 2, { b: "ç" }] },
    }),
  ];
  for (const table of tables) {
    const [ours, theirs] = both(table);
    assert.deepEqual(ours, theirs);
  }
});

Deno.test("table encoder: the same errors as amqplib's", () => {
  const bad: Record<string, unknown>[] = [
    { x: Symbol("s") },
    { x: { "!": "decimal", value: { places: 300, digits: 1 } } },
    { x: { "!": "unknown-type", value: 1 } },
    { x: { "!": "int", value: 2 ** 40 } },
  ];
  for (const table of bad) {
    assert.throws(() => encodeTable(Buffer.alloc(100), table, 0), (ours: Error) => {
      assert.throws(() => amqplibEncodeTable(Buffer.alloc(100), table, 0), {
        name: ours.name,
        message: ours.message,
      });
      return true;
    });
  }
  assert.throws(
    () => encodeTable(Buffer.alloc(20), { k: "x".repeat(50) }, 0),
    /exceeds the 20 byte encoding buffer/,
  );
});

Deno.test("table encoder: odd int32 values behave as amqplib's (bytes or error)", () => {
  for (const value of [1.5, -(2 ** 31), 2 ** 31 - 1, NaN, -0]) {
    const table = { x: { "!": "int", value } };
    const run = (encode: typeof encodeTable) => {
      const buffer = Buffer.alloc(64);
      try {
        return Array.from(buffer.subarray(0, encode(buffer, table, 0)));
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    };
    assert.deepEqual(run(encodeTable), run(amqplibEncodeTable), String(value));
  }
});
