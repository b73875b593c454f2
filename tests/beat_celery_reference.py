"""Celery 5.2.6's own schedule arithmetic, for tests/beat_celery_reference_test.ts.

Reads a JSON list of jobs on stdin, prints a JSON list of answers:

* {"mode": "pairs", "schedule": S, "tz": Z, "pairs": [[last, now], ...]}
  -> [{"isDue": bool, "next": seconds} | {"error": text}, ...]
* {"mode": "run", "schedule": S, "tz": Z, "start": t, "end": t, "maxInterval": s}
  -> [fire times as epoch milliseconds]: beat's loop with a fake clock that
     sleeps min(next, maxInterval) and records each send.

* {"mode": "parse", "field": "dayOfWeek", "value": "mon-fri"}
  -> sorted list of values | {"error": text}

S is {"seconds": n} or {"crontab": {minute, hour, dayOfWeek, dayOfMonth, monthOfYear}}.
Times are epoch milliseconds (UTC).
"""
import json
import sys
from datetime import datetime, timedelta, timezone

from celery import Celery
from celery.schedules import crontab, schedule

APPS = {}


def app_for(tz):
    if tz not in APPS:
        app = Celery("reference", set_as_current=False)
        app.conf.timezone = tz
        app.conf.enable_utc = True
        APPS[tz] = app
    return APPS[tz]


def at(ms, app):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(app.timezone)


def make(spec, app, clock):
    nowfun = lambda: clock[0]  # noqa: E731
    if "seconds" in spec:
        return schedule(spec["seconds"], nowfun=nowfun, app=app)
    f = spec["crontab"]
    return crontab(
        minute=f.get("minute", "*"), hour=f.get("hour", "*"),
        day_of_week=f.get("dayOfWeek", "*"), day_of_month=f.get("dayOfMonth", "*"),
        month_of_year=f.get("monthOfYear", "*"), nowfun=nowfun, app=app)


def pairs(job):
    app = app_for(job.get("tz"))
    clock = [None]
    sched = make(job["schedule"], app, clock)
    out = []
    for last, now in job["pairs"]:
        clock[0] = at(now, app)
        try:
            due, nxt = sched.is_due(at(last, app))
            out.append({"isDue": bool(due), "next": nxt})
        except Exception as exc:  # noqa: BLE001
            out.append({"error": f"{type(exc).__name__}: {exc}"})
    return out


def run(job):
    app = app_for(job.get("tz"))
    clock = [at(job["start"], app)]
    sched = make(job["schedule"], app, clock)
    end = at(job["end"], app)
    cap = timedelta(seconds=job["maxInterval"])
    last = clock[0]
    fires = []
    while clock[0] < end:
        due, nxt = sched.is_due(last)
        if due:
            fires.append(round(clock[0].timestamp() * 1000))
            last = clock[0]
        step = min(timedelta(seconds=nxt), cap)
        clock[0] = (clock[0] + step).astimezone(app.timezone)
    return fires


FIELD_RANGES = {"minute": (60, 0), "hour": (24, 0), "dayOfWeek": (7, 0),
                "dayOfMonth": (31, 1), "monthOfYear": (12, 1)}


def parse(job):
    try:
        return sorted(crontab._expand_cronspec(job["value"], *FIELD_RANGES[job["field"]]))
    except Exception as exc:  # noqa: BLE001
        return {"error": f"{type(exc).__name__}: {exc}"}


MODES = {"pairs": pairs, "run": run, "parse": parse}
print(json.dumps([MODES[j["mode"]](j) for j in json.load(sys.stdin)]))
