"""Anchor for P4: Dask distributed's makespan on the scheduling scenarios, with sleeping tasks.

Each scenario gives workers (id, procs, speed, joinAtMs) and tasks (durationMs) in submission
order. A task sleeps durationMs / speed(worker) milliseconds, times `scale`. Every run starts a
fresh cluster (Nanny processes, one per worker, nthreads = procs), so duration estimates start
cold each time, as they do for a new Dask deployment.
Prints per run: makespan (ms, from the first submit to the last result) and the times workers
actually joined (process start-up delays a join).
Usage: python3 dask_makespan.py '{"scenarios": [...], "scale": 1, "runs": 3}'
"""
import logging
import time

from common import config, emit


def work(ms, speeds):
    from distributed import get_worker

    name = str(get_worker().name)
    time.sleep(ms / 1000 / speeds.get(name, 1.0))
    return ms


def run_once(scenario, scale):
    from distributed import Client, Nanny, Scheduler, SpecCluster

    workers = scenario["workers"]
    initial = [w for w in workers if w.get("joinAtMs", 0) <= 0]
    later = sorted((w for w in workers if w.get("joinAtMs", 0) > 0), key=lambda w: w["joinAtMs"])
    spec = {w["id"]: {"cls": Nanny, "options": {"nthreads": w["procs"], "name": w["id"]}} for w in initial}
    cluster = SpecCluster(workers=spec, scheduler={"cls": Scheduler, "options": {"dashboard_address": None}},
                          silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        client.wait_for_workers(len(initial))
        speeds = {w["id"]: float(w.get("speed", 1)) for w in workers}
        # Import `work` on every worker before the clock starts.
        client.gather(client.map(work, [0] * len(initial) * 2, speeds=speeds, pure=False))
        t0 = time.perf_counter()
        futures = [client.submit(work, t["durationMs"] * scale, speeds, pure=False) for t in scenario["tasks"]]
        joined = {}
        for w in later:
            wait = w["joinAtMs"] * scale / 1000 - (time.perf_counter() - t0)
            if wait > 0:
                time.sleep(wait)
            cluster.worker_spec[w["id"]] = {"cls": Nanny, "options": {"nthreads": w["procs"], "name": w["id"]}}
            cluster.loop.add_callback(cluster._correct_state)
            while w["id"] not in {str(v.get("name")) for v in client.scheduler_info()["workers"].values()}:
                time.sleep(0.005)
            joined[w["id"]] = (time.perf_counter() - t0) * 1000
        client.gather(futures)
        makespan = (time.perf_counter() - t0) * 1000
        return makespan, joined
    finally:
        client.close()
        cluster.close()


def main():
    c = config()
    scale = c.get("scale", 1)
    runs = c.get("runs", 3)
    for scenario in c["scenarios"]:
        try:
            for r in range(runs):
                makespan, joined = run_once(scenario, scale)
                emit(type="makespan", scenario=scenario["name"], run=r, makespanMs=makespan, joinedAtMs=joined,
                     scale=scale)
        except Exception as e:  # noqa: BLE001 - reported to the harness, which continues
            emit(type="error", scenario="P4", system=f"Dask · {scenario['name']}", error=f"{type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
