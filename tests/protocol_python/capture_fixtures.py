"""Regenerates the golden protocol fixtures in tests/fixtures/protocol/.

Run with the interpreter that has Celery 5.2.6 (Debian's python3-celery):

    cd tests/protocol_python && /usr/bin/python3 capture_fixtures.py

Task messages are published by a real Celery client to Redis under a unique
global key prefix (no worker running) and read back raw with LRANGE; one is
also read from RabbitMQ with basic_get on a unique queue. Result documents are
written by a real `celery worker -P solo` into the Redis result backend under
unique task ids. Everything the capture creates is deleted afterwards.

This module is also the worker's app (`-A capture_fixtures`); the key prefix
comes from the CELERIAC_CAPTURE_PREFIX environment variable.
"""
import base64
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid

from celery import Celery, chain, chord, group

REDIS = os.environ.get("CELERIAC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP = os.environ.get("CELERIAC_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
PREFIX = os.environ.get("CELERIAC_CAPTURE_PREFIX") or f"celeriac-capture-{uuid.uuid4().hex[:8]}:"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "protocol")
UTC = dt.timezone.utc
GROUP_IDS = set()

app = Celery("capture", broker=REDIS, backend=REDIS)
app.conf.update(
    broker_transport_options={"global_keyprefix": PREFIX},
    worker_enable_remote_control=False,
    worker_hijack_root_logger=False,
)


@app.task(name="tasks.add")
def add(x, y):
    return x + y


@app.task(name="tasks.echo")
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@app.task(name="tasks.tsum")
def tsum(values):
    return sum(values)


@app.task(name="tasks.fail")
def fail(*args):
    raise ValueError("boom", 42)


@app.task(name="tasks.flaky", bind=True, max_retries=1)
def flaky(self):
    raise self.retry(exc=KeyError("later"), countdown=3600)


def versions():
    import celery
    import kombu

    return {"celery": celery.__version__, "kombu": kombu.__version__,
            "python": sys.version.split()[0]}


def write(name, data):
    data = {"fixture": name, "captured_with": versions(), **data}
    with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
    print("wrote", name)


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS)


def drain(client, queue="celery"):
    """Raw envelopes on the queue's priority lists, oldest first (kombu LPUSHes, workers BRPOP)."""
    envelopes = []
    for suffix in ("", "\x06\x163", "\x06\x166", "\x06\x169"):
        key = PREFIX + queue + suffix
        for item in reversed(client.lrange(key, 0, -1)):
            env = json.loads(item)
            env["body_text"] = base64.b64decode(env["body"]).decode("utf-8")
            env["redis_list"] = queue + suffix
            if env["headers"].get("group"):
                GROUP_IDS.add(env["headers"]["group"])
            envelopes.append(env)
        client.delete(key)
    return envelopes


def now_iso():
    return dt.datetime.now(UTC).isoformat()


def capture_messages(client):
    cases = []

    def case(name, call_text, send, **extra):
        before = now_iso()
        result = send()
        after = now_iso()
        cases.append((name, call_text, before, after, result, extra))
        write("message_" + name, {
            "python_call": call_text, "sent_between": [before, after],
            "result_id": result.id, **extra, "messages": drain(client),
        })

    case("plain_add", "add.apply_async((2, 3), task_id='55555555-5555-4555-8555-555555555555')",
         lambda: add.apply_async((2, 3), task_id="55555555-5555-4555-8555-555555555555"))
    case("countdown_expires_priority_headers",
         "add.apply_async((2, 3), countdown=10, expires=60, priority=7, "
         "headers={'x-custom': 'hello', 'x-number': 1, 'x-list': [1, 'a']})",
         lambda: add.apply_async((2, 3), countdown=10, expires=60, priority=7,
                                 headers={"x-custom": "hello", "x-number": 1, "x-list": [1, "a"]}))
    case("explicit_eta_expires",
         "add.apply_async((2, 3), eta=datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=utc), "
         "expires=datetime(2030, 1, 2, 4, 0, 0, tzinfo=utc))",
         lambda: add.apply_async((2, 3), eta=dt.datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
                                 expires=dt.datetime(2030, 1, 2, 4, 0, 0, tzinfo=UTC)))
    case("naive_eta", "add.apply_async((2, 3), eta=datetime(2030, 1, 2, 3, 4, 5))",
         lambda: add.apply_async((2, 3), eta=dt.datetime(2030, 1, 2, 3, 4, 5)))
    case("kwargs",
         "echo.apply_async(args=[1], kwargs={'a': 1, 'b': [1, 2], 'c': {'d': None}, 'e': 1.5})",
         lambda: echo.apply_async(args=[1], kwargs={"a": 1, "b": [1, 2], "c": {"d": None}, "e": 1.5}))
    case("link_timelimits",
         "add.apply_async((1, 2), link=add.s(10), link_error=echo.s('err'), "
         "time_limit=60, soft_time_limit=50)",
         lambda: add.apply_async((1, 2), link=add.s(10), link_error=echo.s("err"),
                                 time_limit=60, soft_time_limit=50))
    case("workflow_fields",
         "add.apply_async((1, 2), retries=3, root_id=R, parent_id=P, shadow='add-alias', "
         "ignore_result=True, group_id=G, group_index=4)",
         lambda: add.apply_async((1, 2), retries=3, root_id="77777777-0000-4000-8000-000000000001",
                                 parent_id="77777777-0000-4000-8000-000000000002",
                                 shadow="add-alias", ignore_result=True,
                                 group_id="77777777-0000-4000-8000-000000000003", group_index=4))
    case("unicode_args",
         "echo.apply_async(('ü€😀', '日本語', \"it's\", 'a\\nb', 'tab\\there'), "
         "kwargs={'ключ': 'значение', 'emoji': '🎉'})",
         lambda: echo.apply_async(("ü€😀", "日本語", "it's", "a\nb", "tab\there"),
                                  kwargs={"ключ": "значение", "emoji": "🎉"}))
    case("chain", "chain(add.s(1, 2), add.s(3), add.s(4)).apply_async()",
         lambda: chain(add.s(1, 2), add.s(3), add.s(4)).apply_async())
    case("group", "group(add.s(1, 1), add.s(2, 2)).apply_async()",
         lambda: group(add.s(1, 1), add.s(2, 2)).apply_async())
    case("chord", "chord([add.s(1, 1), add.s(2, 2)], tsum.s()).apply_async()",
         lambda: chord([add.s(1, 1), add.s(2, 2)], tsum.s()).apply_async())
    case("nested_canvas",
         "chain(add.s(1, 2), chord([add.s(3), add.s(4)], tsum.s())).apply_async(); "
         "link=group(echo.si('a'), echo.si('b'))",
         lambda: chain(add.s(1, 2), chord([add.s(3), add.s(4)], tsum.s())).apply_async(
             link=group(echo.si("a"), echo.si("b"))))
    return cases


