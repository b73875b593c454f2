/**
 * Task-level interop on Redis (broker and redis:// results), with real Python
 * Celery 5.2.6: a Python client against a celeriac worker process, and a
 * celeriac client against a Python worker. Broker keys live under a fresh
 * `global_keyprefix`; result keys (Celery 5.2.6 has no result prefix) are
 * deleted by id. See worker_scenarios.ts.
 *
 * @module
 */

import {
  deleteKeysWithPrefix,
  deleteResultKeys,
  REDIS_URL,
} from "../integration/redis_test_tools.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import {
  celeriacClientToPythonWorker,
  type InteropSetup,
  pythonClientToCeleriacWorker,
} from "./worker_scenarios.ts";

const available = await serviceAvailable("redis");

function redisOnly(): InteropSetup & { prefix: string } {
  const prefix = `${uniqueName("it-worker-redis")}:`;
  const queue = uniqueName("it-worker-redis");
  const settings = {
    broker_transport_options: { global_keyprefix: prefix },
    result_expires: 600,
  };
  return {
    prefix,
    broker: REDIS_URL,
    backend: REDIS_URL,
    queue,
    otherQueue: `${queue}-other`,
    config: settings,
    python: { broker: REDIS_URL, backend: REDIS_URL, queue, config: settings },
    resultIds: [],
  };
}

async function cleanUp(setup: ReturnType<typeof redisOnly>): Promise<void> {
  await deleteKeysWithPrefix(setup.prefix);
  await deleteResultKeys(setup.resultIds);
}

Deno.test({
  name: "Redis + redis results: Python client → celeriac worker process, 1,000 in flight",
  ignore: !available,
  fn: async () => {
    const setup = redisOnly();
    try {
      await pythonClientToCeleriacWorker(setup, "workers");
    } finally {
      await cleanUp(setup);
    }
  },
});

Deno.test({
  name: "Redis + redis results: celeriac client → Python worker, 1,000 in flight",
  ignore: !available,
  fn: async () => {
    const setup = redisOnly();
    try {
      await celeriacClientToPythonWorker(setup, "prefork");
    } finally {
      await cleanUp(setup);
    }
  },
});
