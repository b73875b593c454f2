"""Python Celery 5.2.6 app for celeriac's reliability interop tests.

Configured from the environment:
  REL_BROKER   broker URL
  REL_BACKEND  result backend URL ("" for none)
  REL_QUEUE    task_default_queue
  REL_CONFIG   JSON object of further settings

Tasks named ``rel.*`` exist here; ``rel.hop`` exists in celeriac's test app
too, so a retry published by one worker can run on the other.
"""
import json
import os

from celery import Celery

app = Celery("rel")
app.conf.update(
    broker_url=os.environ["REL_BROKER"],
    result_backend=os.environ.get("REL_BACKEND") or None,
    task_default_queue=os.environ.get("REL_QUEUE", "celery"),
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    result_expires=600,
)
app.conf.update(json.loads(os.environ.get("REL_CONFIG") or "{}"))


class Flaky(Exception):
    """Raised by the retrying tasks."""


@app.task(name="rel.flaky", bind=True, max_retries=5)
def flaky(self, succeed_at, countdown=0.3):
    """Retries until its retries reach succeed_at, then reports what it saw."""
    if self.request.retries < succeed_at:
        raise self.retry(countdown=countdown, exc=Flaky("attempt %d" % self.request.retries))
    return {"retries": self.request.retries, "parent_id": self.request.parent_id}


@app.task(name="rel.always", bind=True, max_retries=2)
def always(self, with_exc):
    """Always retries: past max_retries, the exc (or MaxRetriesExceededError)."""
    raise self.retry(countdown=0.2, exc=RuntimeError("always") if with_exc else None)


@app.task(name="rel.hop", bind=True, max_retries=3)
def hop(self, countdown=2):
    """First run retries; a retried run says it ran in Python."""
    if self.request.retries == 0:
        raise self.retry(countdown=countdown)
    return {"by": "python", "id": self.request.id, "retries": self.request.retries,
            "parent_id": self.request.parent_id}
