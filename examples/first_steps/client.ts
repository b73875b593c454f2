/**
 * Sends `add(4, 4)` to a worker and prints the result.
 *
 * @module
 */

import { add, app } from "./tasks.ts";

const result = await add.delay(4, 4);
console.log(`sent tasks.add[${result.id}]`);
console.log(`result: ${await result.get({ timeout: 30 })}`);
await app.close();
