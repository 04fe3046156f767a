"""Anchor: Python's concurrent.futures ProcessPoolExecutor and ThreadPoolExecutor.

P1 round trip, P2 throughput (submit-all then wait; map with chunksize), P3 CPU scaling.
Usage: python3 pools.py '{"only": ["P1","P2","P3"], "runs": 3, "ns": [...], ...}'
"""
import concurrent.futures as cf
import time

from common import config, emit, guarded, round_trip, series


def inc(x):
    return x + 1


def cpu_heavy(n):
    s = 0
    for i in range(n):
        s += i
    return s


def submit_all(ex, n):
    fs = [ex.submit(inc, i) for i in range(n)]
    total = sum(f.result() for f in fs)
    if total != n * (n + 1) // 2:
        raise RuntimeError("wrong results")


def mapped(ex, n, chunksize):
    total = sum(ex.map(inc, range(n), chunksize=chunksize))
    if total != n * (n + 1) // 2:
        raise RuntimeError("wrong results")


def calibrate(task_ms):
    """Iterations of cpu_heavy that take about task_ms here."""
    n = 100_000
    while True:
        t0 = time.perf_counter()
        cpu_heavy(n)
        ms = (time.perf_counter() - t0) * 1000
        if ms > 20:
            return max(1, int(n * task_ms / ms))
        n *= 4


def main():
    c = config()
    only = set(c.get("only", ["P1", "P2", "P3"]))
    runs = c.get("runs", 3)
    ns = c.get("ns", [10_000, 100_000])
    cap = c.get("cap_s", 60)
    rt = c.get("round_trips", 2000)
    workers = c.get("workers", 2)
    proc_name = f"Python ProcessPoolExecutor({workers})"
    thread_name = f"Python ThreadPoolExecutor({workers})"

    with cf.ProcessPoolExecutor(workers) as ex:
        # Start the processes before measuring.
        list(ex.map(inc, range(workers * 4)))
        if "P1" in only:
            guarded("P1", proc_name, lambda: round_trip("P1", proc_name, runs, rt, lambda i: ex.submit(inc, i).result()))
        if "P2" in only:
            guarded("P2", proc_name, lambda: series("P2", proc_name, "submit-all", ns, runs, cap, lambda n: submit_all(ex, n)))
            guarded("P2", proc_name, lambda: series("P2", proc_name, "map chunksize=100", ns, runs, cap,
                                                    lambda n: mapped(ex, n, 100)))
    with cf.ThreadPoolExecutor(workers) as ex:
        if "P1" in only:
            guarded("P1", thread_name, lambda: round_trip("P1", thread_name, runs, rt, lambda i: ex.submit(inc, i).result()))
        if "P2" in only:
            guarded("P2", thread_name, lambda: series("P2", thread_name, "submit-all", ns, runs, cap,
                                                      lambda n: submit_all(ex, n)))
            guarded("P2", thread_name, lambda: series("P2", thread_name, "map", ns, runs, cap, lambda n: mapped(ex, n, 1)))

    if "P3" in only:
        guarded("P3", "Python ProcessPoolExecutor", lambda: cpu_scaling(c, runs))


def cpu_scaling(c, runs):
    """1 vs 2 processes, both pools open, runs alternating so that outside load hits both alike."""
    tasks = c.get("cpu_tasks", 8)
    iterations = calibrate(c.get("cpu_task_ms", 250))
    times = {1: [], 2: []}
    with cf.ProcessPoolExecutor(1) as one, cf.ProcessPoolExecutor(2) as two:
        pools = {1: one, 2: two}
        for ex in pools.values():
            list(ex.map(inc, range(4)))
        for _ in range(runs):
            for procs, ex in pools.items():
                t0 = time.perf_counter()
                list(ex.map(cpu_heavy, [iterations] * tasks))
                times[procs].append(time.perf_counter() - t0)
    system = "Python ProcessPoolExecutor"
    note = f"{tasks} tasks of cpu_heavy({iterations:.1e}), about {c.get('cpu_task_ms', 250)} ms each (calibrated for Python)"
    for procs in (1, 2):
        emit(type="measurement", scenario="P3", system=system, method=f"{procs} process{'es' if procs > 1 else ''}",
             metric="elapsed", unit="ms", better="lower", runs=[s * 1000 for s in times[procs]], note=note)
    speedups = [a / b for a, b in zip(times[1], times[2])]
    emit(type="measurement", scenario="P3", system=system, method="1 → 2 processes", metric="speedup", unit="×",
         better="higher", runs=speedups, note=note)
    emit(type="measurement", scenario="P3", system=system, method="1 → 2 processes", metric="efficiency", unit="%",
         better="higher", runs=[s / 2 * 100 for s in speedups], note=note)


if __name__ == "__main__":
    main()
