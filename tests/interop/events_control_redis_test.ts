/**
 * Events and remote control with real Python Celery 5.2.6 on Redis (pub/sub
 * fanout for events and requests, lists for replies), both ways (see
 * events_control_scenarios.ts). Keys live under a fresh `global_keyprefix`.
 *
 * @module
 */

import { deleteKeysWithPrefix, REDIS_URL } from "../integration/redis_test_tools.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import {
  celeriacSeesPythonWorker,
  type EventsControlSetup,
  isolatedSettings,
  pythonSeesCeleriacWorker,
} from "./events_control_scenarios.ts";

const available = await serviceAvailable("redis");

function redisSetup(): EventsControlSetup & { prefix: string } {
  const prefix = `${uniqueName("it-evctl")}:`;
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

Deno.test({
  name: "Redis: Python's celery inspect/control and event receiver see a celeriac worker",
  ignore: !available,
  fn: async () => {
    const setup = redisSetup();
    try {
      await pythonSeesCeleriacWorker(setup);
    } finally {
      await deleteKeysWithPrefix(setup.prefix);
    }
  },
});

Deno.test({
  name: "Redis: celeriac's inspect, events and revoke see a Python worker",
  ignore: !available,
  fn: async () => {
    const setup = redisSetup();
    try {
      await celeriacSeesPythonWorker(setup);
    } finally {
      await deleteKeysWithPrefix(setup.prefix);
    }
  },
});
