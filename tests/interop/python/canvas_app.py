"""The interop app (celery_app.py) plus the tasks canvas tests use.

Tasks:
  interop.xsum(numbers)               sum of a list (chord bodies, map)
  interop.remember(*args)             RPUSH json(args[:-1]) to celeriac-it-remember:<args[-1]>
  interop.errback_old(task_id, *, token)  an "old-style" errback: RPUSH [task_id]
  interop.errback_new(request, exc, traceback, token)
                                      a "new-style" errback: RPUSH [request.id, str(exc)]

The Redis holding remembered calls is CELERIAC_IT_REMEMBER_URL (default
redis://127.0.0.1:6379/0); ../canvas_app.ts defines the same tasks for celeriac.
"""
import json
import os

import redis

from celery_app import app  # noqa: F401 - the app and its interop.* tasks

REMEMBER = redis.Redis.from_url(
    os.environ.get("CELERIAC_IT_REMEMBER_URL", "redis://127.0.0.1:6379/0"))


@app.task(name="interop.xsum")
def xsum(numbers):
    return sum(numbers)


def _remember(token, values):
    """RPUSH to the token's list, which expires (the test deletes it once read)."""
    key = f"celeriac-it-remember:{token}"
    REMEMBER.pipeline().rpush(key, json.dumps(values)).expire(key, 600).execute()


@app.task(name="interop.remember")
def remember(*args):
    _remember(args[-1], list(args[:-1]))
    return list(args[:-1])


@app.task(name="interop.errback_old")
def errback_old(task_id, *, token):
    """An "old-style" errback (one positional parameter): sent as a task with the failed id."""
    _remember(token, [task_id])


@app.task(name="interop.errback_new")
def errback_new(request, exc, traceback, token):
    _remember(token, [request.id, str(exc)])
