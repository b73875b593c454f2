import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import "./amqplib.ts";
import { amqplibFile } from "./amqplib_internals.ts";

type Fields = Record<string, unknown> & { headers: Record<string, unknown> };
// deno-lint-ignore no-explicit-any
const { Channel } = amqplibFile<any>("channel_model.js");

/** The fields a publish hands to `sendMessage`, through `publish`. */
function fieldsOf(publish: (...args: unknown[]) => unknown, options: object): Fields {
  let sent: Fields | undefined;
  const channel = { sendMessage: (fields: Fields) => (sent = fields, true) };
  publish.call(channel, "ex", "key", Buffer.from("{}"), options);
  return sent!;
}

/** Every enumerable key, own or inherited, as amqplib's table encoder walks them. */
function walked(table: Record<string, unknown>): [string, unknown][] {
  const entries: [string, unknown][] = [];
  for (const key in table) entries.push([key, table[key]]);
  return entries;
}

Deno.test("publish hands the headers over as they are, with amqplib's fields otherwise", () => {
  const headers = { lang: "py", task: "t", id: "1", retries: { "!": "int", value: 0 } };
  const options = { headers, contentType: "application/json", deliveryMode: 2, priority: 0 };
  const ours = fieldsOf(Channel.prototype.publish, options);
  const theirs = fieldsOf(Channel.prototype.amqplibPublish, options);
  assert.equal(ours.headers, headers, "the caller's object, not a prototype-chained copy");
  assert.deepEqual(walked(ours.headers), walked(theirs.headers));
  const { headers: _a, ...oursRest } = ours;
  const { headers: _b, ...theirsRest } = theirs;
  assert.deepEqual(oursRest, theirsRest);
});

Deno.test("publish with CC / BCC is amqplib's own (it adds them to the headers)", () => {
  const options = { headers: { a: 1 }, CC: "other" };
  const ours = fieldsOf(Channel.prototype.publish, options);
  assert.deepEqual(walked(ours.headers), [["CC", ["other"]], ["a", 1]]);
  assert.deepEqual(options.headers, { a: 1 }, "the caller's headers are untouched");
});
