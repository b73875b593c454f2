/**
 * Runs the broker and result backend conformance suites on the embedded
 * SQLite adapters, in a temporary directory removed afterwards.
 *
 * @module
 */

import { DEFAULT_SETTINGS } from "../../src/app/settings.ts";
import {
  createResultBackend,
  SQLITE_BACKEND_CAPABILITIES,
} from "../../src/transports/sqlite/backend.ts";
import { createBroker, SQLITE_BROKER_CAPABILITIES } from "../../src/transports/sqlite/broker.ts";
import { backendConformance } from "./backend_suite.ts";
import { brokerConformance } from "./broker_suite.ts";

const dir = await Deno.makeTempDir({ prefix: "celeriac-conformance-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
// Broker and backend share one file, as they do in the embedded default.
const url = `sqlite://${dir}/nested/embedded.sqlite3`;

brokerConformance("sqlite", SQLITE_BROKER_CAPABILITIES, () => createBroker(url, DEFAULT_SETTINGS), {
  redeliveryTimeoutMs: 3000,
});
backendConformance(
  "sqlite",
  SQLITE_BACKEND_CAPABILITIES,
  () => createResultBackend(url, DEFAULT_SETTINGS),
);
