/**
 * Task-level interop on RabbitMQ with rpc:// results, with real Python Celery
 * 5.2.6: a Python client against a celeriac worker process (Web Workers), and
 * a celeriac client against a Python prefork worker. See worker_scenarios.ts.
 *
 * @module
 */

import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import {
  celeriacClientToPythonWorker,
  type InteropSetup,
  pythonClientToCeleriacWorker,
} from "./worker_scenarios.ts";

const available = await serviceAvailable("rabbitmq");

function rabbitWithRpc(): InteropSetup {
  const queue = uniqueName("it-worker-rpc");
  return {
    broker: AMQP_URL,
    backend: "rpc://",
    queue,
    otherQueue: `${queue}-other`,
    config: {},
    python: { broker: AMQP_URL, backend: "rpc://", queue },
    resultIds: [],
  };
}

Deno.test({
  name: "RabbitMQ + rpc: Python client → celeriac worker process, 1,000 in flight",
  ignore: !available,
  fn: async () => {
    const setup = rabbitWithRpc();
    try {
      await pythonClientToCeleriacWorker(setup, "workers");
    } finally {
      await deleteAmqpEntities([setup.queue, setup.otherQueue]);
    }
  },
});

Deno.test({
  name: "RabbitMQ + rpc: celeriac client → Python prefork worker, 1,000 in flight",
  ignore: !available,
  fn: async () => {
    const setup = rabbitWithRpc();
    try {
      await celeriacClientToPythonWorker(setup, "prefork");
    } finally {
      await deleteAmqpEntities([setup.queue, setup.otherQueue]);
    }
  },
});
