"""Python Celery's own event receiver, for interop tests.

Prints ``READY`` once consuming, then every event Celery's
``app.events.Receiver`` delivers, one JSON object per line, until each
wanted event was seen or the time is up.

Usage: events_capture.py <seconds> '<JSON list of [type, field, value]>'
(an event matches when its ``type`` is ``type`` and its ``field`` equals ``value``).
"""
import json
import sys

from celery_app import app


def main():
    seconds = float(sys.argv[1])
    wanted = [tuple(item) for item in json.loads(sys.argv[2])]
    seen = set()

    with app.connection() as connection:
        receiver = None

        def on_event(event):
            print(json.dumps(event), flush=True)
            for index, (kind, field, value) in enumerate(wanted):
                if event.get("type") == kind and event.get(field) == value:
                    seen.add(index)
            if len(seen) == len(wanted):
                receiver.should_stop = True

        receiver = app.events.Receiver(connection, handlers={"*": on_event})
        ready = receiver.on_consume_ready

        def on_consume_ready(*args, **kwargs):
            ready(*args, **kwargs)
            print("READY", flush=True)

        receiver.on_consume_ready = on_consume_ready
        receiver.capture(limit=None, timeout=seconds, wakeup=True)
    sys.exit(0 if len(seen) == len(wanted) else 3)


if __name__ == "__main__":
    main()
