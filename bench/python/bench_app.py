"""The Python Celery 5.2.6 side of the benchmark: ``bench.add`` and its client.

Configured from the environment, as the celeriac worker is:
  CELERY_BROKER_URL, CELERY_RESULT_BACKEND, CELERIAC_BENCH_QUEUE.

With CELERIAC_BENCH_STATS_DIR set, each prefork child stamps task starts
(``task_prerun``) into ``<dir>/<pid>.stats`` as three little-endian numbers
(count, first start, last start; wall-clock seconds) with one ``pwrite`` per
task: the drain time, stamped inside the worker, as for celeriac.
"""
import os
import struct
import time

from celery import Celery, signals

app = Celery("bench")
app.conf.update(
    broker_url=os.environ["CELERY_BROKER_URL"],
    result_backend=os.environ.get("CELERY_RESULT_BACKEND") or None,
    task_default_queue=os.environ.get("CELERIAC_BENCH_QUEUE", "celery"),
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.add")
def add(x, y, *_payload):
    return x + y


_STATS_DIR = os.environ.get("CELERIAC_BENCH_STATS_DIR")
_state = {"fd": None, "count": 0, "first": 0.0}


@signals.worker_ready.connect
def _ready(**_):
    if _STATS_DIR:
        print("@@bench {\"ready\": %r}" % (time.time() * 1000), flush=True)


@signals.task_prerun.connect
def _stamp(**_):
    if not _STATS_DIR:
        return
    now = time.time()
    if _state["fd"] is None:
        path = os.path.join(_STATS_DIR, "%d.stats" % os.getpid())
        _state["fd"] = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        _state["first"] = now
    _state["count"] += 1
    os.pwrite(_state["fd"], struct.pack("<qdd", _state["count"], _state["first"], now), 0)


@app.task(name="bench.xsum")
def xsum(numbers):
    return sum(numbers)
