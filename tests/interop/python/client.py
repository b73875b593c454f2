"""Runs a plan of task calls with Python Celery 5.2.6 and prints the outcomes as JSON.

Reads a JSON plan on stdin:
  {"calls": [{"method": "delay" | "apply_async" | "send_task",
              "task": "interop.add", "args": [1, 2], "kwargs": {},
              "options": {"countdown": 1, "queue": "q"},   # apply_async / send_task options
              "get": true, "timeout": 30}],
   "bulk": {"task": "interop.add", "count": 1000, "timeout": 120, "options": {}},
   "join_native": false}   # true: collect results with ResultSet.join_native first

Prints {"calls": [{"id", "value"} | {"id", "error": {"type", "module", "args"}}],
        "bulk": {"sent", "received", "wrong": [...], "missing": [...], "seconds", "ids"}}.
The app comes from celery_app.py (configured from CELERIAC_PY_* variables), or
from the module named by CELERIAC_PY_APP (such as seed_app).
"""
import importlib
import json
import os
import sys
import time

from celery.result import ResultSet

app = importlib.import_module(os.environ.get("CELERIAC_PY_APP") or "celery_app").app


def outcome(result, timeout):
    try:
        return {"id": result.id, "value": result.get(timeout=timeout)}
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome
        return {
            "id": result.id,
            "error": {
                "type": type(exc).__name__,
                "module": type(exc).__module__,
                "args": [a if isinstance(a, (str, int, float, bool, type(None))) else repr(a)
                         for a in exc.args],
            },
        }


def send(call):
    method = call.get("method", "apply_async")
    args, kwargs = call.get("args", []), call.get("kwargs", {})
    options = call.get("options", {})
    if method == "send_task":
        return app.send_task(call["task"], args=args, kwargs=kwargs, **options)
    task = app.tasks[call["task"]]
    if method == "delay":
        return task.delay(*args, **kwargs)
    return task.apply_async(args=args, kwargs=kwargs, **options)


def join_all(results, timeout):
    """Collects every result in one drain (ResultSet.join_native); failures stay in the results.

    Reading rpc results one by one, Python's client pays a poll interval for
    each reply that arrives out of order; join_native drains them all at once.
    """
    try:
        ResultSet(results).join_native(timeout=timeout, propagate=False)
    except Exception:  # noqa: BLE001 - the per-result reads report what is missing
        pass


def run_bulk(spec, join_native):
    task = app.tasks[spec.get("task", "interop.add")]
    count = spec["count"]
    started = time.time()
    results = [task.apply_async(args=[i, i], **spec.get("options", {})) for i in range(count)]
    received, wrong, missing = 0, [], []
    deadline = started + spec.get("timeout", 120)
    if join_native:
        join_all(results, spec.get("timeout", 120))
    for i, result in enumerate(results):
        try:
            value = result.get(timeout=max(deadline - time.time(), 0.1))
        except Exception as exc:  # noqa: BLE001
            missing.append({"index": i, "id": result.id, "error": repr(exc)})
            continue
        received += 1
        if value != 2 * i:
            wrong.append({"index": i, "value": value})
    return {"sent": count, "received": received, "wrong": wrong, "missing": missing[:20],
            "missing_count": len(missing), "seconds": time.time() - started,
            "ids": [result.id for result in results]}


def main():
    plan = json.load(sys.stdin)
    out = {"calls": []}
    sent = [(call, send(call)) for call in plan.get("calls", [])]
    join_native = plan.get("join_native", False)
    if join_native:
        join_all([result for call, result in sent if call.get("get", True)],
                 max([call.get("timeout", 30) for call, _ in sent] or [30]))
    for call, result in sent:
        if call.get("get", True):
            out["calls"].append(outcome(result, call.get("timeout", 30)))
        else:
            out["calls"].append({"id": result.id})
    if "bulk" in plan:
        out["bulk"] = run_bulk(plan["bulk"], join_native)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
