"""A Python Celery 5.2.6 app for interop tests, configured from the environment.

Environment variables (all optional):
  CELERIAC_PY_BROKER        broker URL (default amqp://guest:guest@127.0.0.1:5672//)
  CELERIAC_PY_BACKEND       result backend URL (default rpc://; "" for none)
  CELERIAC_PY_QUEUE         task_default_queue (default celery)
  CELERIAC_PY_MAX_PRIORITY  task_queue_max_priority (default unset)
  CELERIAC_PY_CONFIG        JSON object of further Celery settings

Tasks are named ``interop.<name>`` so a celeriac module can register the
same names (see ../worker_app.ts).
"""
import json
import os
import time

from celery import Celery

app = Celery("interop")
app.conf.update(
    broker_url=os.environ.get("CELERIAC_PY_BROKER", "amqp://guest:guest@127.0.0.1:5672//"),
    result_backend=os.environ.get("CELERIAC_PY_BACKEND", "rpc://") or None,
    task_default_queue=os.environ.get("CELERIAC_PY_QUEUE", "celery"),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
if os.environ.get("CELERIAC_PY_MAX_PRIORITY"):
    app.conf.task_queue_max_priority = int(os.environ["CELERIAC_PY_MAX_PRIORITY"])
app.conf.update(json.loads(os.environ.get("CELERIAC_PY_CONFIG") or "{}"))


class InteropError(Exception):
    """A custom exception class, to check exc_type/exc_module round trips."""


@app.task(name="interop.add")
def add(x, y):
    return x + y


@app.task(name="interop.echo")
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@app.task(name="interop.greet")
def greet(name, greeting="hello", punctuation="!"):
    return f"{greeting}, {name}{punctuation}"


@app.task(name="interop.fail")
def fail(message="boom"):
    raise ValueError(message)


@app.task(name="interop.fail_custom")
def fail_custom(*args):
    raise InteropError(*args)


@app.task(name="interop.sleep")
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name="interop.request", bind=True)
def request(self, *args, **kwargs):
    """Returns what the worker saw of the message (headers and properties)."""
    r = self.request
    return {
        "id": r.id,
        "args": list(args),
        "kwargs": kwargs,
        "retries": r.retries,
        "timelimit": list(r.timelimit) if r.timelimit else None,
        "eta": str(r.eta) if r.eta else None,
        "expires": str(r.expires) if r.expires else None,
        "root_id": r.root_id,
        "parent_id": r.parent_id,
        "correlation_id": r.correlation_id,
        "reply_to": r.reply_to,
        "routing_key": (r.delivery_info or {}).get("routing_key"),
        "x_custom": getattr(r, "x-custom", None),
    }
