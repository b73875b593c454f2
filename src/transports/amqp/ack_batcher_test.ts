import assert from "node:assert/strict";
import { AckBatcher } from "./ack_batcher.ts";

/** Records the frames the batcher would send. */
function recordingChannel() {
  const frames: string[] = [];
  return {
    frames,
    ack: (m: { fields: { deliveryTag: number } }, allUpTo?: boolean) =>
      frames.push(`ack ${m.fields.deliveryTag}${allUpTo ? " multiple" : ""}`),
    reject: (m: { fields: { deliveryTag: number } }, requeue?: boolean) =>
      frames.push(`reject ${m.fields.deliveryTag}${requeue ? " requeue" : ""}`),
  };
}

Deno.test("AckBatcher: consecutive acks of one turn become one multiple ack", () => {
  const channel = recordingChannel();
  const batcher = new AckBatcher(channel);
  for (let tag = 1; tag <= 5; tag++) batcher.delivered(tag);
  for (const tag of [2, 1, 3]) batcher.ack(tag);
  batcher.flush();
  assert.deepEqual(channel.frames, ["ack 3 multiple"]);
  batcher.ack(5);
  batcher.flush();
  assert.deepEqual(channel.frames, ["ack 3 multiple", "ack 5"], "4 is still outstanding");
});

Deno.test("AckBatcher: a multiple ack never covers an outstanding delivery not acked", () => {
  const channel = recordingChannel();
  const batcher = new AckBatcher(channel);
  for (let tag = 1; tag <= 6; tag++) batcher.delivered(tag);
  batcher.reject(2, true);
  for (const tag of [1, 3, 5, 6]) batcher.ack(tag);
  batcher.flush();
  // 4 is held (not acked): 1 and 3 are consecutive among outstanding ones, 5 and 6 go alone.
  assert.deepEqual(channel.frames, ["reject 2 requeue", "ack 3 multiple", "ack 5", "ack 6"]);
  batcher.ack(4);
  batcher.ack(4);
  batcher.flush();
  assert.deepEqual(channel.frames.at(-1), "ack 4");
  assert.equal(channel.frames.length, 5, "a delivery is acknowledged once");
});

Deno.test("AckBatcher: acks are sent at the end of the turn, not before", async () => {
  const channel = recordingChannel();
  const batcher = new AckBatcher(channel);
  batcher.delivered(1);
  batcher.delivered(2);
  batcher.ack(1);
  await Promise.resolve();
  batcher.ack(2);
  assert.deepEqual(channel.frames, []);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(channel.frames, ["ack 2 multiple"]);
});

Deno.test("AckBatcher: nothing is sent on a closed channel", () => {
  const channel = recordingChannel();
  const batcher = new AckBatcher(channel);
  batcher.delivered(1);
  batcher.ack(1);
  batcher.close();
  batcher.flush();
  batcher.reject(1, true);
  assert.deepEqual(channel.frames, []);
});
