/**
 * The broker and result backend conformance suites on a real RabbitMQ:
 * `amqp://` as broker, `rpc://` as result backend.
 *
 * @module
 */

import { AMQP_CAPABILITIES, createBroker } from "../../src/transports/amqp/broker.ts";
import { createResultBackend, RPC_CAPABILITIES } from "../../src/transports/amqp/backend.ts";
import { backendConformance } from "../conformance/backend_suite.ts";
import { brokerConformance } from "../conformance/broker_suite.ts";
import { serviceAvailable } from "../services.ts";
import { AMQP_URL, amqpConfig, deleteAmqpEntities } from "./amqp_helpers.ts";

const available = await serviceAvailable("rabbitmq");

brokerConformance("amqp", AMQP_CAPABILITIES, () => createBroker(AMQP_URL, amqpConfig()), {
  ignore: !available,
  deleteQueues: deleteAmqpEntities,
});

backendConformance("rpc", RPC_CAPABILITIES, () => createResultBackend("rpc://", amqpConfig()), {
  ignore: !available,
});
