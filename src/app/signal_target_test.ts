import assert from "node:assert/strict";
import { SignalTarget } from "./signal_target.ts";
import { sendSignal } from "./signals.ts";

Deno.test("SignalTarget.hasListeners follows adds and removes, capture flags apart", () => {
  const target = new SignalTarget();
  const listener = () => {};
  assert.equal(target.hasListeners("task_success"), false);
  target.addEventListener("task_success", listener);
  target.addEventListener("task_success", listener, { capture: true });
  assert.equal(target.hasListeners("task_success"), true);
  assert.equal(target.hasListeners("task_failure"), false);
  // Removing the capturing one leaves the other: still listened to.
  target.removeEventListener("task_success", listener, true);
  assert.equal(target.hasListeners("task_success"), true);
  // Removing a listener never added changes nothing.
  target.removeEventListener("task_success", () => {});
  assert.equal(target.hasListeners("task_success"), true);
  target.removeEventListener("task_success", listener);
  assert.equal(target.hasListeners("task_success"), false);
});

Deno.test("sendSignal reaches a listener added after a send nobody heard, and skips none", () => {
  const target = new SignalTarget();
  const heard: string[] = [];
  sendSignal(target, "task_rejected", { sender: "q", reason: "first" });
  target.addEventListener("task_rejected", (event) => heard.push(event.detail.reason));
  sendSignal(target, "task_rejected", { sender: "q", reason: "second" });
  // A `once` listener that ran stays counted: dispatching costs a little, missing one would be a bug.
  target.addEventListener("task_revoked", (event) => heard.push(event.detail.reason), {
    once: true,
  });
  sendSignal(target, "task_revoked", { sender: "t", taskId: "1", reason: "revoked" });
  sendSignal(target, "task_revoked", { sender: "t", taskId: "2", reason: "again" });
  assert.deepEqual(heard, ["second", "revoked"]);
  // A plain EventTarget (tests, other callers) still gets every signal.
  const plain = new EventTarget();
  let plainHeard = 0;
  plain.addEventListener("task_rejected", () => plainHeard++);
  sendSignal(plain, "task_rejected", { sender: "q", reason: "plain" });
  assert.equal(plainHeard, 1);
});
