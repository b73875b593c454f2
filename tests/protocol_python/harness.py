"""Batch harness: runs Python Celery 5.2.6's own code on cases sent by the Deno tests.

Reads one JSON list of operations on stdin, writes one JSON list of answers on
stdout (same order). Every answer is {"ok": value} or {"error": [type, text]}.
Nothing here talks to a network service: the app uses the in-memory broker and
the in-memory cache result backend.

Operations (field "op"):
  request    celeriac's wire message -> kombu Message -> celery.worker.request.Request,
             then Request.execute() runs a recording task; answers what Python saw.
  as_task_v2 Python builds a task message (app.amqp.as_task_v2 + kombu json dumps).
  saferepr   celery.utils.saferepr.saferepr(json.loads(text) [as tuple], maxlen).
  repr       repr(json.loads(text)).
  result     a stored result document read the way a Python client reads it.
"""
import base64
import datetime as dt
import json
import sys
import traceback
import zlib

from celery import Celery
from celery.signals import before_task_publish
from celery.utils.saferepr import saferepr
from kombu.message import Message
from kombu.serialization import dumps

app = Celery("harness", broker="memory://", backend="cache+memory://")
app.conf.update(worker_hijack_root_logger=False)

SEEN = {}
PUBLISHED = []


@before_task_publish.connect
def _record_publish(sender=None, body=None, headers=None, routing_key=None, **_):
    PUBLISHED.append({"task": sender, "headers": headers, "body": body})


def recording_task(name):
    if name in app.tasks:
        return app.tasks[name]

    @app.task(name=name, bind=True)
    def record(self, *args, **kwargs):
        req = self.request
        SEEN[req.id] = {
            "args": list(args), "kwargs": kwargs,
            "request": {k: getattr(req, k, None) for k in (
                "id", "task", "retries", "timelimit", "root_id", "parent_id", "group",
                "group_index", "callbacks", "errbacks", "chain", "chord", "eta", "expires",
                "reply_to", "correlation_id", "origin", "shadow", "ignore_result",
                "argsrepr", "kwargsrepr")},
            "custom": {k: req.get(k) for k in CUSTOM},
        }
        return {"ran": name}

    return record


CUSTOM = []


def to_json(value):
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, BaseException):
        return repr(value)
    return repr(value)


def op_request(case):
    CUSTOM[:] = case.get("custom_headers", [])
    headers = case["headers"]
    recording_task(headers["task"])
    body = base64.b64decode(case["body_b64"])
    message = Message(
        body=body, delivery_tag="1", content_type=case["content_type"],
        content_encoding=case["content_encoding"], headers=headers,
        properties=case["properties"], accept=["application/json"],
        delivery_info={"exchange": "", "routing_key": "celery"},
    )
    from celery.worker.request import Request

    PUBLISHED.clear()
    req = Request(message, app=app, hostname="harness@local")
    view = {
        "id": req.id, "name": req.name, "task_name": req.task.name, "args": req.args,
        "kwargs": req.kwargs, "args_repr": repr(req.args), "eta": req.eta, "expires": req.expires,
        "time_limits": list(req.time_limits), "root_id": req.root_id,
        "parent_id": req.parent_id, "argsrepr": req.argsrepr, "kwargsrepr": req.kwargsrepr,
        "ignore_result": req.ignore_result, "group": req.group, "group_index": req.group_index,
        "chord": req.chord, "errbacks": req.errbacks, "reply_to": req.reply_to,
        "correlation_id": req.correlation_id, "priority": req.delivery_info["priority"],
        "expired": bool(req.expires and req.maybe_expire()),
    }
    if case.get("execute") and not view["expired"]:
        retval = req.execute()
        view["retval"] = retval
        view["seen"] = SEEN.pop(req.id, None)
        view["published"] = [
            {"task": p["headers"]["task"], "headers": p["headers"], "body": p["body"]}
            for p in PUBLISHED
        ]
    return view


def op_as_task_v2(case):
    args = eval(case["args_py"], {"__builtins__": {}}) if "args_py" in case else case.get("args")
    kwargs = (eval(case["kwargs_py"], {"__builtins__": {}}) if "kwargs_py" in case
              else case.get("kwargs"))
    options = dict(case.get("options", {}))
    for key in ("eta", "expires"):
        if isinstance(options.get(key), str):
            options[key] = dt.datetime.fromisoformat(options[key])
    msg = app.amqp.as_task_v2(case["id"], case["name"], args, kwargs, **options)
    content_type, content_encoding, body = dumps(msg.body, serializer="json")
    if isinstance(body, str):  # kombu's json returns text; the transport encodes it
        body = body.encode(content_encoding)
    headers = dict(msg.headers)
    if case.get("compress"):
        body = zlib.compress(body)
        headers["compression"] = "application/x-gzip"
    return {
        "headers": headers, "properties": msg.properties, "content_type": content_type,
        "content_encoding": content_encoding, "body_b64": base64.b64encode(body).decode(),
    }


def op_saferepr(case):
    value = json.loads(case["json"])
    if case.get("tuple"):
        value = tuple(value)
    return saferepr(value, case.get("maxlen"))


def op_repr(case):
    return repr(json.loads(case["json"]))


def op_result(case):
    from celery.result import AsyncResult

    backend = app.backend
    task_id = case["task_id"]
    backend.client.set(backend.get_key_for_task(task_id), case["raw"].encode("utf-8"))
    result = AsyncResult(task_id, app=app)
    meta = backend.decode_result(case["raw"])
    view = {"state": result.state, "ready": result.ready(), "traceback": result.traceback,
            "date_done": result.date_done, "meta_keys": list(meta)}
    value = meta["result"]
    if isinstance(value, BaseException):
        cls = type(value)
        view["exception"] = {
            "class": cls.__qualname__, "module": cls.__module__, "args": list(value.args),
            "is_builtin": cls.__module__ == "builtins",
        }
        try:
            result.get(timeout=1, propagate=True)
            view["raised"] = None
        except BaseException as exc:
            view["raised"] = [type(exc).__module__, type(exc).__qualname__, exc is not None]
    else:
        view["result"] = value
        view["get"] = result.get(timeout=1) if result.ready() else None
    backend.forget(task_id)
    return view


OPS = {"request": op_request, "as_task_v2": op_as_task_v2, "saferepr": op_saferepr,
       "repr": op_repr, "result": op_result}


def main():
    answers = []
    for case in json.load(sys.stdin):
        try:
            answers.append({"ok": OPS[case["op"]](case)})
        except Exception as exc:  # reported to the test, which decides
            answers.append({"error": [type(exc).__name__, str(exc),
                                      traceback.format_exc(limit=3)]})
    json.dump(answers, sys.stdout, default=to_json)  # ASCII: lone surrogates survive


if __name__ == "__main__":
    main()
