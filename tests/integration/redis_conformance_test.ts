/**
 * The broker and result backend conformance suites on real Redis. Every key
 * lives under one fresh `global_keyprefix`, deleted by the last test.
 *
 * @module
 */

import { brokerConformance } from "../conformance/broker_suite.ts";
import { backendConformance } from "../conformance/backend_suite.ts";

import { createBroker, REDIS_BROKER_CAPABILITIES } from "../../src/transports/redis/broker.ts";
import {
  createResultBackend,
  REDIS_BACKEND_CAPABILITIES,
} from "../../src/transports/redis/backend.ts";

import { serviceAvailable, uniqueName } from "../services.ts";
import { deleteKeysWithPrefix, REDIS_URL, redisTestConfig } from "./redis_test_tools.ts";

const available = await serviceAvailable("redis");
const prefix = `${uniqueName("celeriac-conformance")}:`;
const config = redisTestConfig(prefix, { broker_transport_options: { global_keyprefix: prefix } });

brokerConformance("redis", REDIS_BROKER_CAPABILITIES, () => createBroker(REDIS_URL, config), {
  ignore: !available,
  redeliveryTimeoutMs: 5000,
});

backendConformance(
  "redis",
  REDIS_BACKEND_CAPABILITIES,
  () => createResultBackend(REDIS_URL, config),
  { ignore: !available },
);

Deno.test({
  name: "redis conformance: delete every key under the test prefix",
  ignore: !available,
  fn: async () => {
    await deleteKeysWithPrefix(prefix);
  },
});
