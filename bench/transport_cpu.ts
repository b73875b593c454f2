/**
 * The CPU a broker's consume stream costs per message, without any task
 * handling (issue 15): N `bench.add` messages are queued, then this process
 * reads them from `broker.consume()` with prefetch 4 (one consumer thread's
 * share of `-c 2`), four at a time, and acks each four together, as a
 * consumer thread under load takes and starts a window's worth at once (on
 * Redis the acks then ride with the next pop of four, as in the worker).
 * Reports messages per second and this process's user + system CPU per
 * message, after the first 1,000.
 *
 * ```sh
 * deno run -A bench/transport_cpu.ts [--only rabbitmq,redis] [--count 20000] [--runs 2]
 * ```
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { DEFAULT_SETTINGS } from "../src/app/settings.ts";
import { createBroker } from "../src/broker/resolve.ts";
import type { QueueSpec } from "../src/broker/types.ts";
import { CeleriacClient } from "./celeriac_client.ts";
import { cleanPlace, newPlace, SETUPS } from "./setups.ts";

const { values } = parseArgs({
  options: {
    only: { type: "string", default: "rabbitmq,redis" },
    count: { type: "string", default: "20000" },
    runs: { type: "string", default: "2" },
  },
});
const count = Number(values.count);
const WARM_UP = 1000;
const PREFETCH = 4;

console.log("| broker | run | messages/s | user + sys µs/message |");
console.log("|---|--:|--:|--:|");
for (const setup of SETUPS.filter((s) => values.only!.split(",").includes(s.id))) {
  for (let run = 1; run <= Number(values.runs); run++) {
    const place = newPlace(setup);
    await CeleriacClient.fillPlace(place, count);
    const config = Object.freeze({ ...DEFAULT_SETTINGS, broker_url: place.brokerUrl });
    const broker = await createBroker(place.brokerUrl, config);
    const queue: QueueSpec = {
      name: place.queue,
      exchange: place.queue,
      exchangeType: "direct",
      routingKey: place.queue,
      durable: true,
      autoDelete: false,
      arguments: {},
    };
    const reader = broker.consume({ queues: [queue], prefetch: PREFETCH }).getReader();
    try {
      let cpu = process.cpuUsage();
      let started = performance.now();
      for (let read = 0; read < count;) {
        if (read === WARM_UP) [cpu, started] = [process.cpuUsage(), performance.now()];
        const batch = [];
        for (; batch.length < PREFETCH && read < count; read++) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`the stream ended after ${read} of ${count} messages`);
          batch.push(value);
        }
        await Promise.all(batch.map((delivery) => delivery.ack()));
      }
      const used = process.cpuUsage(cpu);
      const measured = count - WARM_UP;
      console.log(
        `| ${setup.label} | ${run} | ${
          (measured / ((performance.now() - started) / 1000)).toFixed(0)
        } | ` +
          `${(used.user / measured).toFixed(0)} + ${(used.system / measured).toFixed(0)} |`,
      );
    } finally {
      await reader.cancel();
      await broker.close();
      await cleanPlace(place);
    }
  }
}
