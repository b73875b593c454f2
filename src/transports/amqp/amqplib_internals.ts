/**
 * amqplib's own files, loaded by path: the modules celeriac patches
 * (`amqplib_codec.ts`, `publish_fields.ts`, `mux_schedule.ts`) and their
 * tests reach into `lib/` of the pinned amqplib (deno.json).
 *
 * @module
 */

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const libDir = require.resolve("amqplib").replace(/channel_api\.js$/, "lib/");

/** The CommonJS exports of `lib/<file>` of amqplib (e.g. `codec.js`), as amqplib itself has them. */
export function amqplibFile<T = Record<string, unknown>>(file: string): T {
  return require(`${libDir}${file}`) as T;
}

/** Whether amqplib already loaded `lib/<file>`. */
export function amqplibLoaded(file: string): boolean {
  return Boolean(require.cache[`${libDir}${file}`]);
}
