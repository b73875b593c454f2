"""Sends task calls with Python Celery 5.2.6 and prints what it saw, as JSON.

Reads on stdin {"calls": [{"task", "args", "kwargs", "options", "get", "timeout",
"watch_states"}]}. For each call: its id; with "get", its value or the
exception Python rebuilt ({"type", "module", "args"}); with "watch_states", the
distinct states seen while polling until ready.
"""
import json
import sys
import time

from rel_app import app


def rebuilt(exc):
    return {"type": type(exc).__name__, "module": type(exc).__module__,
            "args": [a if isinstance(a, (str, int, float, bool, type(None))) else repr(a)
                     for a in exc.args]}


def follow(result, call):
    out = {"id": result.id}
    timeout = call.get("timeout", 30)
    if call.get("watch_states"):
        seen, deadline = [], time.time() + timeout
        while time.time() < deadline:
            state = result.state
            if not seen or seen[-1] != state:
                seen.append(state)
            if result.ready():
                break
            time.sleep(0.05)
        out["states"] = seen
    if call.get("get"):
        try:
            out["value"] = result.get(timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - the exception is the outcome
            out["error"] = rebuilt(exc)
    return out


def main():
    plan = json.load(sys.stdin)
    sent = [(call, app.send_task(call["task"], args=call.get("args", []),
                                 kwargs=call.get("kwargs", {}), **call.get("options", {})))
            for call in plan["calls"]]
    json.dump({"calls": [follow(result, call) for call, result in sent]}, sys.stdout)


if __name__ == "__main__":
    main()
