/**
 * The worker on `memory://`, with each pool but `threads` (its threads each
 * connect to the broker, and a memory:// broker lives in one thread:
 * `threads_pool_test.ts` checks the error).
 *
 * @module
 */

import { uniqueName } from "../services.ts";
import { workerScenarios } from "./worker_scenarios.ts";

workerScenarios("memory://", () => {
  const url = `memory://${uniqueName("worker")}`;
  return Promise.resolve({ broker: url, backend: url, cleanup: () => Promise.resolve() });
}, ["workers", "async", "solo"]);
