/**
 * Pieces of bench/redis_raw.ts: the task messages, and the two Python
 * baselines (kombu's Redis transport alone, and a Celery worker).
 *
 * @module
 */

import { Redis } from "ioredis";
import type { QueueSpec } from "../src/broker/types.ts";
import { emptyEmbed, type TaskCall } from "../src/protocol/task_message.ts";
import { PYTHON_APP_DIR } from "../tests/interop/python/harness.ts";
import { PYTHON } from "../tests/services.ts";

/** `interop.add(i, i)` as a Python client sends it; no result wanted when `replyTo` is undefined. */
export function addCall(i: number, replyTo?: string): TaskCall {
  const id = crypto.randomUUID();
  return {
    id,
    task: "interop.add",
    args: [i, i],
    kwargs: {},
    embed: emptyEmbed(),
    eta: null,
    expires: null,
    retries: 0,
    timeLimit: [null, null],
    rootId: id,
    parentId: null,
    group: null,
    groupIndex: null,
    shadow: null,
    origin: `gen${Deno.pid}@bench`,
    ignoreResult: replyTo === undefined,
    argsrepr: `(${i}, ${i})`,
    kwargsrepr: "{}",
    customHeaders: {},
    replyTo: replyTo ?? "",
    correlationId: id,
    priority: 0,
    deliveryMode: 2,
  };
}

/** A direct queue of the same name. */
export function queueSpec(name: string): QueueSpec {
  return {
    name,
    exchange: name,
    exchangeType: "direct",
    routingKey: name,
    durable: true,
    autoDelete: false,
    arguments: {},
  };
}

const KOMBU_DRAIN = `
import sys, time, kombu
url, prefix, queue, count, prefetch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
conn = kombu.Connection(url, transport_options={'global_keyprefix': prefix})
q = kombu.Queue(queue, kombu.Exchange(queue), routing_key=queue)
state = {'seen': 0, 'first': None}
def on_message(body, message):
    if state['first'] is None:
        state['first'] = time.perf_counter()
    message.ack()
    state['seen'] += 1
with conn.Consumer(q, callbacks=[on_message], accept=['json'], prefetch_count=prefetch):
    while state['seen'] < count:
        conn.drain_events(timeout=10)
print((time.perf_counter() - state['first']) * 1000)
`;

/** kombu 5.2.4's Redis transport draining the queue (Consumer, prefetch, ack each). */
export async function pythonKombuDrain(
  queue: QueueSpec,
  url: string,
  prefix: string,
  prefetch: number,
  fill: (queue: QueueSpec) => Promise<void>,
): Promise<number> {
  await fill(queue);
  const redis = new Redis(url);
  const count = await redis.llen(prefix + queue.name);
  redis.disconnect();
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", KOMBU_DRAIN, url, prefix, queue.name, String(count), String(prefetch)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
  return Number(new TextDecoder().decode(out.stdout).trim());
}

/**
 * A Python Celery 5.2.6 worker (`-c 2`, prefork, log level WARNING) draining
 * the queue: from its "ready" line until the queue and `unacked` are empty.
 */
export async function pythonCeleryDrain(
  queue: QueueSpec,
  url: string,
  prefix: string,
  fill: (queue: QueueSpec) => Promise<void>,
): Promise<number> {
  await fill(queue);
  const redis = new Redis(url);
  const child = new Deno.Command(PYTHON, {
    args: [
      "-m",
      "celery",
      "-A",
      "celery_app",
      "worker",
      "-c",
      "2",
      "-P",
      "prefork",
      "-Q",
      queue.name,
      "-n",
      `bench-${crypto.randomUUID().slice(0, 6)}@%h`,
      "--loglevel",
      "WARNING",
      "--without-gossip",
      "--without-mingle",
      "--without-heartbeat",
    ],
    cwd: PYTHON_APP_DIR,
    env: {
      CELERIAC_PY_BROKER: url,
      CELERIAC_PY_BACKEND: "",
      CELERIAC_PY_QUEUE: queue.name,
      CELERIAC_PY_CONFIG: JSON.stringify({
        broker_transport_options: { global_keyprefix: prefix },
        worker_redirect_stdouts: false,
      }),
    },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // "ready." is logged at INFO; at WARNING, wait for the first message to be taken instead.
    const list = prefix + queue.name;
    const total = await redis.llen(list);
    while (await redis.llen(list) === total) await new Promise((r) => setTimeout(r, 5));
    const started = performance.now();
    while ((await redis.llen(list)) + (await redis.hlen(`${prefix}unacked`)) > 0) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return performance.now() - started;
  } finally {
    child.kill("SIGTERM");
    await child.status;
    redis.disconnect();
  }
}
