/**
 * Golden tests against envelopes and result documents captured from Python
 * Celery 5.2.6 / kombu 5.2.4 on Redis (tests/fixtures/protocol/): celeriac
 * reads each one and writes it back identically, to the same list.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseResultMeta } from "../../src/transports/redis/backend.ts";
import { ResultKeys } from "../../src/transports/redis/result_keys.ts";
import {
  decodeEnvelope,
  encodeEnvelope,
  type Envelope,
  parseEnvelope,
} from "../../src/transports/redis/envelope.ts";
import { KombuKeys } from "../../src/transports/redis/keys.ts";
import { DEFAULT_TRANSPORT_OPTIONS } from "../../src/transports/redis/options.ts";
import {
  fixtureNames,
  type MessageFixture,
  readFixture,
  type ResultFixture,
} from "../fixtures/protocol_fixtures.ts";

const keys = new KombuKeys(DEFAULT_TRANSPORT_OPTIONS, 0);

for (const name of fixtureNames("message_").filter((n) => !n.startsWith("message_amqp"))) {
  Deno.test(`redis golden: ${name} decodes and re-encodes to kombu's envelope and list`, () => {
    const fixture = readFixture<MessageFixture>(name);
    for (const captured of fixture.messages) {
      const { body_text: bodyText, redis_list: list, ...envelope } = captured;
      const decoded = decodeEnvelope(parseEnvelope(JSON.stringify(envelope)) as Envelope);
      assert.ok(typeof decoded !== "string", decoded as string);
      assert.equal(new TextDecoder().decode(decoded.message.body), bodyText);
      const info = envelope.properties.delivery_info;
      const text = encodeEnvelope(
        decoded.message,
        info.exchange,
        info.routing_key,
        envelope.properties.delivery_tag,
      );
      assert.deepEqual(JSON.parse(text), envelope);
      const priority = keys.messagePriority(decoded.message.properties.priority);
      assert.equal(keys.listFor(info.routing_key, priority), list);
    }
  });
}

for (const name of fixtureNames("result_")) {
  Deno.test(`redis golden: ${name} is read as Python wrote it`, () => {
    const fixture = readFixture<ResultFixture>(name);
    assert.equal(new ResultKeys("").task(fixture.task_id), fixture.key);
    const meta = parseResultMeta(fixture.raw, fixture.key, fixture.task_id);
    assert.deepEqual(meta, JSON.parse(fixture.raw));
    assert.equal(meta.status, fixture.state);
  });
}
