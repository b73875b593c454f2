"""Python Celery 5.2.6 client workloads for the benchmark; prints one JSON line.

  bench_client.py enqueue N    publish N with add.delay(); ms until the broker holds N
  bench_client.py roundtrip N  20 warm-up round trips, then N delay()s and N get()s; ms
  bench_client.py latency N    N sequential delay().get(); a list of ms
"""
import json
import sys
import time

from bench_app import add, app


def queued(channel, redis, queue):
    if redis:
        return channel.client.llen(queue)
    return channel.queue_declare(queue, passive=True).message_count


def enqueue(count):
    queue = app.conf.task_default_queue
    conn = app.connection_for_write()
    channel = conn.default_channel
    redis = conn.transport.driver_type == "redis"
    started = time.perf_counter()
    for i in range(count):
        add.delay(i, i)
    while queued(channel, redis, queue) < count:
        time.sleep(0.005)
    conn.release()
    return (time.perf_counter() - started) * 1000


def roundtrip(count):
    for i in range(20):
        add.delay(i, i).get(timeout=60)
    started = time.perf_counter()
    results = [add.delay(i, i) for i in range(count)]
    for result in results:
        result.get(timeout=300)
    return (time.perf_counter() - started) * 1000


def latency(count):
    samples = []
    for i in range(count + 20):
        started = time.perf_counter()
        add.delay(i, i).get(timeout=60)
        if i >= 20:
            samples.append((time.perf_counter() - started) * 1000)
    return samples


if __name__ == "__main__":
    command, count = sys.argv[1], int(sys.argv[2])
    value = {"enqueue": enqueue, "roundtrip": roundtrip, "latency": latency}[command](count)
    print(json.dumps({command: value}))
