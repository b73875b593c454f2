/**
 * Apps as in Celery's user guide: several apps in one process, `String(app)`,
 * the current app, shared tasks, `onInit`, `finalize`, `autodiscoverTasks`
 * and `await using`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Celery, ConfigurationError, currentApp } from "../../mod.ts";
import { mul, whereAmI } from "./fixtures/shared_library.ts";
import { uniqueName } from "../services.ts";

function memoryUrl(): string {
  return `memory://${uniqueName("apps")}`;
}

Deno.test("several apps coexist, each with its own config and tasks", async () => {
  await using billing = new Celery("billing", { broker: memoryUrl(), backend: memoryUrl() });
  await using mail = new Celery("mail", { broker: memoryUrl(), setAsCurrent: false });
  billing.conf.task_default_queue = "billing";
  const charge = billing.task(function charge(cents: number) {
    return cents;
  });
  const send = mail.task(function send(to: string) {
    return to;
  });
  assert.equal(billing.main, "billing");
  assert.equal(mail.main, "mail");
  assert.equal(charge.name, "billing.charge");
  assert.equal(send.name, "mail.send");
  assert.equal(billing.tasks.get("mail.send"), undefined);
  assert.equal(mail.tasks.get("billing.charge"), undefined);
  assert.equal(billing.conf.task_default_queue, "billing");
  assert.equal(mail.conf.task_default_queue, "celery");
  assert.notEqual(billing.brokerUrl(), mail.brokerUrl());
  await charge.delay(100);
  await send.delay("ada@example.com");
  assert.equal(await (await billing.getBroker()).messageCount("billing"), 1);
  assert.equal(await (await mail.getBroker()).messageCount("celery"), 1);
  assert.equal(await (await billing.getBroker()).messageCount("celery"), 0);
});

Deno.test("String(app) reads like Celery's <Celery proj at 0x…>", async () => {
  await using one = new Celery("proj", { broker: memoryUrl(), setAsCurrent: false });
  await using two = new Celery("proj", { broker: memoryUrl(), setAsCurrent: false });
  assert.match(String(one), /^<Celery proj at 0x[0-9a-f]+>$/);
  assert.notEqual(String(one), String(two));
  assert.equal(`${one}`, String(one));
});

Deno.test("a new app becomes current unless setAsCurrent is false", async () => {
  await using first = new Celery("first", { broker: memoryUrl() });
  assert.equal(currentApp(), first);
  await using hidden = new Celery("hidden", { broker: memoryUrl(), setAsCurrent: false });
  assert.equal(currentApp(), first);
  await using second = new Celery("second", { broker: memoryUrl() });
  assert.equal(currentApp(), second);
  assert.notEqual(currentApp(), hidden);
});

Deno.test("a shared task is in every app and goes through the current app", async () => {
  await using a = new Celery("a", { broker: memoryUrl(), backend: memoryUrl() });
  assert.equal(a.tasks.get("mul"), mul);
  assert.ok(a.tasks.names().includes("mul"));
  await mul.delay(2, 3);
  await using b = new Celery("b", { broker: memoryUrl(), backend: memoryUrl() });
  assert.equal(b.tasks.get("mul"), mul);
  await mul.delay(4, 5);
  await mul.delay(6, 7);
  assert.equal(await (await a.getBroker()).messageCount("celery"), 1);
  assert.equal(await (await b.getBroker()).messageCount("celery"), 2);
  assert.equal(await mul(3, 3), 9);
  assert.equal(mul.name, "mul");
  assert.equal(whereAmI.name, "where_am_i");
});

Deno.test("a worker of any app runs shared tasks", async () => {
  await using app = new Celery("proj", { broker: memoryUrl(), backend: memoryUrl() });
  const worker = await app.worker({ pool: "solo", banner: false, hostname: "shared@test" });
  try {
    assert.equal(await (await mul.delay(6, 7)).get({ timeout: 10 }), 42);
    assert.equal(await (await whereAmI.delay()).get({ timeout: 10 }), "where_am_i@shared@test");
  } finally {
    await worker.stop();
  }
});

Deno.test("onInit runs once with the new app", async () => {
  const seen: Celery[] = [];
  await using app = new Celery("proj", {
    broker: memoryUrl(),
    setAsCurrent: false,
    onInit: (created) => {
      seen.push(created);
      created.conf.task_default_queue = "from-init";
    },
  });
  assert.deepEqual(seen, [app]);
  assert.equal(app.conf.task_default_queue, "from-init");
});

Deno.test("finalize() validates the config and marks the app ready", async () => {
  await using app = new Celery("proj", { broker: memoryUrl(), setAsCurrent: false });
  assert.equal(app.finalized, false);
  assert.equal(app.finalize(), app);
  assert.equal(app.finalized, true);
  await using broken = new Celery("broken", { broker: memoryUrl(), setAsCurrent: false });
  (broken.conf as unknown as Record<string, unknown>).task_acks_late = "yes";
  assert.throws(() => broken.finalize(), /"task_acks_late": "yes"/);
  assert.equal(broken.finalized, false);
});

Deno.test("autodiscoverTasks imports task modules (relative to the app's module)", async () => {
  await using app = new Celery("proj", { broker: memoryUrl(), setAsCurrent: false });
  assert.equal(app.tasks.has("discovered_multiply"), false);
  await app.autodiscoverTasks(["./fixtures/discovered_tasks.ts"]);
  assert.equal(app.tasks.has("discovered_multiply"), true);
  await assert.rejects(
    () => app.autodiscoverTasks(["./fixtures/no_such_module.ts"]),
    (error: unknown) =>
      error instanceof ConfigurationError &&
      error.message.includes('Cannot import task module "./fixtures/no_such_module.ts"'),
  );
});

Deno.test("importDefaultModules imports the `imports` and `include` settings", async () => {
  await using app = new Celery("proj", {
    broker: memoryUrl(),
    setAsCurrent: false,
    include: ["./fixtures/included_tasks.ts"],
  });
  assert.equal(app.tasks.has("included_negate"), false);
  await app.importDefaultModules();
  assert.equal(app.tasks.has("included_negate"), true);
});

Deno.test("await using closes the app's connections", async () => {
  const url = memoryUrl();
  let broker;
  {
    await using app = new Celery("proj", { broker: url, backend: url });
    broker = await app.getBroker();
    assert.equal(currentApp(), app);
  }
  await assert.rejects(
    () =>
      broker.publish({
        headers: {},
        properties: {},
        contentType: "",
        contentEncoding: "",
        body: new Uint8Array(),
      }, { exchange: "", routingKey: "celery" }),
  );
});
