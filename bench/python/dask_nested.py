"""Anchor for P8: Dask distributed on the nested fan-out tree, with worker_client (which secedes).

A tree branching `branching`, `depth` levels below the root; leaves sleep `leaf_ms`. Each inner
task submits its children from inside the task through `worker_client()` and gathers them; the
context manager secedes the task from its thread while it waits, and rejoins after, so the tree
does not deadlock on threads. A fresh LocalCluster (processes, `workers` × `procs` threads) per
run; run 0 warms up. Prints the makespan against the lower bound (leaves × leaf_ms / slots).
Usage: python3 dask_nested.py '{"runs": 3, "branching": 10, "depth": 4, ...}'
"""
import logging
import time

from common import config, emit


def node(depth, branching, leaf_ms):
    if depth == 0:
        time.sleep(leaf_ms / 1000)
        return 1
    from distributed import worker_client

    with worker_client() as client:
        futures = [client.submit(node, depth - 1, branching, leaf_ms, pure=False) for _ in range(branching)]
        return sum(client.gather(futures))


def main():
    from distributed import Client, LocalCluster

    c = config()
    runs = c.get("runs", 3)
    ratios = []
    makespans = []
    expected = c["branching"] ** c["depth"]
    system = f"Dask LocalCluster {c['workers']}×{c['procs']} (worker_client)"
    try:
        for r in range(runs + 1):
            cluster = LocalCluster(n_workers=c["workers"], threads_per_worker=c["procs"], processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
            try:
                client.submit(node, 1, c["workers"] * c["procs"], 0, pure=False).result()
                t0 = time.perf_counter()
                leaves = client.submit(node, c["depth"], c["branching"], c["leaf_ms"], pure=False).result()
                ms = (time.perf_counter() - t0) * 1000
                if leaves != expected:
                    raise RuntimeError(f"the tree counted {leaves} leaves, not {expected}")
                if r > 0:
                    makespans.append(ms)
                    ratios.append(ms / c["lower_bound_ms"])
            finally:
                client.close()
                cluster.close()
        emit(type="measurement", scenario="P8", system=system, method=c["method"],
             metric="makespan / lower bound", unit="×", better="lower", runs=ratios,
             note=f"makespans {', '.join(str(round(m)) for m in makespans)} ms; lower bound {c['lower_bound_ms']} ms")
    except Exception as e:  # noqa: BLE001 - reported to the harness, which continues
        emit(type="error", scenario="P8", system=system, error=f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
