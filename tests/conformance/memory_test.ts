/**
 * Runs the broker and result backend conformance suites on `memory://`.
 *
 * @module
 */

import { DEFAULT_SETTINGS } from "../../src/app/settings.ts";
import {
  createResultBackend,
  MEMORY_BACKEND_CAPABILITIES,
} from "../../src/transports/memory/backend.ts";
import { createBroker, MEMORY_BROKER_CAPABILITIES } from "../../src/transports/memory/broker.ts";
import { uniqueName } from "../services.ts";
import { backendConformance } from "./backend_suite.ts";
import { brokerConformance } from "./broker_suite.ts";

// One name for the whole file: brokers opened by one test share queues, as they must.
const brokerUrl = `memory://${uniqueName("conformance")}`;
const backendUrl = `memory://${uniqueName("conformance")}`;

brokerConformance(
  "memory",
  MEMORY_BROKER_CAPABILITIES,
  () => createBroker(brokerUrl, DEFAULT_SETTINGS),
  {
    redeliveryTimeoutMs: 1000,
  },
);
backendConformance(
  "memory",
  MEMORY_BACKEND_CAPABILITIES,
  () => createResultBackend(backendUrl, DEFAULT_SETTINGS),
);
