import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { ContentDisallowed, ProtocolError } from "../errors.ts";
import {
  acceptedContentTypes,
  decodeContent,
  decompressBody,
  encodeJson,
  parseJson,
  stringifyJson,
} from "./json_content.ts";

const JSON_ONLY = acceptedContentTypes(["json"]);
const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("acceptedContentTypes maps serializer names to MIME types", () => {
  assert.deepEqual(
    [...acceptedContentTypes(["json", "pickle", "yaml", "msgpack", "application/x-custom"])],
    [
      "application/json",
      "application/x-python-serialize",
      "application/x-yaml",
      "application/x-msgpack",
      "application/x-custom",
    ],
  );
});

Deno.test("decodeContent: non-JSON content is ContentDisallowed with Celery's message", () => {
  const cases: [string, string][] = [
    ["application/x-python-serialize", "pickle (application/x-python-serialize)"],
    ["application/x-yaml", "yaml (application/x-yaml)"],
    ["application/x-msgpack", "msgpack (application/x-msgpack)"],
    ["", "application/data (application/data)"],
    ["text/plain", "text/plain (text/plain)"],
  ];
  for (const [type, shown] of cases) {
    assert.throws(
      () => decodeContent(bytes("[[], {}, {}]"), type, JSON_ONLY),
      (error: unknown) => {
        assert.ok(error instanceof ContentDisallowed, type);
        assert.ok(error instanceof ProtocolError);
        assert.equal(error.message, `Refusing to deserialize untrusted content of type ${shown}`);
        return true;
      },
    );
  }
  // Accepting pickle does not make celeriac run pickle: it still cannot decode it.
  const withPickle = acceptedContentTypes(["json", "pickle"]);
  assert.throws(
    () => decodeContent(bytes("x"), "application/x-python-serialize", withPickle),
    ContentDisallowed,
  );
  // JSON not in accept_content is refused too.
  assert.throws(
    () => decodeContent(bytes("[]"), "application/json", acceptedContentTypes(["yaml"])),
    /untrusted content of type json/,
  );
});

Deno.test("decodeContent: invalid JSON and invalid UTF-8 are ProtocolErrors", () => {
  for (const text of ["", "[1,", "{'a': 1}", "NaN", "[1] [2]"]) {
    assert.throws(() => decodeContent(bytes(text), "application/json", JSON_ONLY), (e: unknown) => {
      assert.ok(e instanceof ProtocolError && !(e instanceof ContentDisallowed), text);
      assert.match(e.message, /^Can't decode message body: /);
      return true;
    });
  }
  assert.throws(
    () => decodeContent(new Uint8Array([0x5b, 0xff, 0xfe, 0x5d]), "application/json", JSON_ONLY),
    /not valid UTF-8/,
  );
});

Deno.test("parseJson revives kombu 5.3 tagged values", () => {
  const text = JSON.stringify([
    { __type__: "datetime", __value__: "2024-01-02T03:04:05.678000+00:00" },
    { __type__: "datetime", __value__: "2024-01-02T03:04:05" },
    { __type__: "date", __value__: "2024-01-02" },
    { __type__: "time", __value__: "03:04:05" },
    { __type__: "decimal", __value__: "1.10" },
    { __type__: "uuid", __value__: { hex: "12345678123456781234567812345678" } },
    { __type__: "uuid", __value__: { hex: "12345678123456781234567812345678", version: 4 } },
    { __type__: "bytes", __value__: "raw-bytes" },
    { __type__: "base64", __value__: "/wA=" },
    { nested: { __type__: "decimal", __value__: "2" } },
    { __type__: "datetime", __value__: "x", extra: 1 },
  ]);
  assert.deepEqual(parseJson(text), [
    new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)),
    new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
    "2024-01-02",
    "03:04:05",
    "1.10",
    "12345678-1234-5678-1234-567812345678",
    "12345678-1234-5678-1234-567812345678",
    bytes("raw-bytes"),
    new Uint8Array([0xff, 0x00]),
    { nested: "2" },
    { __type__: "datetime", __value__: "x", extra: 1 },
  ]);
});

Deno.test("parseJson: unknown or broken tags are ProtocolErrors", () => {
  assert.throws(
    () => parseJson('{"__type__": "weird", "__value__": 1}'),
    /Unknown tagged JSON type "weird"/,
  );
  assert.throws(() => parseJson('{"__type__": "datetime", "__value__": "nope"}'), ProtocolError);
});

Deno.test("parseJson: integers beyond 2^53 arrive exactly, as bigint", () => {
  assert.deepEqual(
    parseJson("[1180591620717411303424, -9223372036854775808, 9007199254740991, 1e21, 1.5]"),
    [1180591620717411303424n, -9223372036854775808n, 9007199254740991, 1e21, 1.5],
  );
});

Deno.test("stringifyJson: bigint exact, Date as Celery date text, bytes/Map/Set refused", () => {
  assert.equal(
    stringifyJson({ n: 2n ** 70n, small: 1n }),
    '{"n":1180591620717411303424,"small":1}',
  );
  assert.equal(
    stringifyJson([new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))]),
    '["2024-01-02T03:04:05.678000+00:00"]',
  );
  for (const value of [new Uint8Array([1]), new Map([[1, 2]]), new Set([1])]) {
    assert.throws(() => stringifyJson({ value }), (e: unknown) => {
      assert.ok(e instanceof ProtocolError);
      assert.match(
        e.message,
        /^Cannot encode value as JSON: Object of type \w+ is not JSON serializable/,
      );
      return true;
    });
  }
  assert.deepEqual(parseJson(new TextDecoder().decode(encodeJson({ a: "ü", b: [1n] }))), {
    a: "ü",
    b: [1],
  });
});

Deno.test("decompressBody: zlib (application/x-gzip) and brotli; others are ProtocolErrors", () => {
  const body = bytes('[[1], {}, {"callbacks": null}]');
  assert.deepEqual(decompressBody(new Uint8Array(deflateSync(body)), "application/x-gzip"), body);
  assert.equal(decompressBody(body, undefined), body);
  assert.throws(
    () => decompressBody(body, "application/x-bz2"),
    /unsupported compression "application\/x-bz2"/,
  );
  assert.throws(() => decompressBody(body, "application/x-gzip"), /Cannot decompress message body/);
});

Deno.test("parseJson: the fast path still revives what needs reviving", () => {
  assert.deepEqual(parseJson("[9007199254740993]"), [9007199254740993n]);
  assert.deepEqual(parseJson('{"a": [1, 2.5, "x"], "b": null}'), { a: [1, 2.5, "x"], b: null });
  const escaped = '{"\\u005f\\u005ftype__": "uuid", "__value__": {"hex": "' + "a".repeat(32) +
    '"}}';
  assert.equal(parseJson(escaped), "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa");
  assert.equal(parseJson('"caf\\u00e9"'), "café");
});
