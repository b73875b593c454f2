/**
 * Sends the `lafoglia` app's tasks and prints their results (see app.ts):
 *
 * ```sh
 * deno run -A examples/rabbitmq/client.ts
 * ```
 *
 * @module
 */

import { add, app, greet } from "./app.ts";

try {
  const sum = await add.delay(2, 3);
  const greeting = await greet.applyAsync(["Ada"], { kwargs: { greeting: "ciao" } });
  const byName = await app.sendTask("lafoglia.add", [20, 22]);
  console.log(`lafoglia.add(2, 3) = ${await sum.get({ timeout: 30 })}`);
  console.log(`lafoglia.greet("Ada", greeting="ciao") = ${await greeting.get({ timeout: 30 })}`);
  console.log(`send_task lafoglia.add(20, 22) = ${await byName.get({ timeout: 30 })}`);
} finally {
  await app.close();
}
