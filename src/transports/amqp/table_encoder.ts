/**
 * A faster drop-in for amqplib's field-table encoder (`codec.encodeTable`),
 * installed by amqplib_codec.ts before amqplib loads. It writes the same
 * bytes for the same input, with amqplib's type guesses and `{"!": type}`
 * trapdoor; it only avoids a native call per string and per type tag: ASCII
 * strings and tags are written byte by byte, others through `Buffer.write`.
 * A Celery message has ~20 headers, so amqplib's encoder cost about as much
 * as the rest of a publish.
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** `buffer.writeUInt32BE` without its argument checks (the space was checked). */
function putUint32(buffer: Buffer, value: number, offset: number): void {
  buffer[offset] = value >>> 24;
  buffer[offset + 1] = value >>> 16;
  buffer[offset + 2] = value >>> 8;
  buffer[offset + 3] = value;
}

function checkSpace(buffer: Buffer, offset: number, size: number): void {
  if (offset + size > buffer.length) {
    throw new RangeError(
      `Encoded field table (headers or arguments) exceeds the ${buffer.length} byte encoding buffer`,
    );
  }
}

/** Byte length of `text` in UTF-8; writes it at `offset` when it fits (checked first). */
function writeText(buffer: Buffer, text: string, offset: number, lengthBytes: 1 | 4): number {
  const n = text.length;
  let ascii = n < 256;
  for (let i = 0; ascii && i < n; i++) if (text.charCodeAt(i) > 0x7f) ascii = false;
  const len = ascii ? n : Buffer.byteLength(text, "utf8");
  checkSpace(buffer, offset, lengthBytes + len);
  if (lengthBytes === 1) buffer[offset] = len;
  else putUint32(buffer, len, offset);
  offset += lengthBytes;
  if (ascii) { for (let i = 0; i < n; i++) buffer[offset + i] = text.charCodeAt(i); }
  else buffer.write(text, offset, "utf8");
  return lengthBytes + len;
}

// As amqplib: at 2^50 and above doubles cannot tell integers apart; above 2^63 - 1 only doubles fit.
function isFloatingPoint(n: number): boolean {
  return n >= 0x8000000000000000 || (Math.abs(n) < 0x4000000000000 && Math.floor(n) !== n);
}

function guessNumberType(value: number): string {
  if (isFloatingPoint(value)) return "double";
  if (value < 128 && value >= -128) return "byte";
  if (value >= -0x8000 && value < 0x8000) return "short";
  if (value >= -0x80000000 && value < 0x80000000) return "int";
  return "long";
}

function tag(buffer: Buffer, offset: number, code: string): number {
  checkSpace(buffer, offset, 1);
  buffer[offset] = code.charCodeAt(0);
  return offset + 1;
}

/** Encodes a table at `offset`; returns the bytes written (amqplib's `encodeTable`). */
export function encodeTable(
  buffer: Buffer,
  table: Record<string, unknown>,
  offset: number,
): number {
  const start = offset;
  checkSpace(buffer, offset, 4);
  offset += 4;
  for (const key in table) {
    const value = table[key];
    if (value === undefined) continue;
    offset += writeText(buffer, key, offset, 1);
    offset += encodeFieldValue(buffer, value, offset);
  }
  putUint32(buffer, offset - start - 4, start);
  return offset - start;
}

function encodeArray(buffer: Buffer, values: unknown[], offset: number): number {
  const start = offset;
  checkSpace(buffer, offset, 4);
  offset += 4;
  for (const value of values) offset += encodeFieldValue(buffer, value, offset);
  putUint32(buffer, offset - start - 4, start);
  return offset - start;
}

/** `buffer.writeInt32BE`, with its range check (amqplib's error for an out-of-range value). */
function putInt32(buffer: Buffer, value: number, offset: number): void {
  if (Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff) {
    putUint32(buffer, value >>> 0, offset);
  } else buffer.writeInt32BE(value, offset);
}

interface FixedType {
  tag: string;
  size: number;
  write(buffer: Buffer, value: never, offset: number): void;
}

function fixedType(tag: string, size: number, write: FixedType["write"]): FixedType {
  return { tag, size, write };
}

