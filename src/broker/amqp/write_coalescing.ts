/**
 * Coalesces amqplib's socket writes: amqplib writes every frame (each
 * publish, each ack) to the socket on its own, and each write is a system
 * call. Corking the socket at the first write of a turn of the event loop
 * and uncorking it once that turn's microtasks have run sends everything
 * written meanwhile in one `writev`. Nothing waits longer than the current
 * turn, so latency is unchanged; throughput under load is several times higher.
 *
 * @module
 */

import type { ChannelModel } from "./amqplib.ts";

interface CorkableStream {
  write(chunk: unknown, ...rest: unknown[]): boolean;
  cork(): void;
  uncork(): void;
  writableCorked?: number;
}

/** Patches the socket of `model` so writes made in one turn go out together. */
export function coalesceWrites(model: ChannelModel): void {
  const stream = (model.connection as unknown as { stream?: CorkableStream }).stream;
  if (!stream || typeof stream.cork !== "function") return;
  const write = stream.write.bind(stream);
  let corked = false;
  const flush = () => {
    corked = false;
    stream.uncork();
  };
  stream.write = (chunk: unknown, ...rest: unknown[]) => {
    if (!corked) {
      corked = true;
      stream.cork();
      queueMicrotask(flush);
    }
    return write(chunk, ...rest);
  };
}
