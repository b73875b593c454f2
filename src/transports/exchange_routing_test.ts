import assert from "node:assert/strict";
import { routeMessage, topicMatches } from "./exchange_routing.ts";

Deno.test("topicMatches follows AMQP: * is one word, # is zero or more", () => {
  assert.ok(topicMatches("a.*.c", "a.b.c"));
  assert.ok(!topicMatches("a.*.c", "a.c"));
  assert.ok(topicMatches("a.#", "a"));
  assert.ok(topicMatches("a.#", "a.b.c"));
  assert.ok(topicMatches("#.c", "a.b.c"));
  assert.ok(topicMatches("#", ""));
  assert.ok(!topicMatches("a.b", "a.b.c"));
  assert.ok(topicMatches("a.#.d", "a.d"));
});

Deno.test("routeMessage: direct, fanout, default exchange and unbound exchanges", () => {
  const bindings = [{ queue: "q1", routingKey: "k1" }, { queue: "q2", routingKey: "k2" }];
  assert.deepEqual(routeMessage("x", "direct", bindings, "k2"), ["q2"]);
  assert.deepEqual(routeMessage("x", "direct", bindings, "k3"), []);
  assert.deepEqual(routeMessage("x", "fanout", bindings, "any"), ["q1", "q2"]);
  assert.deepEqual(routeMessage("", "direct", bindings, "named"), ["named"]);
  assert.deepEqual(routeMessage("unknown", undefined, [], "celery"), ["celery"]);
});
