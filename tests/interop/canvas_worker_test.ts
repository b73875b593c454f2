/**
 * Canvas interop, Python client → celeriac worker process, on the three
 * pairings Celery users run: RabbitMQ with Redis results, RabbitMQ with
 * rpc:// (where Celery 5.2.6 refuses chords), and Redis for both. See
 * canvas_scenarios.ts for what each scenario checks. (Split in three files
 * with canvas_python_worker_test.ts and canvas_reference_test.ts, so they
 * run side by side.)
 *
 * @module
 */

import { AMQP_URL, deleteAmqpEntities } from "../integration/amqp_helpers.ts";
import {
  deleteKeysWithPrefix,
  deleteResultKeys,
  REDIS_URL,
} from "../integration/redis_test_tools.ts";
import { uniqueName } from "../services.ts";
import { pythonCanvasToCeleriacWorker } from "./canvas_scenarios.ts";
import { canvasServicesUp as available, pairing } from "./canvas_pairing.ts";

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
