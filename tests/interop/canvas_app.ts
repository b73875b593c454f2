/**
 * The interop app (`worker_app.ts`) plus the tasks canvas tests use, with
 * the same names and behaviour as `python/canvas_app.py`:
 * `interop.xsum(numbers)`, `interop.remember(...args)` (RPUSH of the
 * arguments but the last to `celeriac-it-remember:<last>`) and
 * `interop.errback_new(request, exc, traceback, token)`, a "new-style"
 * errback. A worker loads it with `cli.ts worker -A tests/interop/canvas_app.ts`.
 *
 * @module
 */

import { Redis } from "ioredis";
import { app } from "./worker_app.ts";

export { app };

const rememberUrl = Deno.env.get("CELERIAC_IT_REMEMBER_URL") ?? "redis://127.0.0.1:6379/0";
let client: Redis | undefined;

async function rememberCall(token: string, values: unknown[]): Promise<void> {
  client ??= new Redis(rememberUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  const key = `celeriac-it-remember:${token}`;
  // The test deletes the list once read; a call it did not wait for expires with it.
  await client.multi().rpush(key, JSON.stringify(values)).expire(key, 600).exec();
}

/** `interop.xsum`: the sum of a list. */
export const xsum = app.task(function xsum(numbers: number[]) {
  return numbers.reduce((sum, n) => sum + n, 0);
}, { name: "interop.xsum" });

/** `interop.remember`: records its arguments (but the last, the token) in Redis. */
export const remember = app.task(async function remember(...args: unknown[]) {
  const values = args.slice(0, -1);
  await rememberCall(String(args.at(-1)), values);
  return values;
}, { name: "interop.remember" });

/** `interop.errback_old`: an old-style errback (one positional parameter), sent as a task. */
export const errbackOld = app.task(
  async function errback_old(taskId: string, { token }: { token: string }) {
    await rememberCall(token, [taskId]);
  },
  { name: "interop.errback_old" },
);

/** `interop.errback_new`: a new-style errback, called in the worker with the failed request. */
export const errbackNew = app.task(
  async function errback_new(
    request: { id: string },
    exc: Error,
    _traceback: unknown,
    token: string,
  ) {
    await rememberCall(token, [request.id, exc.message]);
  },
  { name: "interop.errback_new" },
);
