/**
 * Configuring as in Celery: `app.conf` with Celery's names and defaults,
 * `update`, `configFromObject` (module, object, class), `configFromEnvvar`,
 * old uppercase names, the environment, `humanize`/`table` with censoring,
 * and errors naming the key, the value and what is accepted.
 *
 * @module
 */

import assert from "node:assert/strict";
import { relative } from "node:path";
import { Celery, ConfigurationError } from "../../mod.ts";

const CONFIG_MODULE = new URL("./fixtures/celeryconfig.ts", import.meta.url);
const DEFAULT_EXPORT_MODULE = new URL("./fixtures/default_export_config.ts", import.meta.url);

function newApp(options: ConstructorParameters<typeof Celery>[1] = {}): Celery {
  return new Celery("proj", { broker: "memory://config", setAsCurrent: false, ...options });
}

/** Runs `body` with environment variables set, then restores them. */
async function withEnv(vars: Record<string, string>, body: () => Promise<void>): Promise<void> {
  const saved = Object.keys(vars).map((name) => [name, Deno.env.get(name)] as const);
  for (const [name, value] of Object.entries(vars)) Deno.env.set(name, value);
  try {
    await body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
}

Deno.test("app.conf holds Celery's settings with Celery's defaults", async () => {
  await using app = new Celery("proj", { setAsCurrent: false });
  const conf = app.conf;
  assert.equal(conf.task_serializer, "json");
  assert.equal(conf.result_serializer, "json");
  assert.deepEqual(conf.accept_content, ["json"]);
  assert.equal(conf.task_default_queue, "celery");
  assert.equal(conf.timezone, null);
  assert.equal(conf.enable_utc, true);
  assert.equal(conf.result_expires, 86400);
  assert.equal(conf.task_acks_late, false);
  assert.equal(conf.worker_prefetch_multiplier, 4);
  assert.equal(conf.resolve().result_accept_content?.[0], "json");
});

Deno.test("settings are plain properties; resolve() validates them", async () => {
  await using app = newApp();
  app.conf.enable_utc = true;
  app.conf.timezone = "Europe/London";
  app.conf.task_default_queue = "jobs";
  const resolved = app.conf.resolve();
  assert.equal(resolved.enable_utc, true);
  assert.equal(resolved.timezone, "Europe/London");
  assert.equal(resolved.task_default_queue, "jobs");
  assert.ok(Object.isFrozen(resolved));
  (app.conf as unknown as Record<string, unknown>).enable_utc = "yes";
  assert.throws(
    () => app.conf.resolve(),
    (error: unknown) =>
      error instanceof ConfigurationError && error.message.includes('"enable_utc"') &&
      error.message.includes('"yes"') && error.message.includes("Accepted: a boolean"),
  );
});

Deno.test("resolve() returns the same copy until a key is assigned, added or removed", async () => {
  await using app = newApp();
  const conf = app.conf as unknown as Record<string, unknown>;
  const first = app.conf.resolve();
  assert.equal(app.conf.resolve(), first, "nothing changed: the same frozen copy");
  conf.my_setting = undefined;
  const second = app.conf.resolve();
  assert.notEqual(second, first);
  assert.ok("my_setting" in second);
  // One key removed and another added (both undefined): the same number of keys, still a change.
  delete conf.my_setting;
  conf.other_setting = undefined;
  const third = app.conf.resolve() as unknown as Record<string, unknown>;
  assert.notEqual(third, second);
  assert.ok(!("my_setting" in third) && "other_setting" in third);
  conf.task_default_queue = "changed";
  assert.equal(app.conf.resolve().task_default_queue, "changed");
});

Deno.test("update() maps old uppercase names and rejects bad values clearly", async () => {
  await using app = newApp();
  app.conf.update({
    BROKER_URL: "memory://old-names",
    CELERY_RESULT_BACKEND: "memory://old-results",
    CELERY_ACCEPT_CONTENT: ["application/json"],
    CELERY_TASK_SERIALIZER: "json",
    CELERYD_CONCURRENCY: 3,
    my_own_setting: "kept",
  });
  assert.equal(app.conf.broker_url, "memory://old-names");
  assert.equal(app.conf.result_backend, "memory://old-results");
  assert.deepEqual(app.conf.accept_content, ["application/json"]);
  assert.equal(app.conf.worker_concurrency, 3);
  assert.equal((app.conf as unknown as Record<string, unknown>).my_own_setting, "kept");
  assert.throws(
    () => app.conf.update({ worker_pool: "prefork" }),
    {
      name: "ConfigurationError",
      message: 'Invalid value for setting "worker_pool": "prefork". ' +
        'Accepted: "workers", "threads", "async", "solo".',
    },
  );
  assert.throws(() => app.conf.update({ CELERY_ACCEPT_CONTENT: ["pickle"] }), /Pickle is never/);
  assert.throws(
    () => app.conf.update({ worker_prefetch_multiplier: -1 }),
    /"worker_prefetch_multiplier": -1\. Accepted: a number of 0 or more/,
  );
  assert.throws(
    () => app.conf.update({ worker_eta_hold_limit: 0 }),
    /"worker_eta_hold_limit": 0\. Accepted: a number of seconds above 0, or null/,
  );
  app.conf.update({ worker_eta_hold_limit: 600 });
  assert.equal(app.conf.worker_eta_hold_limit, 600);
  assert.throws(
    () => app.conf.update({ task_time_limit: "ten" }),
    /"task_time_limit": "ten" \(a string\)\. Accepted: a number or null/,
  );
  assert.equal(app.conf.worker_pool, "threads");
});

Deno.test("configFromObject reads a module by path, relative to the working directory", async () => {
  await using app = newApp();
  await app.configFromObject(`./${relative(Deno.cwd(), CONFIG_MODULE.pathname)}`);
  assert.equal(app.conf.broker_url, "memory://from-config-module");
  assert.equal(app.conf.task_default_queue, "from-module");
  assert.equal(app.conf.task_acks_late, true);
  await using other = newApp();
  await other.configFromObject(DEFAULT_EXPORT_MODULE.href);
  assert.equal(other.conf.task_default_queue, "from-default-export");
  assert.equal(other.conf.result_expires, 60);
  await assert.rejects(
    () => other.configFromObject("./no/such/celeryconfig.ts"),
    (error: unknown) =>
      error instanceof ConfigurationError &&
      error.message.startsWith('Cannot load configuration module "./no/such/celeryconfig.ts"'),
  );
});

Deno.test("configFromObject reads an object, a class's static fields or its instance", async () => {
  await using app = newApp();
  await app.configFromObject({ task_default_queue: "from-object", enable_utc: false });
  assert.equal(app.conf.task_default_queue, "from-object");
  assert.equal(app.conf.enable_utc, false);
  class StaticConfig {
    static task_default_queue = "from-static";
    static CELERY_TIMEZONE = "UTC";
  }
  await app.configFromObject(StaticConfig);
  assert.equal(app.conf.task_default_queue, "from-static");
  assert.equal(app.conf.timezone, "UTC");
  class InstanceConfig {
    task_default_queue = "from-instance";
    result_extended = true;
  }
  await app.configFromObject(InstanceConfig);
  assert.equal(app.conf.task_default_queue, "from-instance");
  assert.equal(app.conf.result_extended, true);
  await app.configFromObject(
    { CELERY_TASK_DEFAULT_QUEUE: "namespaced", task_acks_late: true, OTHER: 1 },
    { namespace: "CELERY" },
  );
  assert.equal(app.conf.task_default_queue, "namespaced");
});

Deno.test("configFromEnvvar loads the module the variable names", async () => {
  await using app = newApp();
  await withEnv({ CELERY_CONFIG_MODULE: CONFIG_MODULE.href }, async () => {
    assert.equal(await app.configFromEnvvar("CELERY_CONFIG_MODULE"), true);
  });
  assert.equal(app.conf.task_default_queue, "from-module");
  const variable = `CELERIAC_TEST_UNSET_${crypto.randomUUID().slice(0, 8)}`;
  await assert.rejects(
    () => app.configFromEnvvar(variable),
    (error: unknown) => error instanceof ConfigurationError && error.message.includes(variable),
  );
  assert.equal(await app.configFromEnvvar(variable, { silent: true }), false);
});

/** What the apps resolve in a child process with `env` set (see fixtures/env_urls_child.ts). */
async function resolvedInChild(env: Record<string, string>): Promise<Record<string, unknown>> {
  const child = new URL("./fixtures/env_urls_child.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", child.pathname],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(text.trim().split("\n").at(-1)!);
}

Deno.test("CELERY_BROKER_URL and CELERY_RESULT_BACKEND win, as in Celery", async () => {
  const both = await resolvedInChild({
    CELERY_BROKER_URL: "memory://from-env",
    CELERY_RESULT_BACKEND: "memory://results-from-env",
  });
  assert.deepEqual(both, {
    confBroker: "memory://from-env",
    broker: "memory://from-env",
    backend: "memory://results-from-env",
    // Celery reads the environment first: explicit and later settings do not override it.
    explicitBroker: "memory://from-env",
    explicitBackend: "memory://results-from-env",
    explicitConnected: "memory://from-env",
  });
  // A broker is configured (by the environment) and no backend: results are disabled.
  const brokerOnly = await resolvedInChild({ CELERY_BROKER_URL: "memory://only-broker-from-env" });
  assert.equal(brokerOnly.backend, null);
});

Deno.test("table() and humanize() list changed settings, secrets censored", async () => {
  await using app = newApp({ broker: "amqp://user:s3cret@rabbit:5672//" });
  app.conf.update({
    task_default_queue: "jobs",
    database_url: "postgres://u:pw@db/x",
    my_api_token: "tok",
    aws_secret_access: "sss",
    SIGNATURE_SALT: "salt",
    db_password: "pw",
    result_backend: "redis://:hunter2@cache:6379/0",
  });
  const table = app.conf.table();
  assert.equal(table.task_default_queue, "jobs");
  assert.equal(table.broker_url, "amqp://user:**@rabbit:5672//");
  assert.equal(table.result_backend, "redis://:**@cache:6379/0");
  for (const key of ["database_url", "my_api_token", "aws_secret_access", "db_password"]) {
    assert.equal(table[key], "********", key);
  }
  assert.equal(table.SIGNATURE_SALT, "********");
  assert.equal("enable_utc" in table, false);
  assert.equal(app.conf.table({ withDefaults: true }).enable_utc, true);
  assert.equal(app.conf.table({ censored: false }).my_api_token, "tok");
  const text = app.conf.humanize();
  assert.match(text, /^task_default_queue: "jobs"$/m);
  assert.match(text, /^broker_url: "amqp:\/\/user:\*\*@rabbit:5672\/\/"$/m);
  assert.doesNotMatch(text, /s3cret|hunter2|tok"|"sss"/);
  assert.match(app.conf.humanize({ withDefaults: true }), /^enable_utc: true$/m);
});
