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

import { pythonCanvasToCeleriacWorker } from "./canvas_scenarios.ts";
import { canvasServicesUp as available, onPairing } from "./canvas_pairing.ts";

Deno.test({
  name: "canvas: Python client → celeriac worker, RabbitMQ + Redis results",
  ignore: !available,
  fn: () =>
    onPairing("rabbitmq+redis", (setup) => pythonCanvasToCeleriacWorker(setup, { chords: true })),
});

Deno.test({
  name: "canvas: Python client → celeriac worker, RabbitMQ + rpc (chords refused, as in Celery)",
  ignore: !available,
  fn: () =>
    onPairing("rabbitmq+rpc", (setup) => pythonCanvasToCeleriacWorker(setup, { chords: false })),
});

Deno.test({
  name: "canvas: Python client → celeriac worker, Redis broker and results",
  ignore: !available,
  fn: () => onPairing("redis", (setup) => pythonCanvasToCeleriacWorker(setup, { chords: true })),
});
