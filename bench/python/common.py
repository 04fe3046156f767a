"""Shared helpers of the Python anchors: JSON-lines output and order statistics.

Every script takes one argument, its configuration: JSON, or `@path` of a file holding it (the
bench passes a file, as a configuration may be longer than one argument may be), and prints one
JSON object per line:
  {"type": "measurement", "scenario", "system", "method", "metric", "unit", "better", "n"?, "runs", "p99"?}
  {"type": "skip", "scenario", "system", "method", "n"?, "reason"}
  {"type": "error", "scenario", "system", "error"}
  {"type": "info", ...}
"""
import json
import math
import sys
import time


def emit(**record):
    print(json.dumps(record), flush=True)


def config():
    if len(sys.argv) < 2:
        return {}
    arg = sys.argv[1]
    if arg.startswith("@"):
        with open(arg[1:], encoding="utf-8") as f:
            return json.load(f)
    return json.loads(arg)


def median(values):
    s = sorted(values)
    n = len(s)
    if n == 0:
        return float("nan")
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def p99(values):
    s = sorted(values)
    if not s:
        return float("nan")
    rank = min(len(s) - 1, max(0, math.ceil(0.99 * len(s)) - 1))
    return s[rank]


def round_trip(scenario, system, runs, count, call):
    """runs x count sequential calls after a warm-up; median of run medians, p99 of all. ms."""
    for i in range(max(10, count // 5)):
        call(i)
    medians, every = [], []
    for _ in range(runs):
        samples = []
        for i in range(count):
            t0 = time.perf_counter()
            call(i)
            samples.append((time.perf_counter() - t0) * 1000)
        medians.append(median(samples))
        every.extend(samples)
    emit(type="measurement", scenario=scenario, system=system, method="sequential", metric="round trip",
         unit="ms", better="lower", runs=medians, p99=p99(every), n=count)


def series(scenario, system, method, ns, runs, cap_s, run, note=None):
    """Throughput at each n (tasks/s); a size projected past cap_s seconds per run is skipped."""
    run(min(ns[0], 1000))  # warm-up
    rate = None
    for n in ns:
        if rate is not None and n / rate > cap_s:
            emit(type="skip", scenario=scenario, system=system, method=method, n=n,
                 reason=f"capped: ~{round(n / rate)} s per run projected, cap {cap_s} s")
            continue
        rates = []
        for _ in range(runs):
            t0 = time.perf_counter()
            run(n)
            rates.append(n / (time.perf_counter() - t0))
        rate = median(rates)
        record = dict(type="measurement", scenario=scenario, system=system, method=method, metric="throughput",
                      unit="tasks/s", better="higher", runs=rates, n=n)
        if note:
            record["note"] = note
        emit(**record)


def guarded(scenario, system, body):
    try:
        body()
    except Exception as e:  # noqa: BLE001 - reported to the harness, which continues
        emit(type="error", scenario=scenario, system=system, error=f"{type(e).__name__}: {e}")
