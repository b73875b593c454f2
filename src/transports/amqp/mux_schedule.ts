/**
 * amqplib's channel multiplexer writes to the socket in a microtask instead
 * of a `setImmediate`.
 *
 * amqplib queues every frame of a channel in a stream of its own; its `Mux`
 * moves the queued frames of all channels to the socket in a callback it
 * schedules with `setImmediate` once a channel has frames. In Deno that
 * callback waits for a whole turn of the event loop (an I/O poll): measured
 * from a task's return, a worker's result publish reached the socket 60–80
 * µs after amqplib had it, about half of the time the worker spends on a
 * one-task round trip. A microtask runs once the current job's promise
 * reactions are done, so the frames written in one job still go out
 * together (and `write_coalescing.ts` joins what follows in the same turn).
 *
 * @module
 */

import { amqplibFile } from "./amqplib_internals.ts";

interface MuxPrototype {
  scheduledRead: boolean;
  _readIncoming(): void;
  _scheduleRead(): void;
}

const { Mux } = amqplibFile<{ Mux: { prototype: MuxPrototype } }>("mux.js");

Mux.prototype._scheduleRead = function (this: MuxPrototype) {
  if (this.scheduledRead) return;
  this.scheduledRead = true;
  queueMicrotask(() => {
    this.scheduledRead = false;
    this._readIncoming();
  });
};
