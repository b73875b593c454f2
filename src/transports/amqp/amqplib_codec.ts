/**
 * A field-table decoder that replaces amqplib's before amqplib loads.
 *
 * amqplib's table decoder throws on the type tags `L` (signed 64-bit) and
 * `U` (signed 16-bit), which py-amqp writes: Python sends any integer beyond
 * ±2³¹ in a header as `L`. The throw happens while parsing the frame, so the
 * connection dies, the message is redelivered and kills the next connection
 * too (a poison message). For the same reason it does not descend into
 * tables nested beyond `MAX_TABLE_DEPTH`. It also installs a faster table encoder
 * (`table_encoder.ts`) that writes the same bytes as amqplib's. amqplib's frame decoders bind `codec.decodeFields`
 * when they load, so this module must be evaluated first: `amqplib.ts`
 * imports it before amqplib. Right after patching it decodes a 64-bit header
 * through amqplib's own frame decoder, and throws at load, naming amqplib's
 * version, if the patch is not in effect (amqplib loaded first, or changed).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { amqplibFile, amqplibLoaded } from "./amqplib_internals.ts";
import { encodeTable } from "./table_encoder.ts";
import { TooDeepValue } from "../../protocol/message_limits.ts";

type Decoded = unknown;

/**
 * Tables and arrays nested deeper than this are not descended into: they are
 * skipped (their length is known) and decoded as a `TooDeepValue`, which the
 * worker rejects as malformed. Descending would overflow the stack inside
 * amqplib's frame parser and close the connection, and the message, still
 * queued, would close the next one too.
 */
export const MAX_TABLE_DEPTH = 512;

function decodeValue(slice: Buffer, start: number, depth: number): [Decoded, number] {
  const tag = String.fromCharCode(slice[start]);
  let offset = start + 1;
  switch (tag) {
    case "t":
      return [slice[offset] !== 0, offset + 1];
    case "b":
      return [slice.readInt8(offset), offset + 1];
    case "B":
      return [slice.readUInt8(offset), offset + 1];
    case "s":
    case "U":
      return [slice.readInt16BE(offset), offset + 2];
    case "u":
      return [slice.readUInt16BE(offset), offset + 2];
    case "I":
      return [slice.readInt32BE(offset), offset + 4];
    case "i":
      return [slice.readUInt32BE(offset), offset + 4];
    case "l":
    case "L":
      return [Number(slice.readBigInt64BE(offset)), offset + 8];
    case "f":
      return [slice.readFloatBE(offset), offset + 4];
    case "d":
      return [slice.readDoubleBE(offset), offset + 8];
    case "D": {
      const places = slice[offset];
      const digits = slice.readUInt32BE(offset + 1);
      return [{ "!": "decimal", value: { places, digits } }, offset + 5];
    }
    case "T":
      return [{ "!": "timestamp", value: Number(slice.readBigUInt64BE(offset)) }, offset + 8];
    case "V":
      return [null, offset];
    case "S":
    case "x": {
      const length = slice.readUInt32BE(offset);
      offset += 4;
      const end = offset + length;
      return [tag === "S" ? slice.toString("utf8", offset, end) : slice.subarray(offset, end), end];
    }
    case "F": {
      const length = slice.readUInt32BE(offset);
      offset += 4;
      if (depth >= MAX_TABLE_DEPTH) return [new TooDeepValue(depth), offset + length];
      return [decodeTable(slice.subarray(offset, offset + length), depth + 1), offset + length];
    }
    case "A": {
      const end = offset + 4 + slice.readUInt32BE(offset);
      if (depth >= MAX_TABLE_DEPTH) return [new TooDeepValue(depth), end];
      const values: Decoded[] = [];
      for (offset += 4; offset < end;) {
        const [value, next] = decodeValue(slice, offset, depth + 1);
        values.push(value);
        offset = next;
      }
      return [values, end];
    }
    default:
      throw new TypeError(`Unexpected type tag "${tag}" in an AMQP field table`);
  }
}

/**
 * Decodes an AMQP field table (the same shapes amqplib returns, plus tags `L`
 * and `U`); tables nested beyond `MAX_TABLE_DEPTH` become `TooDeepValue`s.
 */
export function decodeFields(slice: Buffer): Record<string, Decoded> {
  return decodeTable(slice, 0);
}

function decodeTable(slice: Buffer, depth: number): Record<string, Decoded> {
  const fields: Record<string, Decoded> = {};
  let offset = 0;
  while (offset < slice.length) {
    const keyLength = slice.readUInt8(offset);
    offset++;
    const key = slice.toString("utf8", offset, offset + keyLength);
    const [value, next] = decodeValue(slice, offset + keyLength, depth);
    fields[key] = value;
    offset = next;
  }
  return fields;
}

const loadedBefore = amqplibLoaded("defs.js");
// deno-lint-ignore no-explicit-any
const codec = amqplibFile<any>("codec.js");
/** amqplib's own table encoder, kept for the test that proves ours writes the same bytes. */
export const amqplibEncodeTable: typeof encodeTable = codec.amqplibEncodeTable ??
  codec.encodeTable;
codec.amqplibEncodeTable = amqplibEncodeTable;
codec.decodeFields = decodeFields;
// Same bytes as amqplib's encoder, several times faster (see table_encoder.ts).
codec.encodeTable = encodeTable;

/**
 * Basic properties whose headers hold `{ k: 2 ** 32 }` with py-amqp's type
 * tag `L`: the bytes amqplib's own decoder throws on.
 */
const PROBE = new Uint8Array([0x20, 0x00, 0, 0, 0, 11, 1, 0x6b, 0x4c, 0, 0, 0, 1, 0, 0, 0, 0]);

/**
 * Why amqplib's frame decoder (`defs.decode`, `decode`) does not read
 * `PROBE` as celeriac's decoder does, or undefined when it does: the check
 * that the patch above is in effect for the amqplib actually loaded.
 */
export function codecProblem(decode: (id: number, buffer: Buffer) => unknown): string | undefined {
  let decoded: { headers?: Record<string, unknown> } | undefined;
  try {
    decoded = decode(60, Buffer.from(PROBE)) as typeof decoded;
  } catch (error) {
    return `its frame decoder throws on a 64-bit header (${(error as Error).message})`;
  }
  if (decoded?.headers?.k !== 2 ** 32) {
    return `its frame decoder read ${JSON.stringify(decoded?.headers)} for { k: 4294967296 }`;
  }
  return undefined;
}

const defs = amqplibFile<{ decode: (id: number, buffer: Buffer) => unknown }>("defs.js");
const problem = codecProblem(defs.decode);
if (problem) {
  const { version } = amqplibFile<{ version: string }>("../package.json");
  throw new Error(
    `celeriac cannot use amqplib ${version}: ${problem}. ` +
      (loadedBefore
        ? "amqplib was imported before celeriac's AMQP transport: import celeriac first."
        : "Its field-table codec changed: celeriac pins amqplib 2.3.1 (deno.json)."),
  );
}
