/**
 * The seeds' RabbitMQ setup in celeriac: a virtual host `lafoglia`, and one
 * custom queue, exchange and routing key, all named `lafoglia`.
 *
 * The same configuration in Python Celery, which shares the queue with this app
 * (either side's worker runs either side's tasks):
 *
 * ```python
 * from celery import Celery
 * from kombu import Exchange, Queue
 *
 * app = Celery("lafoglia", broker="amqp://guest:guest@localhost:5672/lafoglia", backend="rpc://")
 * app.conf.task_queues = (Queue("lafoglia", Exchange("lafoglia"), routing_key="lafoglia"),)
 * app.conf.task_default_queue = "lafoglia"
 * app.conf.task_default_exchange = "lafoglia"
 * app.conf.task_default_routing_key = "lafoglia"
 * app.conf.task_routes = {"lafoglia.*": {"queue": "lafoglia"}}
 * ```
 *
 * Old configurations spell these `CELERY_QUEUES`, `CELERY_DEFAULT_QUEUE`, … and
 * `CELERY_RESULT_BACKEND = "amqp"`; celeriac accepts those names too, and maps
 * the `amqp` result backend (removed in Celery 5) to `rpc://` with a warning.
 *
 * Run it (the virtual host must exist once):
 *
 * ```sh
 * rabbitmqctl add_vhost lafoglia
 * rabbitmqctl set_permissions -p lafoglia guest ".*" ".*" ".*"
 * deno run -A cli.ts worker --app ./examples/rabbitmq/app.ts -Q lafoglia -c 2 -l INFO   # terminal 1
 * deno run -A examples/rabbitmq/client.ts                                             # terminal 2
 * ```
 *
 * As in Celery, `CELERY_BROKER_URL` and `CELERY_RESULT_BACKEND` in the
 * environment win over the URLs below.
 *
 * @module
 */

import { Celery } from "../../mod.ts";

/** The app: broker on the `lafoglia` virtual host, results over rpc://. */
export const app = new Celery("lafoglia", {
  broker: "amqp://guest:guest@localhost:5672/lafoglia",
  backend: "rpc://",
  config: {
    // kombu's Queue("lafoglia", Exchange("lafoglia"), routing_key="lafoglia"):
    // a durable queue bound to a durable direct exchange.
    task_queues: [{ name: "lafoglia", exchange: "lafoglia", routingKey: "lafoglia" }],
    task_default_queue: "lafoglia",
    task_default_exchange: "lafoglia",
    task_default_routing_key: "lafoglia",
    task_routes: { "lafoglia.*": { queue: "lafoglia" } },
  },
});

/** `lafoglia.add`. */
export const add = app.task(function add(x: number, y: number) {
  return x + y;
});

/** `lafoglia.greet`: keyword arguments from Python (`greeting="ciao"`) reach the parameters. */
export const greet = app.task(function greet(name: string, greeting = "hello") {
  return `${greeting}, ${name}`;
});
