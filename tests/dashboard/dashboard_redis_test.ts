/**
 * The dashboard on Redis with a celeriac worker process and a Python Celery
 * 5.2.6 worker (see dashboard_scenarios.ts). Keys under a fresh prefix.
 *
 * @module
 */

import { deleteKeysWithPrefix, REDIS_URL } from "../integration/redis_test_tools.ts";
import type { EventsControlSetup } from "../interop/events_control_scenarios.ts";
import { isolatedSettings } from "../interop/events_control_scenarios.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import { celeriacWorkerTour, pythonWorkerTour, securityChecks } from "./dashboard_scenarios.ts";

const available = await serviceAvailable("redis");

function redisSetup(): EventsControlSetup & { prefix: string } {
  const prefix = `${uniqueName("it-dash")}:`;
  return {
    prefix,
    broker: REDIS_URL,
    backend: REDIS_URL,
    config: isolatedSettings({
      broker_transport_options: { global_keyprefix: prefix },
      result_expires: 600,
    }),
  };
}

for (
  const [name, scenario] of [
    ["a celeriac worker: pages' data, actions and the Flower API", celeriacWorkerTour],
    ["a Python Celery worker and its tasks", pythonWorkerTour],
    ["auth, CSRF and the CSP header", securityChecks],
  ] as const
) {
  Deno.test({
    name: `dashboard on Redis: ${name}`,
    ignore: !available,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const setup = redisSetup();
      try {
        await scenario(setup);
      } finally {
        await deleteKeysWithPrefix(setup.prefix);
      }
    },
  });
}