/** amqplib's fixed-size types, by the names its `{"!": type}` trapdoor accepts. */
const FIXED: Record<string, FixedType | undefined> = {
  __proto__: null as never,
  boolean: fixedType("t", 1, (b, v, o) => b[o] = v ? 1 : 0),
  double: fixedType("d", 8, (b, v, o) => b.writeDoubleBE(v, o)),
  float64: fixedType("d", 8, (b, v, o) => b.writeDoubleBE(v, o)),
  byte: fixedType("b", 1, (b, v, o) => b.writeInt8(v, o)),
  int8: fixedType("b", 1, (b, v, o) => b.writeInt8(v, o)),
  unsignedbyte: fixedType("B", 1, (b, v, o) => b.writeUInt8(v, o)),
  uint8: fixedType("B", 1, (b, v, o) => b.writeUInt8(v, o)),
  short: fixedType("s", 2, (b, v, o) => b.writeInt16BE(v, o)),
  int16: fixedType("s", 2, (b, v, o) => b.writeInt16BE(v, o)),
  unsignedshort: fixedType("u", 2, (b, v, o) => b.writeUInt16BE(v, o)),
  uint16: fixedType("u", 2, (b, v, o) => b.writeUInt16BE(v, o)),
  int: fixedType("I", 4, (b, v, o) => putInt32(b, v, o)),
  int32: fixedType("I", 4, (b, v, o) => putInt32(b, v, o)),
  unsignedint: fixedType("i", 4, (b, v, o) => b.writeUInt32BE(v, o)),
  uint32: fixedType("i", 4, (b, v, o) => b.writeUInt32BE(v, o)),
  long: fixedType("l", 8, (b, v, o) => b.writeBigInt64BE(BigInt(v), o)),
  int64: fixedType("l", 8, (b, v, o) => b.writeBigInt64BE(BigInt(v), o)),
  timestamp: fixedType("T", 8, (b, v, o) => b.writeBigUInt64BE(BigInt(v), o)),
  float: fixedType("f", 4, (b, v, o) => b.writeFloatBE(v, o)),
};

/** Encodes one tagged value at `offset`; returns the bytes written (amqplib's `encodeFieldValue`). */
export function encodeFieldValue(buffer: Buffer, value: unknown, offset: number): number {
  const start = offset;
  let type: string = typeof value;
  let val: unknown = value;
  if (value && type === "object" && Object.hasOwn(value as object, "!")) {
    val = (value as { value: unknown }).value;
    type = (value as Record<string, string>)["!"];
  }
  if (type === "number") type = guessNumberType(val as number);
  switch (type) {
    case "string":
      offset = tag(buffer, offset, "S");
      offset += writeText(buffer, val as string, offset, 4);
      return offset - start;
    case "object":
      if (val === null) offset = tag(buffer, offset, "V");
      else if (Array.isArray(val)) {
        offset = tag(buffer, offset, "A");
        offset += encodeArray(buffer, val, offset);
      } else if (Buffer.isBuffer(val)) {
        offset = tag(buffer, offset, "x");
        checkSpace(buffer, offset, 4 + val.length);
        buffer.writeUInt32BE(val.length, offset);
        offset += 4;
        offset += val.copy(buffer, offset);
      } else {
        offset = tag(buffer, offset, "F");
        offset += encodeTable(buffer, val as Record<string, unknown>, offset);
      }
      return offset - start;
  }
  const fixed = FIXED[type];
  if (fixed) {
    offset = tag(buffer, offset, fixed.tag);
    checkSpace(buffer, offset, fixed.size);
    fixed.write(buffer, val as never, offset);
    return offset + fixed.size - start;
  }
  switch (type) {
    case "decimal": {
      const decimal = val as unknown as { places: number; digits: number };
      offset = tag(buffer, offset, "D");
      if (
        Object.hasOwn(decimal, "places") && Object.hasOwn(decimal, "digits") &&
        decimal.places >= 0 && decimal.places < 256
      ) {
        checkSpace(buffer, offset, 5);
        buffer[offset] = decimal.places;
        buffer.writeUInt32BE(decimal.digits, offset + 1);
        offset += 5;
      } else {
        throw new TypeError(
          `Decimal value must be {'places': 0..255, 'digits': uint32}, got ${JSON.stringify(val)}`,
        );
      }
      break;
    }
    default:
      throw new TypeError(`Unknown type to encode: ${type}`);
  }
  return offset - start;
}
