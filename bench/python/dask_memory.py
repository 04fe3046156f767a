"""Anchor for P10: Dask distributed on the memory job, with the same memory_limit per worker.

The job makes `blocks` results of `block_bytes` each (3 x the cluster's memory limit), waits until
they are all held (in memory or spilled), then reduces each to a number and sums them. It runs
once with `memory_limit` per worker and once with no limit (memory_limit=0). A run that does not
finish within `timeout_s` (a worker paused for good, or restarted in a loop) is reported as an
error, with how far it got.
Usage: python3 dask_memory.py '{"workers": 2, "memory_limit": 4e8, "blocks": 150, "block_bytes": 16777216, ...}'
"""
import logging
import shutil
import tempfile
import time

from common import config, emit


def make_block(i, n):
    return bytes([i & 0xFF]) * n


def reduce_block(b):
    return b[0] + b[len(b) >> 1] + len(b)


def run_once(c, limit):
    from distributed import Client, LocalCluster, wait

    local = tempfile.mkdtemp(prefix="dask-p10-")
    cluster = LocalCluster(
        n_workers=c["workers"],
        threads_per_worker=1,
        processes=True,
        memory_limit=limit,
        dashboard_address=None,
        local_directory=local,
        silence_logs=logging.CRITICAL,
    )
    client = Client(cluster)
    try:
        client.wait_for_workers(c["workers"])
        client.gather(client.map(reduce_block, [make_block(i, 8) for i in range(4)], pure=False))
        t0 = time.perf_counter()
        n = c["block_bytes"]
        blocks = [client.submit(make_block, i, n, pure=False) for i in range(c["blocks"])]
        wait(blocks, timeout=c["timeout_s"])
        parts = client.gather([client.submit(reduce_block, b, pure=False) for b in blocks])
        seconds = time.perf_counter() - t0
        expected = sum(2 * (i & 0xFF) + n for i in range(c["blocks"]))
        if sum(parts) != expected:
            raise RuntimeError(f"the reduction gave {sum(parts)}, not {expected}")
        return seconds
    finally:
        client.close()
        cluster.close()
        shutil.rmtree(local, ignore_errors=True)


def main():
    import distributed

    c = config()
    for limit in (c["memory_limit"], 0):
        label = f"memory_limit {limit / 1e6:.0f}MB" if limit else "no limit"
        system = f"Dask {distributed.__version__} LocalCluster {c['workers']}x1 · {label}"
        runs = []
        try:
            for _ in range(c["runs"]):
                runs.append(run_once(c, limit))
            emit(type="measurement", scenario="P10", system=system, method=c["what"], metric="makespan",
                 unit="s", better="lower", runs=runs, note="from the first submit to the reduced sum")
        except Exception as e:  # noqa: BLE001 - reported to the harness, which continues
            emit(type="error", scenario="P10", system=system, error=f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
