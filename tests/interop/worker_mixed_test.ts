/**
 * Task-level interop on the seeds' mixed setup, RabbitMQ broker with Redis
 * results, with real Python Celery 5.2.6 both ways. See worker_scenarios.ts.
 *
 * @module
 */

import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { deleteResultKeys, REDIS_URL } from "../integration/redis_test_tools.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import {
  celeriacClientToPythonWorker,
  type InteropSetup,
  pythonClientToCeleriacWorker,
} from "./worker_scenarios.ts";

const available = (await serviceAvailable("rabbitmq")) && (await serviceAvailable("redis"));

function rabbitWithRedisResults(): InteropSetup {
  const queue = uniqueName("it-worker-mixed");
  const settings = { result_expires: 600 };
  return {
    broker: AMQP_URL,
    backend: REDIS_URL,
    queue,
    otherQueue: `${queue}-other`,
    config: settings,
    python: { broker: AMQP_URL, backend: REDIS_URL, queue, config: settings },
    resultIds: [],
  };
}

async function cleanUp(setup: InteropSetup): Promise<void> {
  await deleteAmqpEntities([setup.queue, setup.otherQueue]);
  await deleteResultKeys(setup.resultIds);
}

Deno.test({
  name: "RabbitMQ + Redis results: Python client → celeriac worker process, 1,000 in flight",
  ignore: !available,
  fn: async () => {
    const setup = rabbitWithRedisResults();
    try {
      await pythonClientToCeleriacWorker(setup, "workers");
    } finally {
      await cleanUp(setup);
    }
  },
});

Deno.test({
  name: "RabbitMQ + Redis results: celeriac client → Python worker, 1,000 in flight",
  ignore: !available,
  fn: async () => {
    const setup = rabbitWithRedisResults();
    try {
      await celeriacClientToPythonWorker(setup, "prefork");
    } finally {
      await cleanUp(setup);
    }
  },
});
