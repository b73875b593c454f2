import assert from "node:assert/strict";
import { addressedTo, type ControlRequest, encodeReply, parseRequest } from "./mailbox.ts";
import type { WireMessage } from "../broker/types.ts";

function message(body: string, contentType = "application/json"): WireMessage {
  return {
    headers: {},
    properties: {},
    contentType,
    contentEncoding: "utf-8",
    body: new TextEncoder().encode(body),
  };
}

Deno.test("parseRequest: Celery's request; malformed ones are errors naming the problem", () => {
  const request = parseRequest(message(JSON.stringify({
    method: "ping",
    arguments: {},
    destination: ["a@h"],
    pattern: null,
    matcher: null,
    ticket: "t",
    reply_to: { exchange: "reply.celery.pidbox", routing_key: "oid" },
  })));
  assert.equal(request.method, "ping");
  assert.deepEqual(request.reply_to, { exchange: "reply.celery.pidbox", routing_key: "oid" });
  assert.throws(() => parseRequest(message("nope")), SyntaxError);
  assert.throws(() => parseRequest(message("[]")), /not an object/);
  assert.throws(() => parseRequest(message('{"arguments": {}}')), /"method"/);
  assert.throws(() => parseRequest(message('{"method": "x", "arguments": []}')), /arguments/);
  assert.throws(() => parseRequest(message("{}", "application/x-python-serialize")), /not JSON/);
  const cast = parseRequest(message('{"method": "heartbeat"}'));
  assert.equal(cast.reply_to, undefined, "a cast has no reply");
});

Deno.test("addressedTo: destination, glob and pcre patterns, or everyone", () => {
  const base: ControlRequest = {
    method: "ping",
    arguments: {},
    destination: null,
    pattern: null,
    matcher: null,
  };
  assert.ok(addressedTo(base, "a@h"));
  assert.ok(addressedTo({ ...base, destination: ["a@h"] }, "a@h"));
  assert.ok(!addressedTo({ ...base, destination: ["b@h"] }, "a@h"));
  assert.ok(addressedTo({ ...base, pattern: "a*", matcher: "glob" }, "a1@h"));
  assert.ok(!addressedTo({ ...base, pattern: "b*", matcher: "glob" }, "a1@h"));
  assert.ok(addressedTo({ ...base, pattern: "a\\d@", matcher: "pcre" }, "a1@h"));
  assert.ok(!addressedTo({ ...base, pattern: "(", matcher: "pcre" }, "a1@h"));
});

Deno.test("encodeReply: {node: value} with ticket and clock headers, transient", () => {
  const reply = encodeReply("a@h", { ok: "pong" }, "t1", 3);
  assert.deepEqual(reply.headers, { ticket: "t1", clock: 3 });
  assert.equal(reply.properties.deliveryMode, 1);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(reply.body)), { "a@h": { ok: "pong" } });
});
