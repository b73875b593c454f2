/**
 * The worker on the embedded default (`sqlite://`), with each pool: broker
 * and result backend share one file in a temporary directory.
 *
 * @module
 */

import { workerScenarios } from "./worker_scenarios.ts";

workerScenarios("sqlite:// (the embedded default)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "celeriac-worker-" });
  const url = `sqlite://${dir}/embedded.sqlite3`;
  return {
    broker: url,
    backend: url,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});
