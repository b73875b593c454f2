"""Python Celery 5.2.6 canvas workloads for the benchmark; prints one JSON line.

  bench_canvas.py N RUNS   a warm-up chord of 10, then RUNS times: a group of N
                           bench.add and a chord of N bench.add into bench.xsum,
                           each timed from apply_async to the final result (ms)
"""
import json
import sys
import time

from celery import chord, group

from bench_app import add, xsum


def timed(make, expect):
    started = time.perf_counter()
    value = make().get(timeout=600)
    elapsed = (time.perf_counter() - started) * 1000
    assert value == expect, value
    return elapsed


if __name__ == "__main__":
    count, runs = int(sys.argv[1]), int(sys.argv[2])
    chord([add.s(i, i) for i in range(10)], xsum.s())().get(timeout=60)
    values = [2 * i for i in range(count)]
    out = {"group": [], "chord": []}
    for _ in range(runs):
        out["group"].append(timed(lambda: group(add.s(i, i) for i in range(count))(), values))
        out["chord"].append(
            timed(lambda: chord([add.s(i, i) for i in range(count)], xsum.s())(), sum(values)))
    print(json.dumps(out))
