/**
 * Where one round trip's latency goes (issue 15): sequential calls of
 * `bench.stamp`, which returns the wall-clock time it ran, against a warm
 * celeriac worker (`-c 2`, or `--pool "-P solo"`), split into send → run
 * (client, broker, worker until the task body), run → result in the client,
 * and send → `sendTask` resolved (on RabbitMQ, the publisher confirm). p50
 * of `--count` calls after 3,000 warm-up calls, made back to back as the
 * latency samples of `deno task bench` are. Client and worker share the
 * host's clock.
 *
 * ```sh
 * deno run -A bench/latency_legs.ts [--only rabbitmq,redis] [--count 2000]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Celery } from "../mod.ts";
import { cleanPlace, newPlace, SETUPS } from "./setups.ts";
import { probeWorker } from "./systems.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string", default: "rabbitmq,redis" },
    count: { type: "string", default: "2000" },
    pool: { type: "string", default: "-c 2" },
  },
});
const count = Number(values.count);
const WARM_UP = 3000;
const now = () => performance.timeOrigin + performance.now();
const p50 = (samples: number[]) => samples.sort((a, b) => a - b)[samples.length >> 1].toFixed(2);

console.log("| broker | round trip p50 (ms) | send → run | run → result | send → sent |");
console.log("|---|--:|--:|--:|--:|");
for (const setup of SETUPS.filter((s) => values.only!.split(",").includes(s.id))) {
  const place = newPlace(setup);
  const worker = probeWorker(place, values.pool!.split(" "));
  const app = new Celery("latency-legs", {
    broker: place.brokerUrl,
    backend: place.backendUrl,
    setAsCurrent: false,
  });
  app.conf.task_default_queue = place.queue;
  try {
    await worker.report("ready");
    const total: number[] = [],
      inbound: number[] = [],
      outbound: number[] = [],
      sent: number[] = [];
    for (let i = 0; i < WARM_UP + count; i++) {
      const started = now();
      const result = await app.sendTask("bench.stamp");
      const published = now();
      const ran = await result.get({ timeout: 60 }) as number;
      const received = now();
      if (i < WARM_UP) continue;
      total.push(received - started);
      inbound.push(ran - started);
      outbound.push(received - ran);
      sent.push(published - started);
    }
    console.log(
      `| ${setup.label} | ${p50(total)} | ${p50(inbound)} | ${p50(outbound)} | ${p50(sent)} |`,
    );
  } finally {
    await app.close();
    await worker.stop();
    await cleanPlace(place);
  }
}
