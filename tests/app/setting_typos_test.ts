/**
 * Setting typos: a key that looks like a mistyped Celery setting is reported
 * once, with the closest name, from the constructor's `config`, from
 * `conf.update` and from `configFromObject` (with or without a namespace);
 * the user's own keys are kept silently; strict mode makes it an error; and
 * in TypeScript the constructor's `config` is typed, so a typo does not
 * type-check.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery, setStrictMode } from "../../mod.ts";
import { ConfigurationError } from "../../src/errors.ts";

/** Runs `body` and returns what it passed to console.warn. */
function warningsOf(body: () => void): string[] {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
  try {
    body();
  } finally {
    console.warn = original;
  }
  return warnings;
}

async function warningsOfAsync(body: () => Promise<void>): Promise<string[]> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
  try {
    await body();
  } finally {
    console.warn = original;
  }
  return warnings;
}

const options = { broker: "memory://", backend: "memory://", setAsCurrent: false } as const;

Deno.test("a typo in the constructor's config warns once, naming the closest setting", () => {
  const config: Record<string, unknown> = { task_serialiser: "json", worker_concurency: 2 };
  const warnings = warningsOf(() => {
    const app = new Celery("typos", { ...options, config });
    app.conf.resolve();
    app.conf.update({ task_serialiser: "json" }); // the same key again: no second warning
    app.conf.resolve();
  });
  assert.equal(warnings.length, 2, warnings.join("\n"));
  assert.match(
    warnings[0],
    /unknown setting "task_serialiser" \(did you mean "task_serializer"\?\)/,
  );
  assert.match(
    warnings[1],
    /unknown setting "worker_concurency" \(did you mean "worker_concurrency"\?\)/,
  );
});

Deno.test("conf.update and configFromObject report typos; a namespace's keys too", async () => {
  const app = new Celery("typos", options);
  const warnings = await warningsOfAsync(async () => {
    app.conf.update({ result_expire: 10 });
    await app.configFromObject({ broker_heartbeet: 10 });
    await app.configFromObject({ CELERY_TASK_ACKS_LATER: true, OTHER_THING: 1 }, {
      namespace: "CELERY",
    });
  });
  assert.equal(warnings.length, 3, warnings.join("\n"));
  assert.match(warnings[0], /"result_expire" \(did you mean "result_expires"\?\)/);
  assert.match(warnings[1], /"broker_heartbeet" \(did you mean "broker_heartbeat"\?\)/);
  assert.match(warnings[2], /"CELERY_TASK_ACKS_LATER" \(did you mean "task_acks_late"\?\)/);
});

Deno.test("the user's own keys are kept silently", () => {
  const config: Record<string, unknown> = { MY_API_KEY: "k", feature_flags: { beta: true } };
  let app: Celery | undefined;
  const warnings = warningsOf(() => {
    app = new Celery("own", { ...options, config });
    app.conf.resolve();
  });
  assert.deepEqual(warnings, []);
  const values = app!.conf as unknown as Record<string, unknown>;
  assert.equal(values.MY_API_KEY, "k");
  assert.deepEqual(values.feature_flags, { beta: true });
});

Deno.test("strict settings: a typo is a ConfigurationError naming the key", () => {
  const config: Record<string, unknown> = { task_serialiser: "json" };
  assert.throws(
    () => new Celery("strict", { ...options, config, strictSettings: true }),
    (error) =>
      error instanceof ConfigurationError &&
      /unknown setting "task_serialiser" \(did you mean "task_serializer"\?\)/.test(error.message),
  );
  setStrictMode(true);
  try {
    assert.throws(() => new Celery("strict", { ...options, config }), ConfigurationError);
    const app = new Celery("strict", options);
    assert.throws(() => app.conf.update({ task_acks_lat: true }), /did you mean "task_acks_late"/);
  } finally {
    setStrictMode(false);
  }
});

Deno.test("the constructor's config is typed: a typo does not type-check", () => {
  const warnings = warningsOf(() => {
    // @ts-expect-error: 'task_serialiser' does not exist (did you mean 'task_serializer'?)
    new Celery("typed", { ...options, config: { task_serialiser: "json" } });
    // Celery's names, old uppercase names and the user's UPPERCASE keys type-check.
    new Celery("typed", { ...options, config: { task_acks_late: true, MY_TOKEN: "t" } });
  });
  assert.equal(warnings.length, 1);
});
