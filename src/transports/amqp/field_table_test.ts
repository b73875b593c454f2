import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { decodeFields } from "./amqplib_codec.ts";
import { decodeFieldTable, encodeFieldTable } from "./field_table.ts";

Deno.test("integers are forced to py-amqp's types: I when they fit, else l or d", () => {
  const encoded = encodeFieldTable({
    retries: 200,
    timelimit: [300, null],
    big: 2 ** 40,
    negative: -3_000_000_000,
    ratio: 1.5,
    skipped: undefined,
  });
  assert.deepEqual(encoded, {
    retries: { "!": "int", value: 200 },
    timelimit: [{ "!": "int", value: 300 }, null],
    big: { "!": "long", value: 2 ** 40 },
    negative: { "!": "double", value: -3_000_000_000 },
    ratio: 1.5,
  });
});

Deno.test("byte arrays become Buffers (x) and nested tables are encoded too", () => {
  const encoded = encodeFieldTable({ raw: new Uint8Array([1, 2]), nested: { n: 1, s: "x" } });
  assert.ok(Buffer.isBuffer(encoded.raw));
  assert.deepEqual(encoded.nested, { n: { "!": "int", value: 1 }, s: "x" });
});

Deno.test("decoded tables are plain data: timestamps as Date, byte arrays as Uint8Array", () => {
  const decoded = decodeFieldTable({
    when: { "!": "timestamp", value: 1_700_000_000 },
    price: { "!": "decimal", value: { places: 2, digits: 125 } },
    raw: Buffer.from([7]),
    list: [null, { "!": "timestamp", value: 0 }],
  });
  assert.deepEqual(decoded, {
    when: new Date(1_700_000_000_000),
    price: 1.25,
    raw: new Uint8Array([7]),
    list: [null, new Date(0)],
  });
});

/** A field table as py-amqp writes it (its _write_item), built by hand. */
function pyAmqpTable(): Buffer {
  const entry = (key: string, value: number[]) => [key.length, ...Buffer.from(key), ...value];
  const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  const big = Buffer.alloc(8);
  big.writeBigInt64BE(-(2n ** 40n));
  const bytes = [
    ...entry("L", [0x4c, ...big]),
    ...entry("I", [0x49, ...u32(-5 >>> 0)]),
    ...entry("V", [0x56]),
    ...entry("A", [0x41, ...u32(7), 0x56, 0x53, ...u32(1), 0x78]),
    ...entry("U", [0x55, 0xff, 0xfe]),
  ];
  return Buffer.from(bytes);
}

Deno.test("the decoder reads py-amqp's L and U tags that amqplib refuses", () => {
  assert.deepEqual(decodeFields(pyAmqpTable()), {
    L: -(2 ** 40),
    I: -5,
    V: null,
    A: [null, "x"],
    U: -2,
  });
});

Deno.test("the decoder names an unknown tag", () => {
  assert.throws(() => decodeFields(Buffer.from([1, 0x6b, 0x3f])), /Unexpected type tag "\?"/);
});

Deno.test("the codec self-check accepts the patched decoder and names an unpatched one", async () => {
  const { codecProblem } = await import("./amqplib_codec.ts");
  const { createRequire } = await import("node:module");
  const require = createRequire(import.meta.url);
  const defs = require(require.resolve("amqplib").replace(/channel_api\.js$/, "lib/defs.js"));
  assert.equal(codecProblem(defs.decode), undefined, "patched: the 64-bit header decodes");
  const unpatched = () => {
    throw new TypeError("Unexpected type in argument list: L");
  };
  assert.match(codecProblem(unpatched) ?? "", /throws on a 64-bit header .*Unexpected type/);
  assert.match(codecProblem(() => ({ headers: {} })) ?? "", /read \{\} for \{ k: 4294967296 \}/);
});
