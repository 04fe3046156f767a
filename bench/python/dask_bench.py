"""Anchor: Dask distributed, LocalCluster(n_workers=2, threads_per_worker=1, processes=True).

P1: sequential client.submit(inc, i).result(). P2: client.map(inc, range(n)) + client.gather.
Usage: python3 dask_bench.py '{"only": ["P1","P2"], "runs": 3, "ns": [10000, 20000], "round_trips": 200}'
"""
import logging
import time

from common import config, emit, guarded, round_trip, series


def inc(x):
    return x + 1


def main():
    c = config()
    only = set(c.get("only", ["P1", "P2"]))
    runs = c.get("runs", 3)
    ns = c.get("ns", [10_000, 20_000])
    cap = c.get("cap_s", 60)
    rt = c.get("round_trips", 200)

    import distributed
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    client.wait_for_workers(2)
    emit(type="info", dask=distributed.__version__, startup_ms=(time.perf_counter() - t0) * 1000)
    system = "Dask LocalCluster 2×1"
    try:
        client.gather(client.map(inc, range(100), pure=False))
        if "P1" in only:
            guarded("P1", system,
                    lambda: round_trip("P1", system, runs, rt, lambda i: client.submit(inc, i, pure=False).result()))
        if "P2" in only:
            def run(n):
                futures = client.map(inc, range(n), pure=False)
                total = sum(client.gather(futures))
                del futures
                if total != n * (n + 1) // 2:
                    raise RuntimeError("wrong results")

            guarded("P2", system, lambda: series("P2", system, "map + gather", ns, runs, cap, run))
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
