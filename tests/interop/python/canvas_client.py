"""Runs canvas scenarios with Python Celery 5.2.6 and prints their outcomes as JSON.

Reads {"token": "...", "scenarios": ["chain", ...], "timeout": 30} on stdin.
Prints {"<scenario>": {"value": ..., "parent": ..., "id": ...} | {"error": {...}}}.
Tasks come from canvas_app.py; `token` names the Redis list interop.remember writes.
"""
import json
import sys

from celery import chain, chord, group

from canvas_app import app

add = app.tasks["interop.add"]
fail = app.tasks["interop.fail"]
xsum = app.tasks["interop.xsum"]
remember = app.tasks["interop.remember"]
errback_new = app.tasks["interop.errback_new"]
errback_old = app.tasks["interop.errback_old"]


def error_of(exc):
    return {"type": type(exc).__name__, "module": type(exc).__module__,
            "args": [a if isinstance(a, (str, int, float, bool, type(None))) else repr(a)
                     for a in exc.args]}


def scenario(name, token):
    token = f"{token}:{name}"
    """Sends one canvas; returns (result, extra) where extra is reported as is."""
    if name == "chain":
        return chain(add.s(1, 1), add.s(3), add.si(10, 10), add.s(5))(), {}
    if name == "chain_fail":
        return chain(add.s(1, 1), fail.si("chain boom"), add.s(3))(), {}
    if name == "link":
        return add.apply_async((2, 2), link=remember.s(token)), {}
    if name == "link_two":
        return add.apply_async((3, 3), link=[remember.s(token), remember.s(token)]), {}
    if name == "link_error":
        return fail.apply_async(("errback boom",), link_error=errback_old.s(token=token)), {}
    if name == "link_error_new":
        return fail.apply_async(("new boom",), link_error=errback_new.s(token)), {}
    if name == "group":
        return group(add.s(i, i) for i in range(10))(), {}
    if name == "chord":
        return chord([add.s(i, i) for i in range(10)], xsum.s())(), {}
    if name == "chord_fail":
        return chord([add.s(1, 1), fail.si("part boom")], xsum.s())(), {}
    if name == "map":
        return xsum.map([[1, 2], [3, 4, 5]]).apply_async(), {}
    if name == "starmap":
        return add.starmap([(1, 2), (3, 4)]).apply_async(), {}
    if name == "chunks":
        return add.chunks([(i, i) for i in range(10)], 3).apply_async(), {}
    if name == "chain_group_chord":
        return (add.s(1, 1) | group(add.s(1), add.s(2)) | xsum.s())(), {}
    if name == "chain_ends_in_group":
        return (add.s(1, 1) | group(add.s(1), add.s(2)))(), {}
    if name == "group_of_chains":
        return group(chain(add.s(1, 1), add.s(2)), chain(add.s(3, 3), add.s(4)))(), {}
    if name == "chord_of_chains":
        return chord([chain(add.s(1, 1), add.s(2)), chain(add.s(3, 3), add.s(4))], xsum.s())(), {}
    if name == "chord_nested_header":
        return chord([chain(add.s(1, 1), group(add.s(1), add.s(2))), add.s(5, 5)],
                     remember.s(token))(), {}
    if name == "nested_group":
        return group(add.s(1, 1), group(add.s(2, 2), add.s(3, 3)))(), {}
    if name == "mixed_chord":
        return chord([add.s(i, i) for i in range(200)], remember.s(token))(), {}
    raise ValueError(f"unknown scenario {name}")


def main():
    plan = json.load(sys.stdin)
    token, timeout = plan["token"], plan.get("timeout", 30)
    out = {}
    sent = []
    for name in plan["scenarios"]:
        try:
            sent.append((name, scenario(name, token)[0]))
        except Exception as exc:  # noqa: BLE001 - the refusal is the outcome
            out[name] = {"error": error_of(exc), "at": "send"}
    for name, result in sent:
        entry = {"id": result.id}
        try:
            entry["value"] = result.get(timeout=timeout)
            if name in ("link", "link_two"):
                # What the worker recorded as the result's children: Celery's result tuples.
                entry["children"] = [type(c).__name__ for c in (result.children or [])]
            if getattr(result, "parent", None) is not None:
                entry["parent"] = result.parent.get(timeout=timeout)
                if hasattr(result.parent, "results"):
                    entry["parent_ids"] = [r.id for r in result.parent.results]
        except Exception as exc:  # noqa: BLE001
            entry["error"] = error_of(exc)
        out[name] = entry
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
