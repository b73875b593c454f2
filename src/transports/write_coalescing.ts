/**
 * Coalesces a client library's socket writes: amqplib writes every frame
 * (each publish, each ack) to the socket on its own, ioredis every command
 * or pipeline, and each write is a system call that also wakes the broker.
 * Corking the socket at the first write of a turn of the event loop and
 * uncorking it in a `setImmediate` (after that turn's microtasks and the
 * immediates queued before it, such as the batched acks of `ack_batcher.ts`)
 * sends everything written meanwhile in one `writev`. Nothing waits past the
 * current turn, so latency is unchanged; throughput under load is several
 * times higher.
 *
 * The socket is a private field of each library (`connection.stream` in
 * amqplib, `client.stream` in ioredis; both pinned to exact versions in
 * deno.json). When it is not there, writes go out one by one: that is logged
 * as a warning, once per library, and `tests/integration/write_coalescing_test.ts`
 * fails, so an upgrade cannot undo the speed-up silently.
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

import { setImmediate } from "node:timers";
import { getLogger } from "../log.ts";

const patched = new WeakSet<object>();
const warned = new Set<string>();

/** Whether `stream`'s writes are coalesced. */
export function isCoalesced(stream: unknown): boolean {
  return typeof stream === "object" && stream !== null && patched.has(stream);
}

/**
 * Patches `stream` (once) so writes made in one turn go out together. Returns
 * false, with a warning naming `library` (once), when `stream` is not a
 * corkable socket: the library's private field moved.
 */
export function coalesceWrites(
  stream: CorkableStream | undefined | null,
  library: string,
): boolean {
  if (!stream || typeof stream.cork !== "function" || typeof stream.write !== "function") {
    if (!warned.has(library)) {
      warned.add(library);
      getLogger("celeriac").warning(
        `Cannot coalesce ${library}'s socket writes: its private socket field is not where ` +
          `celeriac expects it (a different ${library} version?). Every write is sent on its own.`,
      );
    }
    return false;
  }
  if (patched.has(stream)) return true;
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
      setImmediate(flush);
    }
    return write(chunk, ...rest);
  };
  return true;
}
