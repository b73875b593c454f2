import assert from "node:assert/strict";
import { KombuKeys, routeThroughBindings, topicPattern } from "./keys.ts";
import { DEFAULT_TRANSPORT_OPTIONS, parseTransportOptions } from "./options.ts";

Deno.test("kombu keys: priority lists, steps and BRPOP order (spec §4.1, §4.3, §4.4)", () => {
  const keys = new KombuKeys(DEFAULT_TRANSPORT_OPTIONS, 0);
  const lists = [0, 2, 3, 5, 6, 8, 9].map((p) => keys.listFor("celery", p));
  assert.deepEqual(lists, [
    "celery",
    "celery",
    "celery\x06\x163",
    "celery\x06\x163",
    "celery\x06\x166",
    "celery\x06\x166",
    "celery\x06\x169",
  ]);
  assert.deepEqual(keys.consumeOrder(["a", "b"]).map((l) => l.key), [
    "a",
    "b",
    "a\x06\x163",
    "b\x06\x163",
    "a\x06\x166",
    "b\x06\x166",
    "a\x06\x169",
    "b\x06\x169",
  ]);
  assert.deepEqual([12, -3, "7", "x", null].map((p) => keys.messagePriority(p)), [9, 0, 7, 0, 0]);
});

Deno.test("kombu keys: global_keyprefix on every key and channel (spec §4.8)", () => {
  const options = parseTransportOptions({ global_keyprefix: "pfx:" });
  const keys = new KombuKeys(options, 11);
  assert.equal(keys.listFor("celery", 9), "pfx:celery\x06\x169");
  assert.equal(keys.binding("celery"), "pfx:_kombu.binding.celery");
  assert.deepEqual([keys.unacked, keys.unackedIndex, keys.unackedMutex], [
    "pfx:unacked",
    "pfx:unacked_index",
    "pfx:unacked_mutex",
  ]);
  assert.equal(
    keys.fanoutChannel("celeryev", "worker.heartbeat"),
    "pfx:/11.celeryev/worker.heartbeat",
  );
  assert.equal(keys.fanoutSubscription("celery.pidbox", ""), "pfx:/11.celery.pidbox");
  assert.equal(keys.exchangeOfChannel("pfx:/11.celeryev/worker.heartbeat"), "celeryev");
  assert.equal(keys.deadList("celery"), "pfx:celery.dead");
});

Deno.test("kombu keys: binding members and routing through them (spec §4.5)", () => {
  const keys = new KombuKeys(DEFAULT_TRANSPORT_OPTIONS, 0);
  const member = keys.bindingMember({ routingKey: "celery", pattern: "", queue: "celery" });
  assert.equal(member, "celery\x06\x16\x06\x16celery");
  assert.deepEqual(keys.parseBindingMember(member), {
    routingKey: "celery",
    pattern: "",
    queue: "celery",
  });
  const bindings = [
    { routingKey: "a", pattern: "", queue: "qa" },
    { routingKey: "b", pattern: "", queue: "qb" },
    { routingKey: "worker.#", pattern: topicPattern("worker.#"), queue: "qt" },
  ];
  assert.deepEqual(routeThroughBindings(bindings, "direct", "a"), ["qa"]);
  assert.deepEqual(routeThroughBindings(bindings.slice(2), "topic", "worker.heartbeat"), ["qt"]);
  assert.deepEqual(routeThroughBindings(bindings.slice(2), "topic", "task.sent"), []);
  assert.deepEqual(routeThroughBindings(bindings, "fanout", "x"), ["qa", "qb", "qt"]);
});

Deno.test("topic patterns are kombu's (captured from kombu 5.2.4's key_to_pattern)", () => {
  assert.equal(topicPattern("a.*.b#.#"), String.raw`^a\..*?[^\.]\.b#\..*?$`);
  assert.equal(topicPattern("worker.#"), String.raw`^worker\..*?$`);
  assert.equal(topicPattern("x-y.z"), String.raw`^x\-y\.z$`);
});
