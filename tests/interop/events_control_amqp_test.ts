/**
 * Events and remote control with real Python Celery 5.2.6 on RabbitMQ, both
 * ways (see events_control_scenarios.ts).
 *
 * @module
 */

import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { serviceAvailable } from "../services.ts";
import {
  celeriacSeesPythonWorker,
  type EventsControlSetup,
  isolatedSettings,
  pythonSeesCeleriacWorker,
} from "./events_control_scenarios.ts";

const available = await serviceAvailable("rabbitmq");

function amqpSetup(): EventsControlSetup {
  return { broker: AMQP_URL, backend: "rpc://", config: isolatedSettings() };
}

async function cleanUp(setup: EventsControlSetup): Promise<void> {
  const control = setup.config.control_exchange as string;
  await deleteAmqpEntities([
    setup.config.task_default_queue as string,
    setup.config.event_exchange as string,
    `${control}.pidbox`,
    `reply.${control}.pidbox`,
  ]);
}

Deno.test({
  name: "RabbitMQ: Python's celery inspect/control and event receiver see a celeriac worker",
  ignore: !available,
  fn: async () => {
    const setup = amqpSetup();
    try {
      await pythonSeesCeleriacWorker(setup);
    } finally {
      await cleanUp(setup);
    }
  },
});

Deno.test({
  name: "RabbitMQ: celeriac's inspect, events and revoke see a Python worker",
  ignore: !available,
  fn: async () => {
    const setup = amqpSetup();
    try {
      await celeriacSeesPythonWorker(setup);
    } finally {
      await cleanUp(setup);
    }
  },
});
