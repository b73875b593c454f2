/**
 * The current app when none was made: Celery's silent fallback to a default
 * app is never silent here (a warning names the app and its broker), and
 * strict mode makes it an error.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery, ConfigurationError, currentApp, setStrictMode, sharedTask } from "../../mod.ts";
import { uniqueName } from "../services.ts";

const ping = sharedTask(function current_app_ping() {
  return "pong";
});

const strictPing = sharedTask(function current_app_strict_ping() {
  return "pong";
}, { strict: true });

/** Runs `body` with console.warn captured. */
async function capturingWarnings<T>(body: () => T | Promise<T>): Promise<[T, string[]]> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(" "));
  try {
    return [await body(), warnings];
  } finally {
    console.warn = original;
  }
}

Deno.test("with no app, currentApp() falls back to `default` and says so", async () => {
  const home = await Deno.makeTempDir({ prefix: "celeriac-home-" });
  const saved = Deno.env.get("CELERIAC_HOME");
  Deno.env.set("CELERIAC_HOME", home);
  try {
    const [app, warnings] = await capturingWarnings(() => currentApp());
    try {
      assert.equal(app.main, "default");
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /falling back to the default app "default"/);
      assert.ok(warnings[0].includes(`using broker sqlite://${home}/embedded.sqlite3`));
      assert.match(warnings[0], /CELERIAC_STRICT=1/);
      // Once made, the default app is current: no second warning.
      const [again, more] = await capturingWarnings(() => currentApp());
      assert.equal(again, app);
      assert.deepEqual(more, []);
    } finally {
      await app.close();
    }
  } finally {
    if (saved === undefined) Deno.env.delete("CELERIAC_HOME");
    else Deno.env.set("CELERIAC_HOME", saved);
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("strict mode: using a shared task with no app throws", async () => {
  setStrictMode(true);
  try {
    const [, warnings] = await capturingWarnings(async () => {
      assert.throws(() => currentApp(), (error: unknown) => {
        return error instanceof ConfigurationError && /No current app/.test(error.message);
      });
      await assert.rejects(() => ping.delay(), ConfigurationError);
    });
    assert.deepEqual(warnings, []);
    // With an app, strict mode changes nothing.
    await using app = new Celery("proj", { broker: `memory://${uniqueName("strict")}` });
    assert.equal(currentApp(), app);
    assert.equal(await ping(), "pong");
  } finally {
    setStrictMode(false);
  }
});

Deno.test("a shared task defined with { strict: true } never falls back", async () => {
  const [, warnings] = await capturingWarnings(async () => {
    await assert.rejects(() => strictPing.delay(), (error: unknown) => {
      return error instanceof ConfigurationError && /No current app/.test(error.message);
    });
    await assert.rejects(() => strictPing(), ConfigurationError);
  });
  assert.deepEqual(warnings, []);
  await using app = new Celery("proj", { broker: `memory://${uniqueName("strict-task")}` });
  assert.equal(currentApp(), app);
  assert.equal(await strictPing(), "pong");
});

Deno.test("closing the current app makes the next fallback warn again", async () => {
  const url = `memory://${uniqueName("fallback")}`;
  const app = new Celery("proj", { broker: url, backend: url });
  assert.equal(currentApp(), app);
  await app.close();
  const [fallback, warnings] = await capturingWarnings(() => currentApp());
  try {
    assert.equal(fallback.main, "default");
    assert.equal(warnings.length, 1);
  } finally {
    await fallback.close();
  }
});
