import assert from "node:assert/strict";
import { LinkedAbort } from "./linked_abort.ts";

Deno.test("LinkedAbort aborts with the reason of the source that aborted", () => {
  const lost = new AbortController();
  const discard = new AbortController();
  using linked = new LinkedAbort([lost.signal, discard.signal]);
  assert.equal(linked.signal?.aborted, false);
  discard.abort("revoked");
  assert.equal(linked.signal?.aborted, true);
  assert.equal(linked.signal?.reason, "revoked");
});

Deno.test("LinkedAbort: one source is used as is, none gives no signal, an aborted one aborts at once", () => {
  const only = new AbortController();
  assert.equal(new LinkedAbort([undefined, only.signal]).signal, only.signal);
  assert.equal(new LinkedAbort([undefined]).signal, undefined);
  const done = new AbortController();
  done.abort("gone");
  const linked = new LinkedAbort([new AbortController().signal, done.signal]);
  assert.equal(linked.signal?.reason, "gone");
});

Deno.test("LinkedAbort: once disposed, the sources no longer reach it", () => {
  const lost = new AbortController();
  const linked = new LinkedAbort([lost.signal, new AbortController().signal]);
  linked[Symbol.dispose]();
  lost.abort("channel closed");
  assert.equal(linked.signal?.aborted, false);
});

// The leak it replaces: AbortSignal.any's signal with an abort listener stays
// alive as long as a source does. Measured in a child process with --expose-gc.
Deno.test("LinkedAbort: disposed links to a long-lived source are collected (AbortSignal.any's are not)", async () => {
  const script = (make: string) => `
    import { LinkedAbort } from ${
    JSON.stringify(new URL("./linked_abort.ts", import.meta.url).href)
  };
    const source = new AbortController();
    const used = () => { globalThis.gc(); return Deno.memoryUsage().heapUsed; };
    await new Promise((r) => setTimeout(r, 0));
    const before = used();
    for (let i = 0; i < 20000; i++) {
      const own = new AbortController();
      ${make}
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    await new Promise((r) => setTimeout(r, 0));
    console.log(used() - before);`;
  const grown = async (make: string) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--v8-flags=--expose-gc", script(make)],
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    return Number(new TextDecoder().decode(output.stdout).trim());
  };
  const any = await grown(
    `AbortSignal.any([source.signal, own.signal]).addEventListener("abort", () => {}, { once: true });`,
  );
  const linked = await grown(
    `{ using link = new LinkedAbort([source.signal, own.signal]);
       link.signal.addEventListener("abort", () => {}, { once: true }); }`,
  );
  assert.ok(any > 4_000_000, `AbortSignal.any kept ${any} bytes (the leak this guards against)`);
  assert.ok(linked < 1_000_000, `LinkedAbort kept ${linked} bytes`);
});
