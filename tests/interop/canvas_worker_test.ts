/**
 * Canvas interop, Python client → celeriac worker process, on the three
 * pairings Celery users run: RabbitMQ with Redis results, RabbitMQ with
 * rpc:// (where Celery 5.2.6 refuses chords), and Redis for both. See
 * canvas_scenarios.ts for what each scenario checks.
 *
 * @module
 */

import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import {
  deleteKeysWithPrefix,
  deleteResultKeys,
  REDIS_URL,
} from "../integration/redis_test_tools.ts";
import { serviceAvailable, uniqueName } from "../services.ts";
import { pythonCanvasToCeleriacWorker } from "./canvas_scenarios.ts";
import { celeriacCanvasToPythonWorker } from "./canvas_celeriac_client.ts";
import type { InteropSetup } from "./worker_scenarios.ts";

const available = await serviceAvailable("rabbitmq") && await serviceAvailable("redis");

/** A pairing with results kept 10 minutes (canvas ids the test never sees expire by themselves). */
function pairing(
  broker: string,
  backend: string,
  config: Record<string, unknown> = {},
): InteropSetup {
  const queue = uniqueName("it-canvas");
  const settings = { result_expires: 600, ...config };
  return {
    broker,
    backend,
    queue,
    otherQueue: `${queue}-other`,
    config: settings,
    python: { broker, backend, queue, config: settings },
    resultIds: [],
  };
}

Deno.test({
  name: "canvas: Python client → celeriac worker, RabbitMQ + Redis results",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, REDIS_URL);
    try {
      await pythonCanvasToCeleriacWorker(setup, { chords: true });
    } finally {
      await deleteAmqpEntities([setup.queue]);
      await deleteResultKeys(setup.resultIds);
    }
  },
});

Deno.test({
  name: "canvas: Python client → celeriac worker, RabbitMQ + rpc (chords refused, as in Celery)",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, "rpc://");
    try {
      await pythonCanvasToCeleriacWorker(setup, { chords: false });
    } finally {
      await deleteAmqpEntities([setup.queue]);
    }
  },
});

Deno.test({
  name: "canvas: Python client → celeriac worker, Redis broker and results",
  ignore: !available,
  fn: async () => {
    const prefix = `${uniqueName("it-canvas")}:`;
    const setup = pairing(REDIS_URL, REDIS_URL, {
      broker_transport_options: { global_keyprefix: prefix },
    });
    try {
      await pythonCanvasToCeleriacWorker(setup, { chords: true });
    } finally {
      await deleteKeysWithPrefix(prefix);
      await deleteResultKeys(setup.resultIds);
    }
  },
});

Deno.test({
  name: "canvas reference: the same checks pass against a Python worker (RabbitMQ + Redis results)",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, REDIS_URL);
    try {
      await pythonCanvasToCeleriacWorker(setup, { chords: true, reference: true });
    } finally {
      await deleteAmqpEntities([setup.queue]);
      await deleteResultKeys(setup.resultIds);
    }
  },
});

Deno.test({
  name: "canvas: celeriac client → Python worker, RabbitMQ + Redis results",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, REDIS_URL);
    try {
      await celeriacCanvasToPythonWorker(setup, { chords: true });
    } finally {
      await deleteAmqpEntities([setup.queue]);
    }
  },
});

Deno.test({
  name: "canvas: celeriac client → Python worker, RabbitMQ + rpc (chords refused, as in Celery)",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, "rpc://");
    try {
      await celeriacCanvasToPythonWorker(setup, { chords: false });
    } finally {
      await deleteAmqpEntities([setup.queue]);
    }
  },
});

Deno.test({
  name: "canvas: celeriac client → Python worker, Redis broker and results",
  ignore: !available,
  fn: async () => {
    const prefix = `${uniqueName("it-canvas")}:`;
    const setup = pairing(REDIS_URL, REDIS_URL, {
      broker_transport_options: { global_keyprefix: prefix },
    });
    try {
      await celeriacCanvasToPythonWorker(setup, { chords: true });
    } finally {
      await deleteKeysWithPrefix(prefix);
    }
  },
});

Deno.test({
  name: "canvas: celeriac client → celeriac worker, RabbitMQ + Redis results and RabbitMQ + rpc",
  ignore: !available,
  fn: async () => {
    for (const [backend, chords] of [[REDIS_URL, true], ["rpc://", false]] as const) {
      const setup = pairing(AMQP_URL, backend);
      try {
        await celeriacCanvasToPythonWorker(setup, { chords, worker: "celeriac" });
      } finally {
        await deleteAmqpEntities([setup.queue]);
      }
    }
  },
});
