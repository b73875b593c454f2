/**
 * The dashboard on RabbitMQ with a celeriac worker process and a Python
 * Celery 5.2.6 worker (see dashboard_scenarios.ts). Fresh queue and
 * exchange names, deleted afterwards.
 *
 * @module
 */

import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import type { EventsControlSetup } from "../interop/events_control_scenarios.ts";
import { isolatedSettings } from "../interop/events_control_scenarios.ts";
import { serviceAvailable } from "../services.ts";
import { celeriacWorkerTour, pythonWorkerTour, securityChecks } from "./dashboard_scenarios.ts";

const available = await serviceAvailable("rabbitmq");

function amqpSetup(): EventsControlSetup {
  return { broker: AMQP_URL, backend: "rpc://", config: isolatedSettings() };
}

async function cleanUp(setup: EventsControlSetup): Promise<void> {
  const control = setup.config.control_exchange as string;
  await deleteAmqpEntities([
    setup.config.task_default_queue as string,
    `${setup.config.task_default_queue}-idle`,
    setup.config.event_exchange as string,
    `${control}.pidbox`,
    `reply.${control}.pidbox`,
  ]);
}

for (
  const [name, scenario] of [
    ["a celeriac worker: pages' data, actions and the Flower API", celeriacWorkerTour],
    ["a Python Celery worker and its tasks", pythonWorkerTour],
    ["auth, CSRF and the CSP header", securityChecks],
  ] as const
) {
  Deno.test({
    name: `dashboard on RabbitMQ: ${name}`,
    ignore: !available,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const setup = amqpSetup();
      try {
        await scenario(setup);
      } finally {
        await cleanUp(setup);
      }
    },
  });
}
