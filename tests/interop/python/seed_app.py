"""The seeds' configuration, as written for Python Celery: virtual host
``lafoglia`` and one queue, exchange and routing key all named ``lafoglia``.
It is the Python twin of examples/rabbitmq/app.ts (same task names).

CELERIAC_PY_BROKER overrides the broker URL; results use rpc://.
"""
import os

from celery import Celery
from kombu import Exchange, Queue

app = Celery(
    "lafoglia",
    broker=os.environ.get("CELERIAC_PY_BROKER", "amqp://guest:guest@localhost:5672/lafoglia"),
    backend="rpc://",
)
app.conf.task_queues = (Queue("lafoglia", Exchange("lafoglia"), routing_key="lafoglia"),)
app.conf.task_default_queue = "lafoglia"
app.conf.task_default_exchange = "lafoglia"
app.conf.task_default_routing_key = "lafoglia"
app.conf.task_routes = {"lafoglia.*": {"queue": "lafoglia"}}
app.conf.worker_hijack_root_logger = False


@app.task(name="lafoglia.add")
def add(x, y):
    return x + y


@app.task(name="lafoglia.greet")
def greet(name, greeting="hello"):
    return f"{greeting}, {name}"