def capture_amqp():
    """Plain add.apply_async((2, 3)) read from RabbitMQ with basic_get (properties as py-amqp sees them)."""
    import amqp

    queue = f"celeriac-capture-{uuid.uuid4().hex[:8]}"
    amqp_app = Celery("capture_amqp", broker=AMQP)
    amqp_app.conf.task_default_queue = queue
    amqp_app.send_task("tasks.add", (2, 3), task_id="66666666-6666-4666-8666-666666666666")
    conn = amqp.Connection("127.0.0.1:5672", userid="guest", password="guest")
    conn.connect()
    ch = conn.channel()
    try:
        msg = None
        for _ in range(50):
            msg = ch.basic_get(queue, no_ack=True)
            if msg:
                break
            time.sleep(0.05)
        props = dict(msg.properties)
        write("message_amqp_plain_add", {
            "python_call": "send_task('tasks.add', (2, 3)) with an amqp:// broker, read by basic_get",
            "delivery_info": {k: msg.delivery_info[k] for k in ("exchange", "routing_key")},
            "properties": props,
            "body_text": msg.body if isinstance(msg.body, str) else msg.body.decode("utf-8"),
        })
    finally:
        ch.queue_delete(queue)
        ch.exchange_delete(queue)
        conn.close()


def start_worker():
    env = dict(os.environ, CELERIAC_CAPTURE_PREFIX=PREFIX)
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "capture_fixtures", "worker", "-P", "solo",
         "-n", f"capture-{uuid.uuid4().hex[:6]}@%h", "--without-heartbeat", "--without-gossip",
         "--without-mingle", "-l", "warning"],
        cwd=HERE, env=env,
    )


def capture_results(client):
    """Result documents written by a real worker; returns when every expected state is stored."""
    past = dt.datetime.now(UTC) - dt.timedelta(minutes=5)
    ids = {name: f"eeeeeeee-{uuid.uuid4().hex[:4]}-4000-8000-{uuid.uuid4().hex[:12]}"
           for name in ("success", "failure", "not_registered", "revoked_expired", "retry")}
    sends = {
        "success": ("add.apply_async((2, 3))", "SUCCESS",
                    lambda i: add.apply_async((2, 3), task_id=i)),
        "failure": ("fail.apply_async() raising ValueError('boom', 42)", "FAILURE",
                    lambda i: fail.apply_async(task_id=i)),
        "not_registered": ("app.send_task('tasks.nope', (1,))", "FAILURE",
                           lambda i: app.send_task("tasks.nope", (1,), task_id=i)),
        "revoked_expired": ("add.apply_async((1, 1), expires=<5 minutes ago>)", "REVOKED",
                            lambda i: add.apply_async((1, 1), task_id=i, expires=past)),
        "retry": ("flaky: self.retry(exc=KeyError('later'), countdown=3600)", "RETRY",
                  lambda i: flaky.apply_async(task_id=i)),
    }
    worker = start_worker()
    try:
        for name, (_, _, send) in sends.items():
            send(ids[name])
        deadline = time.time() + 60
        raw = {}
        while time.time() < deadline and len(raw) < len(ids):
            for name, task_id in ids.items():
                value = client.get("celery-task-meta-" + task_id)
                if value and json.loads(value)["status"] == sends[name][1]:
                    raw[name] = value.decode("utf-8")
            time.sleep(0.2)
        if len(raw) < len(ids):
            raise SystemExit(f"worker stored only {sorted(raw)}")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        for task_id in ids.values():
            client.delete("celery-task-meta-" + task_id)
    for name, (call_text, state, _) in sends.items():
        write("result_" + name, {
            "python_call": call_text, "state": state, "task_id": ids[name],
            "key": "celery-task-meta-" + ids[name], "raw": raw[name],
        })


def cleanup(client, group_ids):
    for key in client.scan_iter(match=PREFIX + "*"):
        client.delete(key)
    for gid in group_ids:
        for key in client.scan_iter(match=f"celery-taskset-meta-{gid}*"):
            client.delete(key)


def main():
    os.makedirs(OUT, exist_ok=True)
    client = redis_client()
    try:
        capture_messages(client)
        capture_amqp()
        capture_results(client)
    finally:
        cleanup(client, GROUP_IDS)
        left = list(client.scan_iter(match=PREFIX + "*"))
        if left:
            print("WARNING: keys left behind:", left)


if __name__ == "__main__":
    main()
