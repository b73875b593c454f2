/**
 * The canvas checks run against references: the Python-client scenarios
 * against a Python worker (so they are known to describe Celery), and the
 * celeriac-client scenarios against a celeriac worker.
 *
 * @module
 */

import { pythonCanvasToCeleriacWorker } from "./canvas_scenarios.ts";
import { celeriacCanvasToPythonWorker } from "./canvas_celeriac_client.ts";
import { canvasServicesUp as available, onPairing } from "./canvas_pairing.ts";

Deno.test({
  name: "canvas reference: the same checks pass against a Python worker (RabbitMQ + Redis results)",
  ignore: !available,
  fn: () =>
    onPairing(
      "rabbitmq+redis",
      (setup) => pythonCanvasToCeleriacWorker(setup, { chords: true, reference: true }),
    ),
});

Deno.test({
  name: "canvas: celeriac client → celeriac worker, RabbitMQ + Redis results and RabbitMQ + rpc",
  ignore: !available,
  fn: async () => {
    for (const [kind, chords] of [["rabbitmq+redis", true], ["rabbitmq+rpc", false]] as const) {
      await onPairing(
        kind,
        (setup) => celeriacCanvasToPythonWorker(setup, { chords, worker: "celeriac" }),
      );
    }
  },
});

Deno.test({
  name: "canvas reference: the rpc:// checks pass against a Python worker (RabbitMQ + rpc)",
  ignore: !available,
  fn: () =>
    onPairing(
      "rabbitmq+rpc",
      (setup) => pythonCanvasToCeleriacWorker(setup, { chords: false, reference: true }),
    ),
});
