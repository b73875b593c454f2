import assert from "node:assert/strict";
import { DeliveryWindow, PullStream, type SettleActions } from "./delivery_window.ts";

const FIELDS = {
  message: {
    headers: {},
    properties: {},
    contentType: "",
    contentEncoding: "",
    body: new Uint8Array(),
  },
  exchange: "",
  routingKey: "q",
  queue: "q",
  redelivered: false,
};

function recorder() {
  const done: string[] = [];
  const actions = (key: string): SettleActions => ({
    ack: () => Promise.resolve(void done.push(`ack ${key}`)),
    requeue: () => Promise.resolve(void done.push(`requeue ${key}`)),
    drop: () => Promise.resolve(void done.push(`drop ${key}`)),
  });
  return { done, actions };
}

Deno.test("a delivery is settled once; the window frees its room after the action started", async () => {
  const { done, actions } = recorder();
  const seen: string[] = [];
  const window = new DeliveryWindow<string>(2, {
    changed: () => seen.push(`changed after ${done.at(-1)} (room ${window.room()})`),
  });
  const a = window.handOut(FIELDS, actions("a"), "a");
  window.handOut(FIELDS, actions("b"), "b");
  assert.equal(window.room(), 0);
  assert.equal(window.room(1), -1, "buffered messages count too");
  await a.reject(true);
  await a.ack();
  await a.reject(false);
  assert.deepEqual(done, ["requeue a"], "only the first settle acts");
  assert.deepEqual(seen, ["changed after requeue a (room 1)"]);
  assert.deepEqual(window.outstanding(), ["b"]);
});

Deno.test("an exempt delivery stays out but leaves the count, once; settling it ends both", async () => {
  const { actions } = recorder();
  const exempt: number[] = [];
  const window = new DeliveryWindow<string>(1, { exemptChanged: (n) => exempt.push(n) });
  const held = window.handOut(FIELDS, actions("h"), "h");
  assert.equal(window.room(), 0);
  held.hold?.();
  held.hold?.();
  assert.equal(window.counted, 0);
  assert.equal(window.out, 1);
  assert.equal(window.room(), 1);
  await held.ack();
  assert.deepEqual(exempt, [1, 0]);
  assert.equal(window.out, 0);
  held.hold?.();
  assert.deepEqual(exempt, [1, 0], "a settled delivery cannot become exempt");
});

Deno.test("no prefetch: unlimited room; forgetAll drops what is out without acting", async () => {
  const { done, actions } = recorder();
  const window = new DeliveryWindow<string>(0);
  const a = window.handOut(FIELDS, actions("a"), "a");
  assert.equal(window.room(), Infinity);
  window.forgetAll();
  assert.equal(window.out, 0);
  await a.ack();
  assert.deepEqual(done, [], "its connection is gone: nothing to settle");
});

Deno.test("the lost signal reaches the delivery", () => {
  const lost = new AbortController();
  const delivery = new DeliveryWindow(1).handOut(FIELDS, recorder().actions("x"), "x", lost.signal);
  assert.equal(delivery.lost?.aborted, false);
  lost.abort();
  assert.equal(delivery.lost?.aborted, true);
});

Deno.test("a pull stream hands a delivery out only to a waiting reader; release ends a pull", async () => {
  const window = new DeliveryWindow<string>(1);
  const pulls: string[] = [];
  const out = new PullStream(() => pulls.push("pull"), () => pulls.push("cancel"));
  assert.equal(out.waiting, false, "nobody reads yet");
  const reader = out.stream.getReader();
  const read = reader.read();
  await Promise.resolve();
  assert.equal(out.waiting, true);
  out.offer(window.handOut(FIELDS, recorder().actions("a"), "a"));
  assert.equal((await read).value?.queue, "q");
  assert.equal(out.waiting, false);
  await reader.cancel();
  assert.deepEqual(pulls, ["pull", "cancel"]);
  out.release();
  out.close();
});
