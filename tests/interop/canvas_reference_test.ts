/**
 * The canvas checks run against references: the Python-client scenarios
 * against a Python worker (so they are known to describe Celery), and the
 * celeriac-client scenarios against a celeriac worker.
 *
 * @module
 */

import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import { deleteResultKeys, REDIS_URL } from "../integration/redis_test_tools.ts";
import { pythonCanvasToCeleriacWorker } from "./canvas_scenarios.ts";
import { celeriacCanvasToPythonWorker } from "./canvas_celeriac_client.ts";
import { canvasServicesUp as available, pairing } from "./canvas_pairing.ts";

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

Deno.test({
  name: "canvas reference: the rpc:// checks pass against a Python worker (RabbitMQ + rpc)",
  ignore: !available,
  fn: async () => {
    const setup = pairing(AMQP_URL, "rpc://");
    try {
      await pythonCanvasToCeleriacWorker(setup, { chords: false, reference: true });
    } finally {
      await deleteAmqpEntities([setup.queue]);
    }
  },
});
