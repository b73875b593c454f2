import assert from "node:assert/strict";
import {
  decodeEnvelope,
  encodeEnvelope,
  type Envelope,
  parseEnvelope,
  redeliveredText,
} from "./envelope.ts";

const encoder = new TextEncoder();

// Captured from Celery 5.2.6 `add.apply_async((2, 3))` on Redis (spec §4.2).
const CAPTURED = JSON.stringify({
  body:
    "W1syLCAzXSwge30sIHsiY2FsbGJhY2tzIjogbnVsbCwgImVycmJhY2tzIjogbnVsbCwgImNoYWluIjogbnVsbCwgImNob3JkIjogbnVsbH1d",
  "content-encoding": "utf-8",
  "content-type": "application/json",
  headers: { lang: "py", task: "tasks.add", id: "11111111-1111-4111-8111-111111111111" },
  properties: {
    correlation_id: "11111111-1111-4111-8111-111111111111",
    reply_to: "3c768c66-6d1a-3c21-bfad-d2da04800808",
    delivery_mode: 2,
    delivery_info: { exchange: "", routing_key: "celery" },
    priority: 0,
    body_encoding: "base64",
    delivery_tag: "24634e47-1de5-4a65-afd7-a368ebc5fb0d",
  },
});

Deno.test("envelope: a captured Python envelope decodes to the wire message", () => {
  const parsed = parseEnvelope(CAPTURED) as Envelope;
  const decoded = decodeEnvelope(parsed);
  assert.ok(typeof decoded !== "string");
  assert.equal(
    new TextDecoder().decode(decoded.message.body),
    '[[2, 3], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]',
  );
  assert.deepEqual(decoded.message.properties, {
    correlationId: "11111111-1111-4111-8111-111111111111",
    replyTo: "3c768c66-6d1a-3c21-bfad-d2da04800808",
    deliveryMode: 2,
    priority: 0,
  });
  assert.equal(decoded.message.contentType, "application/json");
  assert.deepEqual([decoded.exchange, decoded.routingKey, decoded.redelivered], [
    "",
    "celery",
    false,
  ]);
});

Deno.test("envelope: encoding has kombu's fields, and round-trips", () => {
  const body = encoder.encode('[[1], {}, {"callbacks": null}]');
  const text = encodeEnvelope(
    {
      headers: { task: "t", id: "i" },
      properties: {
        correlationId: "i",
        replyTo: "r",
        deliveryMode: 2,
        priority: 6,
        expiration: "5000",
      },
      contentType: "application/json",
      contentEncoding: "utf-8",
      body,
    },
    "",
    "q",
    "tag-1",
  );
  const raw = JSON.parse(text);
  assert.deepEqual(Object.keys(raw), [
    "body",
    "content-encoding",
    "content-type",
    "headers",
    "properties",
  ]);
  assert.deepEqual(raw.properties, {
    correlation_id: "i",
    reply_to: "r",
    delivery_mode: 2,
    delivery_info: { exchange: "", routing_key: "q" },
    priority: 6,
    expiration: "5000",
    body_encoding: "base64",
    delivery_tag: "tag-1",
  });
  const decoded = decodeEnvelope(parseEnvelope(text) as Envelope);
  assert.ok(typeof decoded !== "string");
  assert.deepEqual(decoded.message.body, body);
});

Deno.test("envelope: a raw body without body_encoding is used as is (kombu)", () => {
  const envelope = JSON.parse(CAPTURED);
  envelope.body = "[[1], {}, {}]";
  delete envelope.properties.body_encoding;
  const decoded = decodeEnvelope(envelope);
  assert.ok(typeof decoded !== "string");
  assert.equal(new TextDecoder().decode(decoded.message.body), "[[1], {}, {}]");
});

Deno.test("envelope: malformed elements are reported with a reason, never thrown", () => {
  const base = JSON.parse(CAPTURED);
  const without = (path: string[]) => {
    const copy = structuredClone(base);
    let target = copy;
    for (const key of path.slice(0, -1)) target = target[key];
    delete target[path.at(-1)!];
    return JSON.stringify(copy);
  };
  assert.match(parseEnvelope("not json") as string, /not a JSON object/);
  assert.match(parseEnvelope("[1, 2]") as string, /not a JSON object/);
  assert.match(parseEnvelope(without(["properties"])) as string, /no "properties"/);
  assert.match(parseEnvelope(without(["properties", "delivery_tag"])) as string, /delivery_tag/);
  assert.match(parseEnvelope(without(["properties", "delivery_info"])) as string, /delivery_info/);
  const badBody = { ...base, body: "!!!not base64!!!" };
  assert.match(decodeEnvelope(badBody) as string, /not valid base64/);
  const badEncoding = structuredClone(base);
  badEncoding.properties.body_encoding = "rot13";
  assert.match(decodeEnvelope(badEncoding) as string, /body_encoding "rot13"/);
});

Deno.test("envelope: restores carry kombu's redelivered flags; the header is not shown to users", () => {
  const restored = JSON.parse(redeliveredText(parseEnvelope(CAPTURED) as Envelope));
  assert.equal(restored.headers.redelivered, true);
  assert.equal(restored.properties.delivery_info.redelivered, true);
  const decoded = decodeEnvelope(restored);
  assert.ok(typeof decoded !== "string");
  assert.equal(decoded.redelivered, true);
  assert.equal("redelivered" in decoded.message.headers, false);
});
