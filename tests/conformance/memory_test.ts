/**
 * Runs the broker and result backend conformance suites on `memory://`.
 *
 * @module
 */

import { DEFAULT_SETTINGS } from "../../src/app/settings.ts";
import { createResultBackend } from "../../src/backend/memory/backend.ts";
import { createBroker } from "../../src/broker/memory/broker.ts";
import { uniqueName } from "../services.ts";
import { backendConformance } from "./backend_suite.ts";
import { brokerConformance } from "./broker_suite.ts";

// One name for the whole file: brokers opened by one test share queues, as they must.
const brokerUrl = `memory://${uniqueName("conformance")}`;
const backendUrl = `memory://${uniqueName("conformance")}`;

brokerConformance("memory", () => createBroker(brokerUrl, DEFAULT_SETTINGS), {
  redeliveryTimeoutMs: 1000,
});
backendConformance("memory", () => createResultBackend(backendUrl, DEFAULT_SETTINGS));
