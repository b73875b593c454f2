/**
 * Coalesces a client library's socket writes: amqplib writes every frame
 * (each publish, each ack) to the socket on its own, ioredis every command
 * or pipeline, and each write is a system call that also wakes the broker.
 * Corking the socket at the first write of a turn of the event loop and
 * uncorking it once that turn's microtasks have run sends everything written
 * meanwhile in one `writev`. Nothing waits longer than the current turn, so
 * latency is unchanged; throughput under load is several times higher.
 *
 * @module
 */

/** The part of a Node-style socket used here. */
export interface CorkableStream {
  /** Writes a chunk. */
  write(chunk: unknown, ...rest: unknown[]): boolean;
  /** Buffers writes until `uncork`. */
  cork(): void;
  /** Sends the buffered writes. */
  uncork(): void;
}

const patched = new WeakSet<object>();

/** Patches `stream` (once) so writes made in one turn go out together. */
export function coalesceWrites(stream: CorkableStream | undefined | null): void {
  if (!stream || typeof stream.cork !== "function" || patched.has(stream)) return;
  patched.add(stream);
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
