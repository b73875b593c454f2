import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { setImmediate } from "node:timers";
import "./amqplib.ts";
import { amqplibFile } from "./amqplib_internals.ts";

// deno-lint-ignore no-explicit-any
const { Mux } = amqplibFile<any>("mux.js");

Deno.test("amqplib's mux moves a channel's frames to the socket before the next event-loop turn", async () => {
  const written: string[] = [];
  const socket = { write: (chunk: Uint8Array) => (written.push(String(chunk)), true), on() {} };
  const mux = new Mux(socket);
  const channel = new PassThrough({ objectMode: true });
  mux.pipeFrom(channel);
  channel.write("frame 1");
  channel.write("frame 2");
  const nextTurn = new Promise<string[]>((resolve) => setImmediate(() => resolve([...written])));
  assert.deepEqual(await nextTurn, ["frame 1", "frame 2"], "written in this turn, in order");
});
