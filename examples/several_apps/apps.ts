/**
 * Several apps in one process, each with its own configuration and tasks,
 * and Celery's task naming: `<main>.<function name>` unless a name is given.
 * Worker threads import this module, so the demonstration is guarded by
 * `import.meta.main`.
 *
 * ```sh
 * deno run -A examples/several_apps/apps.ts
 * ```
 *
 * @module
 */

import { Celery } from "../../mod.ts";

/** Billing: its tasks are named `billing.<function>`, on its own queue. */
export const billing = new Celery("billing", {
  config: { task_default_queue: "examples.billing" },
});

/** Mail: a second app, not made current, with another queue. */
export const mail = new Celery("mail", {
  setAsCurrent: false,
  config: { task_default_queue: "examples.mail" },
});

/** `billing.charge`: named after the app and the function. */
export const charge = billing.task(function charge(customer: string, cents: number) {
  return `charged ${customer} ${(cents / 100).toFixed(2)} EUR`;
});

/** `send-welcome-mail`: an explicit name wins. */
export const welcome = mail.task(function welcome(to: string) {
  return `welcome mail sent to ${to}`;
}, { name: "send-welcome-mail" });

if (import.meta.main) {
  for (const app of [billing, mail]) {
    console.log(
      `${app}: tasks ${app.tasks.names().join(", ")}, queue ${app.conf.task_default_queue}`,
    );
  }
  console.log(
    `billing.tasks.get("billing.charge") === charge: ${
      billing.tasks.get("billing.charge") === charge
    }`,
  );
  // One worker per app. Worker threads import this module and find each app by its main name.
  const workers = await Promise.all([
    billing.worker({ concurrency: 1, banner: false, hostname: "billing@%h" }),
    mail.worker({ concurrency: 1, banner: false, hostname: "mail@%h" }),
  ]);
  try {
    const charged = await charge.delay("ada", 1250);
    const mailed = await welcome.delay("ada@example.com");
    console.log(`${charged.taskName}: ${await charged.get({ timeout: 20 })}`);
    console.log(`${mailed.taskName}: ${await mailed.get({ timeout: 20 })}`);
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await Promise.all([billing.close(), mail.close()]);
  }
}
