/**
 * The worker on `memory://`, with each pool.
 *
 * @module
 */

import { uniqueName } from "../services.ts";
import { workerScenarios } from "./worker_scenarios.ts";

workerScenarios("memory://", () => {
  const url = `memory://${uniqueName("worker")}`;
  return Promise.resolve({ broker: url, backend: url, cleanup: () => Promise.resolve() });
});
